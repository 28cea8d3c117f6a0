"""Monthly usage, bill deliveries, compensation claims, settlements and credits."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Dict, Optional

from pydantic import Field, root_validator, validator

from carecore.model.base import ID_PATTERN, MONTH_PATTERN, Model
from carecore.model.customers import BillDelivery


class UsageMonth(Model):
    """One customer's consumption in one month (月通信消费信息); money in fen, never floats.

    ``paid_fen`` is what billing says was paid toward the month's bill: None while billing has not said,
    so an operator whose files carry no payments is never told a customer owes. ``owed_fen`` follows
    from it on every write and is stored only so that accounts in arrears are found by an index.
    """

    id: str = Field(..., alias="_id")
    customer_id: str = Field(..., regex=ID_PATTERN)
    month: str = Field(..., regex=MONTH_PATTERN)
    voice_minutes: int = Field(..., ge=0)
    data_mb: int = Field(..., ge=0)
    sms_count: int = Field(..., ge=0)
    amount_fen: int = Field(..., ge=0)
    paid_fen: Optional[int] = Field(None, ge=0)
    owed_fen: Optional[int] = Field(None, ge=0)

    @root_validator(pre=True)
    def _derive_id(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if "_id" not in values and "id" not in values:
            values["_id"] = f"{values.get('customer_id')}:{values.get('month')}"
        return values

    @validator("id")
    def _id_matches(cls, value: str, values: Dict[str, Any]) -> str:  # noqa: N805
        expected = f"{values.get('customer_id')}:{values.get('month')}"
        if "customer_id" in values and "month" in values and value != expected:
            raise ValueError(f"_id must be {expected}")
        return value

    @root_validator(skip_on_failure=True)
    def _derive_owed(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        paid = values.get("paid_fen")
        values["owed_fen"] = None if paid is None else max(values["amount_fen"] - paid, 0)
        return values


class Settlement(Model):
    """How a claim or a breached fault was settled: the decision, the credit, the notice.

    Written before the notice is sent, so a crash between the two resends
    nothing twice: the next run finds the decision and only sends the notice,
    under the same idempotency key.
    """

    decided_at: datetime
    credit_fen: int = Field(..., ge=0)
    credit_id: Optional[str] = Field(None, max_length=40)
    detail: Optional[str] = Field(None, max_length=200)
    notice_key: str = Field(..., min_length=3, max_length=200)
    notified_at: Optional[datetime] = None
    notice_status: Optional[str] = Field(None, max_length=32)


class ClaimStatus(str, Enum):
    """``verified``/``rejected`` record the decision; the notice is tracked in ``settlement``."""

    pending_verification = "pending_verification"
    verified = "verified"
    rejected = "rejected"


class CompensationClaim(Model):
    """A bill-not-received claim logged by the assistant; the care scheduler settles it."""

    id: str = Field(..., alias="_id", regex=r"^BC-[0-9]{8}-[0-9]{4,6}$")
    kind: str = Field("bill_not_received", regex=r"^[a-z_]{3,32}$")
    customer_id: str = Field(..., regex=ID_PATTERN)
    contact_id: str = Field(..., max_length=40)
    month: str = Field(..., regex=MONTH_PATTERN)
    status: ClaimStatus = ClaimStatus.pending_verification
    note: Optional[str] = Field(None, max_length=500)
    settlement: Optional[Settlement] = None
    created_at: datetime
    updated_at: datetime


class BillDeliveryRecord(Model):
    """When one month's bill documents reached the customer: what bill claims are checked against.

    ``due_by`` is the stated time; a bill delivered later than that, or never, makes
    a bill-not-received claim valid.
    """

    id: str = Field(..., alias="_id", regex=r"^[A-Za-z0-9_-]{1,40}:[0-9]{4}-(0[1-9]|1[0-2])$")
    customer_id: str = Field(..., regex=ID_PATTERN)
    month: str = Field(..., regex=MONTH_PATTERN)
    channel: BillDelivery
    issued_at: datetime
    due_by: datetime
    delivered_at: Optional[datetime] = None

    @root_validator(pre=True)
    def _derive_id(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if "_id" not in values and "id" not in values:
            values["_id"] = f"{values.get('customer_id')}:{values.get('month')}"
        return values

    @root_validator(skip_on_failure=True)
    def _consistent(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if values["id"] != f"{values['customer_id']}:{values['month']}":
            raise ValueError("_id must be <customer_id>:<month>")
        if values["due_by"] < values["issued_at"]:
            raise ValueError("due_by is before issued_at")
        delivered = values.get("delivered_at")
        if delivered is not None and delivered < values["issued_at"]:
            raise ValueError("delivered_at is before issued_at")
        return values


class CreditReason(str, Enum):
    bill_not_received = "bill_not_received"
    sla_breach = "sla_breach"


class Credit(Model):
    """Money owed back on the customer's next bill; its id is the claim's or the ticket's, so one each."""

    id: str = Field(..., alias="_id", regex=r"^(BC|FT)-[0-9]{8}-[0-9]{4,6}$")
    customer_id: str = Field(..., regex=ID_PATTERN)
    reason: CreditReason
    amount_fen: int = Field(..., ge=1)
    minutes: Optional[int] = Field(None, ge=1)  # bill claims: minutes of basic call fee
    apply_to_month: str = Field(..., regex=MONTH_PATTERN)
    note: Optional[str] = Field(None, max_length=200)
    created_at: datetime
