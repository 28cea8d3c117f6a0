"""Who may use the console: a login rate limit and CSRF tokens (password hashes: ``carecore.passwords``).

Sessions live in encrypted, signed cookies (aiohttp-session with Fernet),
HttpOnly and SameSite=Lax. Every form carries the session's CSRF token, checked
on every POST.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta

from carecore.clock import utcnow
from carecore.repository import LoginFailureRepository


class LoginLimiter:
    """At most ``limit`` failed logins per key (account, address) in a sliding ``window``.

    Kept in MongoDB, not the process: a restart does not wipe an attacker's count, and made-up keys cost
    documents that expire with the window, not memory that stays.
    """

    def __init__(self, limit: int, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit, self.window = limit, window

    async def admit(self, failures: LoginFailureRepository, now: datetime, *keys: str) -> bool:
        """Count this attempt as a failure before its password is checked; False if it is one too many.

        Recorded first, each attempt's count includes every attempt admitted before it, so parallel
        attempts cannot all pass the check; a refused attempt takes its record back, so trying on during
        a block does not prolong it, and a right password clears the count (``succeeded``).
        """
        # ``at`` on the product's clock, which counts the window; the TTL monitor reads the wall clock
        ids = await failures.record(keys, at=now, expires_at=utcnow() + self.window)
        counts = await failures.counts_since(keys, now - self.window)
        if any(counts.get(key, 0) > self.limit for key in keys):
            await failures.remove(ids)
            return False
        return True

    async def succeeded(self, failures: LoginFailureRepository, *keys: str) -> None:
        await failures.clear(keys)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
