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

    The failures are kept in MongoDB (``login_failures``), not in the process: a restart
    does not wipe an attacker's count, and made-up accounts or addresses by the thousand
    cost documents that expire with the window, not memory that stays (the in-process
    version kept an entry for every key ever tried, failed or merely checked).
    """

    def __init__(self, limit: int, window: timedelta = timedelta(minutes=15)) -> None:
        self.limit, self.window = limit, window

    async def blocked(self, failures: LoginFailureRepository, now: datetime, *keys: str) -> bool:
        counts = await failures.counts_since(keys, now - self.window)
        return any(counts.get(key, 0) >= self.limit for key in keys)

    async def failed(self, failures: LoginFailureRepository, now: datetime, *keys: str) -> None:
        # ``at`` on the product's clock, which counts the window; the TTL monitor reads the wall clock
        await failures.record(keys, at=now, expires_at=utcnow() + self.window)

    async def succeeded(self, failures: LoginFailureRepository, *keys: str) -> None:
        await failures.clear(keys)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
