"""Every SMS's record, its statuses, and status callbacks parked until their message is known."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Dict, List, Optional

from pydantic import Field

from carecore.model.base import E164_PATTERN, MESSAGE_SID_PATTERN, Language, Model
from carecore.sms.segments import MAX_BODY_CHARS, MAX_SEGMENTS


class SendStatus(str, Enum):
    """Life of one SMS in ``sends``.

    ``pending`` is written before the API call, so a crash leaves a trace that is
    reconciled (looked up) before any resend. ``ambiguous``: Twilio may or may not
    have accepted it. ``deferred``: certainly not accepted (429s exhausted, server
    unreachable), safe to try again. The rest are Twilio's own statuses plus
    ``suppressed`` for messages the rules kept back.
    """

    pending = "pending"
    ambiguous = "ambiguous"
    deferred = "deferred"
    accepted = "accepted"
    queued = "queued"
    sending = "sending"
    sent = "sent"
    delivered = "delivered"
    undelivered = "undelivered"
    failed = "failed"
    suppressed = "suppressed"


# A message whose outcome is not settled: a rerun finishes these, looking each up before any resend.
UNFINISHED = (SendStatus.pending, SendStatus.ambiguous, SendStatus.deferred)


UNFINISHED_VALUES = tuple(status.value for status in UNFINISHED)  # as stored, for queries and the index
# Taken by the provider, its final status not known yet: the status callbacks will tell, or a lookup.
AWAITING_OUTCOME_VALUES = tuple(s.value for s in (SendStatus.accepted, SendStatus.queued, SendStatus.sending,
                                                  SendStatus.sent))


class StatusEvent(Model):
    status: SendStatus
    at: datetime
    error_code: Optional[int] = None


class SendRecord(Model):
    """One row of ``sends``: the idempotency key is the document id, so it is unique."""

    id: str = Field(..., alias="_id", min_length=3, max_length=200)
    kind: str = Field(..., regex=r"^[a-z_]{2,32}$")
    # Absent only once erased (a contact's right to deletion): the record stays, as a count.
    to: Optional[str] = Field(None, regex=E164_PATTERN)
    body: Optional[str] = Field(None, min_length=1, max_length=MAX_BODY_CHARS)
    erased_at: Optional[datetime] = None
    customer_id: Optional[str] = Field(None, max_length=40)
    contact_id: Optional[str] = Field(None, max_length=40)
    language: Optional[Language] = None
    encoding: str = Field(..., regex=r"^(GSM-7|UCS-2)$")
    segments: int = Field(..., ge=1, le=MAX_SEGMENTS)
    status: SendStatus = SendStatus.pending
    sid: Optional[str] = Field(None, max_length=64)
    error_code: Optional[int] = None
    error_message: Optional[str] = Field(None, max_length=1000)
    suppressed_reason: Optional[str] = Field(None, max_length=64)
    attempts: int = Field(0, ge=0)
    status_checks: int = Field(0, ge=0)  # lookups of a status whose callback never came
    created_at: datetime
    updated_at: datetime
    sent_at: Optional[datetime] = None
    lease_until: Optional[datetime] = None
    history: List[StatusEvent] = Field(default_factory=list)
    meta: Dict[str, Any] = Field(default_factory=dict)


class ParkedCallback(Model):
    """A delivery callback that came before its message's sid was recorded (a slow write, a failover, a
    crash), kept and applied once the sid is known instead of lost.
    """

    id: str = Field(..., alias="_id", max_length=96)  # "<sid>/<status>": a repeated callback is kept once
    sid: str = Field(..., regex=MESSAGE_SID_PATTERN)
    status: SendStatus
    error_code: Optional[int] = None
    received_at: datetime
    expires_at: datetime  # a safety net (TTL index); the service drops unknown sids much sooner
