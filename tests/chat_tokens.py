"""Chat channels for tests: the session key, a fixed clock, and tokens a client could forge or keep too long."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict

import jwt

from carecore.clock import FixedClock
from carecore.config import Settings

KEY = "test-chat-key-0123456789abcdef0123456789"
PORTAL_KEY = "portal-shared-secret-0123456789abcdef"
PORTAL_ISSUER = "https://portal.example.cn"
NOW = datetime(2026, 2, 28, 23, 30)


def settings(**overrides: Any) -> Settings:
    values = {"sender_id_secret": "test-sender-secret", "portal_jwt_key": PORTAL_KEY,
              "portal_jwt_issuer": PORTAL_ISSUER, **overrides}
    return Settings(**values)


def clock() -> FixedClock:
    return FixedClock(NOW)


def signed(claims: Dict[str, Any], key: str = KEY, algorithm: str = "HS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm)


def portal_token(sub: str, *, key: str = PORTAL_KEY, issuer: str = PORTAL_ISSUER, minutes: float = 10,
                 at: datetime = NOW) -> str:
    expires = FixedClock(at).now() + timedelta(minutes=minutes)
    return signed({"sub": sub, "iss": issuer, "exp": int(expires.timestamp())}, key)
