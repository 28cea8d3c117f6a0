"""Broadcasts (群发短信): a service notice or a new-product promotion a manager sends to contacts in scope."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import List, Optional

from pydantic import Field, constr, validator

from carecore.model.base import ID_PATTERN, Model, no_signature_marks
from carecore.model.customers import CircuitType, CustomerClass, Tier

BROADCAST_ID_PATTERN = r"^BN-[0-9]{8}-[0-9]{4,6}$"
ManagerId = constr(regex=ID_PATTERN)


class BroadcastPurpose(str, Enum):
    notice = "notice"  # 服务通知: a service notice, to every contact in the audience
    promotion = "promotion"  # 新产品推广: marketing, so consent, daytime and no unhappy customer


class BroadcastStatus(str, Enum):
    queued = "queued"  # the next round of the broadcast job sends it
    planned = "planned"  # every message handed to the gateway
    cancelled = "cancelled"


class Audience(Model):
    """Whose contacts: the accounts of ``manager_ids`` (the sender's scope; None: every account), narrowed
    by class, region and circuit type, and contacts by tier; a filter left out takes all."""

    manager_ids: Optional[List[ManagerId]] = Field(None, max_items=5000)  # type: ignore[valid-type]
    customer_class: Optional[CustomerClass] = None
    province: Optional[str] = Field(None, min_length=1, max_length=32)
    city: Optional[str] = Field(None, min_length=1, max_length=32)
    circuit_type: Optional[CircuitType] = None
    tiers: List[Tier] = Field(default_factory=list, max_items=4)


class Broadcast(Model):
    id: str = Field(..., alias="_id", regex=BROADCAST_ID_PATTERN)
    purpose: BroadcastPurpose
    audience: Audience
    text_zh: str = Field(..., min_length=4, max_length=500)
    text_en: Optional[str] = Field(None, min_length=4, max_length=1000)  # none: English contacts get the Chinese
    status: BroadcastStatus = BroadcastStatus.queued
    created_by: str = Field(..., regex=ID_PATTERN)
    created_at: datetime
    planned_at: Optional[datetime] = None
    planned_count: Optional[int] = Field(None, ge=0)
    cancelled_at: Optional[datetime] = None
    cancelled_by: Optional[str] = Field(None, max_length=64)  # a manager id, or the admin API's actor

    _plain_text = validator("text_zh", "text_en", allow_reuse=True)(no_signature_marks)
