"""Who may use the console: a login rate limit and CSRF tokens (password hashes: ``carecore.passwords``).

Sessions live in encrypted, signed cookies (aiohttp-session with Fernet),
HttpOnly and SameSite=Lax. Every form carries the session's CSRF token, checked
on every POST.
"""

from __future__ import annotations

import hmac
import secrets
import time
from collections import defaultdict, deque
from typing import Callable, Deque, Dict


class LoginLimiter:
    """At most ``limit`` failed logins per key (account, address) in a sliding ``window_s``."""

    def __init__(self, limit: int, window_s: float = 900, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit, self.window_s, self._clock = limit, window_s, clock
        self._failures: Dict[str, Deque[float]] = defaultdict(deque)

    def _recent(self, key: str) -> Deque[float]:
        failures = self._failures[key]
        cutoff = self._clock() - self.window_s
        while failures and failures[0] < cutoff:
            failures.popleft()
        return failures

    def blocked(self, *keys: str) -> bool:
        return any(len(self._recent(key)) >= self.limit for key in keys)

    def failed(self, *keys: str) -> None:
        now = self._clock()
        for key in keys:
            self._recent(key).append(now)

    def succeeded(self, *keys: str) -> None:
        for key in keys:
            self._failures.pop(key, None)


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
