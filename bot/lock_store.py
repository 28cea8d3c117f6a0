"""Rasa's Redis lock store with its read-modify-writes made atomic, for several Rasa servers.

Rasa 3.6's ``RedisLockStore`` issues a ticket by reading the lock, appending a ticket and writing the
whole lock back. Two servers taking a message for the same conversation at the same moment both read
the same lock, both append ticket N and both write: each believes it holds ticket N, so both process
the conversation at once, and one's write loses the other's ticket. Finishing and expiring tickets
race the same way. Here each of those steps runs in a Redis ``WATCH``/``MULTI`` transaction, which
Redis retries when another writer changed the key in between.

Rasa's client is synchronous on the event loop, with a 10 s socket timeout by default: a hung Redis
would freeze every conversation. ``socket_timeout`` comes from ``endpoints.yml`` (0.5 s there), and
the connection attempt gets the same bound.

Configured by ``endpoints.yml`` (``LOCK_STORE_TYPE``, ``LOCK_STORE_URL``); the methods replaced here
are checked against Rasa's by ``bot.rasa_compat`` at start-up.
"""

from __future__ import annotations

import json
from typing import Any, Callable, Optional, Tuple, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

from carecore.redis_url import redis_options

T = TypeVar("T")
DEFAULT_TIMEOUT_S = 0.5


class AtomicRedisLockStore(RedisLockStore):
    """Every change to a conversation's lock is one Redis transaction."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, *, url: str = "",
                 socket_timeout: float = DEFAULT_TIMEOUT_S, key_prefix: Optional[str] = None) -> None:
        if endpoint_config is not None:
            url = endpoint_config.url or url
            socket_timeout = float(endpoint_config.kwargs.get("socket_timeout", socket_timeout))
            key_prefix = endpoint_config.kwargs.get("key_prefix", key_prefix)
        super().__init__(**redis_options(url), key_prefix=key_prefix, socket_timeout=socket_timeout)
        # Rasa's constructor bounds reads only; a connection attempt to an unreachable host would wait for the OS.
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = socket_timeout

    def _change(self, conversation_id: str,
                change: Callable[[Optional[TicketLock]], Tuple[T, Optional[TicketLock]]]) -> T:
        """Apply ``change`` to the stored lock atomically; it returns its result and the lock to keep (None: delete)."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            raw = pipe.get(key)
            result, lock = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
            pipe.multi()
            if lock is None:
                pipe.delete(key)
            else:
                pipe.set(key, lock.dumps())
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[int, Optional[TicketLock]]:
            lock = lock or self.create_lock(conversation_id)
            return lock.issue_ticket(lock_lifetime), lock

        try:
            return self._change(conversation_id, issue)
        except Exception as exc:  # Rasa's contract: any failure to take a ticket is a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{exc}") from exc

    def update_lock(self, conversation_id: str) -> None:
        def expire(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is not None:
                lock.remove_expired_tickets()
            return None, lock

        self._change(conversation_id, expire)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return None, lock

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish the ticket, and delete the lock in the same step if nobody else waits."""
        def finish(lock: Optional[TicketLock]) -> Tuple[None, Optional[TicketLock]]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return None, lock if lock.is_someone_waiting() else None

        self._change(conversation_id, finish)
