"""The lock store's Redis URL (``LOCK_STORE_URL``), read by the Rasa servers and the care service's metrics."""

from __future__ import annotations

from typing import Any, Dict
from urllib.parse import unquote, urlsplit


def redis_options(url: str) -> Dict[str, Any]:
    """Host, port, db and password of a ``redis://[:password@]host:port/db`` URL."""
    parts = urlsplit(url if "://" in url else f"redis://{url}")
    if parts.scheme not in ("redis", "rediss") or not parts.hostname:
        raise ValueError(f"lock store URL must look like redis://host:port/db, not {url!r}")
    db = parts.path.strip("/") or "1"
    if not db.isdigit():
        raise ValueError(f"lock store URL names database {db!r}; Redis databases are numbers")
    return {"host": parts.hostname, "port": parts.port or 6379, "db": int(db),
            "password": unquote(parts.password) if parts.password else None, "use_ssl": parts.scheme == "rediss"}
