"""One-time codes that verify a customer, and failed console logins."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import Field

from carecore.model.base import E164_PATTERN, Model


class OtpChallenge(Model):
    """A one-time code sent to a registered mobile; only its salted hash is kept."""

    id: str = Field(..., alias="_id", min_length=8, max_length=128)  # hash of the sender id
    contact_id: Optional[str] = Field(None, max_length=40)  # None: the number is not registered
    mobile: str = Field(..., regex=E164_PATTERN)
    code_hash: str = Field(..., min_length=32, max_length=128)
    salt: str = Field(..., min_length=16, max_length=64)
    attempts: int = Field(0, ge=0, le=10)
    expires_at: datetime
    created_at: datetime


class Attempt(Model):
    """One attempt counted against a key: a failed console login (``login:id:<manager id>``,
    ``login:ip:<address>``) or an anonymous chat session opened (``chat:ip:<address>``).

    ``at`` is the product's clock (the window is counted on it); ``expires_at`` is the wall
    clock's, for MongoDB's TTL monitor, which drops the document once the window is over.
    """

    id: str = Field(..., alias="_id", min_length=16, max_length=64)
    key: str = Field(..., min_length=3, max_length=128)
    at: datetime
    expires_at: datetime
