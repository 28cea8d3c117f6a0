"""Compliments (表扬) a verified customer gives through the assistant, kept for the manager and their supervisor."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from pydantic import Field

from carecore.model.base import ID_PATTERN, Model

COMPLIMENT_ID_PATTERN = r"^PR-[0-9]{8}-[0-9]{4,6}$"


class Compliment(Model):
    """``manager_id`` is the account's manager when it was given: the one it is fed back to, whoever it names."""

    id: str = Field(..., alias="_id", regex=COMPLIMENT_ID_PATTERN)
    customer_id: str = Field(..., regex=ID_PATTERN)
    contact_id: str = Field(..., max_length=40)
    manager_id: str = Field(..., max_length=40)
    text: str = Field(..., min_length=1, max_length=2000)
    channel: Optional[str] = Field(None, max_length=40)  # no conversation id: an SMS one carries the number
    created_at: datetime
