"""Rasa's Mongo tracker store, made to fail fast when MongoDB is away.

Rasa's store uses a synchronous pymongo client inside the server's event loop:
with pymongo's default 30 s server selection, one message during a MongoDB
restart would freeze every conversation for 30 s. With short timeouts the
message fails within about a second, the channel answers with a polite
"try again" (``bot.fallback``), and pymongo reconnects by itself once MongoDB is back.

Reading and writing are Rasa's own; only the public ``retrieve``, ``retrieve_full_tracker``
and ``save`` are wrapped, to turn a driver error into ``ConversationStoreUnavailable``.
"""

from __future__ import annotations

from typing import Any, Awaitable, Optional, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import MongoTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker

from carecore.repository import DatabaseError

DEFAULT_TIMEOUT_MS = 1000
T = TypeVar("T")


def with_timeouts(uri: str, timeout_ms: int) -> str:
    """The URI with server-selection, connect and socket timeouts, unless it sets them itself."""
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    for name, value in (("serverSelectionTimeoutMS", timeout_ms), ("connectTimeoutMS", timeout_ms),
                        ("socketTimeoutMS", timeout_ms * 5)):
        options.setdefault(name, str(value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(options), parts.fragment))


class ConversationStoreUnavailable(BaseException):
    """MongoDB did not answer for a conversation.

    A ``BaseException`` on purpose: Rasa wraps every tracker store in a
    ``FailSafeTrackerStore`` that swallows ``Exception`` and carries on with an
    empty in-memory conversation. That would answer a verified customer as a
    stranger and lose what they say. This passes the wrapper and reaches the
    channel, which answers "please send it again" (``bot.fallback``).
    """


class FastFailMongoTrackerStore(MongoTrackerStore):
    def __init__(self, domain: Domain, host: Optional[str] = "mongodb://localhost:27017",
                 db: Optional[str] = "rasa", *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 event_broker: Optional[EventBroker] = None, **kwargs: Any) -> None:
        super().__init__(domain, host=with_timeouts(host or "mongodb://localhost:27017", int(timeout_ms)), db=db,
                         event_broker=event_broker, **kwargs)

    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        return await _or_unavailable(super().retrieve(sender_id))

    async def retrieve_full_tracker(self, conversation_id: str) -> Optional[DialogueStateTracker]:
        return await _or_unavailable(super().retrieve_full_tracker(conversation_id))

    async def save(self, tracker: DialogueStateTracker) -> None:
        await _or_unavailable(super().save(tracker))


async def _or_unavailable(call: Awaitable[T]) -> T:
    try:
        return await call
    except DatabaseError as exc:
        raise ConversationStoreUnavailable(str(exc)) from exc
