"""Rasa's Mongo tracker store, made to fail fast when MongoDB is away.

Rasa's store uses a synchronous pymongo client inside the server's event loop:
with pymongo's default 30 s server selection, one message during a MongoDB
restart would freeze every conversation for 30 s. With short timeouts the
message fails within about a second, the channel answers with a polite
"try again" (``bot.fallback``), and pymongo reconnects by itself once MongoDB is back.
"""

from __future__ import annotations

from typing import Any, Optional
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import MongoTrackerStore
from rasa.shared.core.domain import Domain

DEFAULT_TIMEOUT_MS = 1000


def with_timeouts(uri: str, timeout_ms: int) -> str:
    """The URI with server-selection, connect and socket timeouts, unless it sets them itself."""
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    for name, value in (("serverSelectionTimeoutMS", timeout_ms), ("connectTimeoutMS", timeout_ms),
                        ("socketTimeoutMS", timeout_ms * 5)):
        options.setdefault(name, str(value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(options), parts.fragment))


class FastFailMongoTrackerStore(MongoTrackerStore):
    def __init__(self, domain: Domain, host: Optional[str] = "mongodb://localhost:27017",
                 db: Optional[str] = "rasa", *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 event_broker: Optional[EventBroker] = None, **kwargs: Any) -> None:
        super().__init__(domain, host=with_timeouts(host or "mongodb://localhost:27017", int(timeout_ms)), db=db,
                         event_broker=event_broker, **kwargs)
