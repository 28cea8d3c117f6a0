"""The product's MongoDB as the Rasa server's channels reach it: one client per process, made on first use.

Made inside the server's event loop (motor binds to it), with a short server selection so a message
during a MongoDB outage fails in about a second and the channel answers "please send it again".
"""

from __future__ import annotations

from typing import Optional

from carecore.config import Settings
from carecore.repository import Database

_db: Optional[Database] = None


def database(settings: Settings) -> Database:
    global _db
    if _db is None:
        if not settings.mongodb_uri:
            raise RuntimeError("MONGODB_URI is not set")
        _db = Database.connect(settings.mongodb_uri, settings.mongodb_db, server_selection_timeout_ms=1000)
    return _db
