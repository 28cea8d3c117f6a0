"""Who may use the console: CSRF tokens (login limit: ``carecore.limits``; password hashes: ``carecore.passwords``).

Sessions live in encrypted, signed cookies (aiohttp-session with Fernet),
HttpOnly and SameSite=Lax. Every form carries the session's CSRF token, checked
on every POST.
"""

from __future__ import annotations

import hmac
import secrets


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_ok(expected: str | None, given: str | None) -> bool:
    return bool(expected and given) and hmac.compare_digest(str(expected), str(given))
