"""Attempts limited per key in a sliding window: failed console logins, anonymous chat sessions opened.

Kept in MongoDB, not the process: every replica sees the same count, a restart does not wipe an
attacker's, and made-up keys cost documents that expire with the window, not memory that stays.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from carecore.clock import utcnow
from carecore.repository import AttemptRepository


class WindowLimiter:
    """At most ``limit`` attempts per key in a sliding ``window``."""

    def __init__(self, limit: int, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit, self.window = limit, window

    async def admit(self, attempts: AttemptRepository, now: datetime, *keys: str) -> bool:
        """Count this attempt against every key before it is made; False if it is one too many for any.

        Recorded first, each attempt's count includes every attempt admitted before it, so parallel
        attempts cannot all pass the check; a refused attempt takes its record back, so trying on during
        a block does not prolong it.
        """
        # ``at`` on the product's clock, which counts the window; the TTL monitor reads the wall clock
        ids = await attempts.record(keys, at=now, expires_at=utcnow() + self.window)
        counts = await attempts.counts_since(keys, now - self.window)
        if any(counts.get(key, 0) > self.limit for key in keys):
            await attempts.remove(ids)
            return False
        return True

    async def clear(self, attempts: AttemptRepository, *keys: str) -> None:
        """Forget the keys' attempts (a right password ends the count of wrong ones)."""
        await attempts.clear(keys)
