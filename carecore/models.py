"""Typed models of the key-account data (pydantic 1.x, as rasa 3.6 pins it).

These models are the single definition of every collection: the repository
validates writes with them, and the MongoDB ``$jsonSchema`` validators are
derived from them (``carecore.repository.schema``), so the database refuses what the code
would refuse even when someone writes around the code.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Type, TypeVar

from lunardate import LunarDate
from pydantic import BaseModel, Field, root_validator, validator
from pydantic.fields import SHAPE_LIST

from carecore.phones import InvalidPhoneNumber, to_e164


class CustomerClass(str, Enum):
    """重要客户 / 高值客户 / 战略客户 / 集团客户."""

    important = "important"
    high_value = "high_value"
    strategic = "strategic"
    group = "group"


class Tier(str, Enum):
    """钻石卡 / 金卡 / 银卡 / 贵宾卡, highest first."""

    diamond = "diamond"
    gold = "gold"
    silver = "silver"
    vip = "vip"


class Language(str, Enum):
    zh = "zh"
    en = "en"


class Calendar(str, Enum):
    solar = "solar"
    lunar = "lunar"


class ManagerLevel(str, Enum):
    """The three levels: city (地市) -> province (省) -> group HQ (集团)."""

    city = "city"
    province = "province"
    group = "group"


class CircuitType(str, Enum):
    digital_2m = "digital_2m"  # 国内数字电路 2M
    digital_155m = "digital_155m"  # 国内数字电路 155M
    ddn = "ddn"
    leased_line = "leased_line"  # 专线
    internet_access = "internet_access"  # 互联网专线 / DIA
    ne_rental = "ne_rental"  # 网元出租
    voice = "voice"
    mobile = "mobile"
    data = "data"


class CircuitStatus(str, Enum):
    active = "active"
    degraded = "degraded"
    down = "down"
    maintenance = "maintenance"
    suspended = "suspended"


class SlaClass(str, Enum):
    premium = "premium"
    standard = "standard"
    basic = "basic"


class BillDelivery(str, Enum):
    sms = "sms"
    email = "email"
    paper = "paper"


class TicketKind(str, Enum):
    complaint = "complaint"
    fault = "fault"


class TicketStatus(str, Enum):
    open = "open"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    resolved = "resolved"
    closed = "closed"


OPEN_TICKET_STATUSES = (TicketStatus.open, TicketStatus.acknowledged, TicketStatus.in_progress)


class Priority(str, Enum):
    urgent = "urgent"
    high = "high"
    normal = "normal"
    low = "low"


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


class Model(BaseModel):
    class Config:
        allow_population_by_field_name = True
        use_enum_values = True
        validate_assignment = True
        anystr_strip_whitespace = True

    def to_mongo(self) -> Dict[str, Any]:
        return self.dict(by_alias=True, exclude_none=True)

    @classmethod
    def from_stored(cls: Type[ModelT], doc: Mapping[str, Any]) -> ModelT:
        """The model of a document read back from its own collection, without validating it again.

        Every write went through this model or the collection's validator made from it, so
        the document already is what ``parse_obj`` would make of it; bulk reads (campaigns)
        skip re-checking every mobile. ``construct`` leaves nested models as dicts, so they
        are built here first.
        """
        values: Dict[str, Any] = {}
        for name, model_field in cls.__fields__.items():
            if model_field.alias not in doc:
                continue
            value = doc[model_field.alias]
            nested = model_field.type_
            if value is not None and isinstance(nested, type) and issubclass(nested, Model):
                value = [nested.from_stored(v) for v in value] if model_field.shape == SHAPE_LIST \
                    else nested.from_stored(value)
            values[name] = value
        return cls.construct(**values)


ModelT = TypeVar("ModelT", bound=Model)


class Region(Model):
    province: str = Field(..., min_length=1, max_length=32)
    city: Optional[str] = Field(None, min_length=1, max_length=32)


class Birthday(Model):
    """A birthday in the calendar the contact keeps it in.

    The year is optional (many contacts give only month and day). Lunar birthdays
    keep month and day of the Chinese calendar; ``leap_month`` marks a 闰月 birth.
    """

    calendar: Calendar = Calendar.solar
    month: int = Field(..., ge=1, le=12)
    day: int = Field(..., ge=1, le=31)
    year: Optional[int] = Field(None, ge=1900, le=2100)
    leap_month: bool = False

    @root_validator(skip_on_failure=True)
    def _date_exists(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        calendar, month, day, year = (
            values.get("calendar"),
            values["month"],
            values["day"],
            values.get("year"),
        )
        if calendar == Calendar.solar.value:
            if values.get("leap_month"):
                raise ValueError("leap_month applies to lunar birthdays only")
            try:
                date(year if year is not None else 2000, month, day)  # 2000: Feb 29 exists
            except ValueError:
                raise ValueError(f"impossible date: {year or '----'}-{month:02d}-{day:02d}") from None
        else:
            if day > 30:
                raise ValueError(f"impossible lunar date: month {month} day {day}")
            if year is not None:
                try:
                    LunarDate(year, month, day, values.get("leap_month", False)).to_solar_date()
                except ValueError:
                    raise ValueError(
                        f"impossible lunar date: {year}-{month:02d}-{day:02d}"
                        + (" (leap month)" if values.get("leap_month") else "")
                    ) from None
        return values


def _mobile(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(str(exc)) from None


E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"
MESSAGE_SID_PATTERN = r"^(SM|MM)[0-9a-fA-F]{32}$"  # a Twilio message sid


class Contact(Model):
    contact_id: str = Field(..., min_length=1, max_length=40)
    name: str = Field(..., min_length=1, max_length=64)
    role: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., regex=E164_PATTERN)
    email: Optional[str] = Field(None, max_length=254)
    birthday: Birthday
    language: Language = Language.zh
    tier: Tier
    billing_contact: bool = False
    sms_opt_out: bool = False
    opt_out_changed_at: Optional[datetime] = None
    opt_out_source: Optional[str] = Field(None, max_length=32)

    _normalise_mobile = validator("mobile", pre=True, allow_reuse=True)(_mobile)


class Circuit(Model):
    circuit_id: str = Field(..., min_length=1, max_length=40)
    type: CircuitType
    bandwidth: str = Field(..., min_length=1, max_length=16)
    status: CircuitStatus = CircuitStatus.active
    sla_class: SlaClass
    a_end: Optional[str] = Field(None, max_length=128)
    z_end: Optional[str] = Field(None, max_length=128)


class Billing(Model):
    bill_day: int = Field(..., ge=1, le=31)
    delivery: BillDelivery
    email: Optional[str] = Field(None, max_length=254)


class Customer(Model):
    id: str = Field(..., alias="_id", regex=r"^KA[0-9]{6,9}$")
    company_name: str = Field(..., min_length=2, max_length=128)
    customer_class: CustomerClass
    region: Region
    account_manager_id: str = Field(..., min_length=1, max_length=40)
    contacts: List[Contact] = Field(..., min_items=1, max_items=50)
    services: List[Circuit] = Field(default_factory=list, max_items=500)
    billing: Billing
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None

    @validator("contacts")
    def _unique_contacts(cls, contacts: List[Contact]) -> List[Contact]:  # noqa: N805
        ids = [c.contact_id for c in contacts]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate contact_id")
        mobiles = [c.mobile for c in contacts]
        if len(set(mobiles)) != len(mobiles):
            raise ValueError("duplicate mobile among contacts")
        return contacts

    @validator("services")
    def _unique_circuits(cls, services: List[Circuit]) -> List[Circuit]:  # noqa: N805
        ids = [c.circuit_id for c in services]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate circuit_id")
        return services

    def contact(self, contact_id: str) -> Optional[Contact]:
        return next((c for c in self.contacts if c.contact_id == contact_id), None)

    def circuit(self, circuit_id: str) -> Optional[Circuit]:
        wanted = circuit_id.upper()
        return next((c for c in self.services if c.circuit_id.upper() == wanted), None)

    def billing_contact(self) -> Contact:
        return next((c for c in self.contacts if c.billing_contact), self.contacts[0])


class AccountManager(Model):
    id: str = Field(..., alias="_id", regex=r"^AM[0-9A-Z\-]{2,20}$")
    name: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., regex=E164_PATTERN)
    email: str = Field(..., regex=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    region: Region
    level: ManagerLevel
    supervisor_id: Optional[str] = Field(None, max_length=40)
    password_hash: Optional[str] = Field(None, max_length=512)

    _normalise_mobile = validator("mobile", pre=True, allow_reuse=True)(_mobile)

    @root_validator(skip_on_failure=True)
    def _hierarchy(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        level, supervisor = values["level"], values.get("supervisor_id")
        if level != ManagerLevel.group.value and not supervisor:
            raise ValueError(f"a {level} manager needs a supervisor_id")
        if level == ManagerLevel.city.value and not values["region"].city:
            raise ValueError("a city manager needs region.city")
        return values


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


class UsageMonth(Model):
    """One customer's consumption in one month (月通信消费信息); money in fen, never floats."""

    id: str = Field(..., alias="_id")
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
    month: str = Field(..., regex=MONTH_PATTERN)
    voice_minutes: int = Field(..., ge=0)
    data_mb: int = Field(..., ge=0)
    sms_count: int = Field(..., ge=0)
    amount_fen: int = Field(..., ge=0)

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


class TicketEvent(Model):
    at: datetime
    actor: str = Field(..., min_length=1, max_length=64)
    action: str = Field(..., min_length=1, max_length=40)
    note: Optional[str] = Field(None, max_length=2000)
    level: Optional[int] = Field(None, ge=0, le=3)


class SlaDeadlines(Model):
    response_due: datetime
    restore_due: datetime
    responded_at: Optional[datetime] = None
    restored_at: Optional[datetime] = None


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


TICKET_ID_PATTERN = r"^(CP|FT)-[0-9]{8}-[0-9]{4,6}$"


class Ticket(Model):
    id: str = Field(..., alias="_id", regex=TICKET_ID_PATTERN)
    kind: TicketKind
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
    contact_id: Optional[str] = Field(None, max_length=40)
    circuit_id: Optional[str] = Field(None, max_length=40)
    category: Optional[str] = Field(None, max_length=40)
    text: str = Field(..., min_length=1, max_length=4000)
    status: TicketStatus = TicketStatus.open
    priority: Priority = Priority.normal
    sla: Optional[SlaDeadlines] = None
    history: List[TicketEvent] = Field(default_factory=list)
    escalation_level: int = Field(0, ge=0, le=3)
    compensation: Optional[Settlement] = None  # fault restored after its deadline
    alerts: List[str] = Field(default_factory=list, max_items=50)  # SLA warnings and escalations raised
    customer_notified_at: Optional[datetime] = None  # the "resolved" service notice
    created_at: datetime
    updated_at: datetime

    @root_validator(skip_on_failure=True)
    def _fault_has_circuit(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if values["kind"] == TicketKind.fault.value:
            if not values.get("circuit_id"):
                raise ValueError("a fault ticket needs circuit_id")
            if values.get("sla") is None:
                raise ValueError("a fault ticket needs sla deadlines")
        return values


class StatusEvent(Model):
    status: SendStatus
    at: datetime
    error_code: Optional[int] = None


class SendRecord(Model):
    """One row of ``sends``: the idempotency key is the document id, so it is unique."""

    id: str = Field(..., alias="_id", min_length=3, max_length=200)
    kind: str = Field(..., regex=r"^[a-z_]{2,32}$")
    to: str = Field(..., regex=E164_PATTERN)
    body: str = Field(..., min_length=1, max_length=1600)
    customer_id: Optional[str] = Field(None, max_length=40)
    contact_id: Optional[str] = Field(None, max_length=40)
    language: Optional[Language] = None
    encoding: str = Field(..., regex=r"^(GSM-7|UCS-2)$")
    segments: int = Field(..., ge=1, le=10)
    status: SendStatus = SendStatus.pending
    sid: Optional[str] = Field(None, max_length=64)
    error_code: Optional[int] = None
    error_message: Optional[str] = Field(None, max_length=1000)
    suppressed_reason: Optional[str] = Field(None, max_length=64)
    attempts: int = Field(0, ge=0)
    created_at: datetime
    updated_at: datetime
    sent_at: Optional[datetime] = None
    lease_until: Optional[datetime] = None
    history: List[StatusEvent] = Field(default_factory=list)
    meta: Dict[str, Any] = Field(default_factory=dict)


class EscalationReason(str, Enum):
    request_human = "request_human"
    fallback = "fallback"
    urgent_complaint = "urgent_complaint"


class EscalationStatus(str, Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    handed_back = "handed_back"


class Escalation(Model):
    """A customer handed to their account manager; the conversation is paused meanwhile."""

    id: str = Field(..., alias="_id", regex=r"^ES-[0-9]{8}-[0-9]{4,6}$")
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
    contact_id: str = Field(..., max_length=40)
    manager_id: str = Field(..., max_length=40)
    sender_id: str = Field(..., min_length=1, max_length=200)
    channel: Optional[str] = Field(None, max_length=40)
    reason: EscalationReason
    summary: str = Field(..., max_length=2000)
    ticket_id: Optional[str] = Field(None, regex=TICKET_ID_PATTERN)
    status: EscalationStatus = EscalationStatus.open
    contact_by: datetime
    created_at: datetime
    updated_at: datetime


class ParkedCallback(Model):
    """A delivery callback that came before its message's sid was recorded.

    Twilio may report "sent" or "delivered" before the sender has written the sid
    its API call returned (a slow write, a MongoDB failover, a crash before the
    record was finished and looked up). Such a callback is kept here and applied
    once the sid is known, instead of being lost and leaving the record "queued".
    """

    id: str = Field(..., alias="_id", max_length=96)  # "<sid>/<status>": a repeated callback is kept once
    sid: str = Field(..., regex=MESSAGE_SID_PATTERN)
    status: SendStatus
    error_code: Optional[int] = None
    received_at: datetime
    expires_at: datetime  # a safety net (TTL index); the service drops unknown sids much sooner


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


class LoginFailure(Model):
    """One failed console login, counted against the account and against the address it came from.

    ``at`` is the product's clock (the window is counted on it); ``expires_at`` is the wall
    clock's, for MongoDB's TTL monitor, which drops the document once the window is over.
    """

    id: str = Field(..., alias="_id", min_length=16, max_length=64)
    key: str = Field(..., min_length=3, max_length=128)  # "id:<manager id>" or "ip:<address>"
    at: datetime
    expires_at: datetime


class ClaimStatus(str, Enum):
    """``verified``/``rejected`` record the decision; the notice is tracked in ``settlement``."""

    pending_verification = "pending_verification"
    verified = "verified"
    rejected = "rejected"


class CompensationClaim(Model):
    """A bill-not-received claim logged by the assistant; the care scheduler settles it."""

    id: str = Field(..., alias="_id", regex=r"^BC-[0-9]{8}-[0-9]{4,6}$")
    kind: str = Field("bill_not_received", regex=r"^[a-z_]{3,32}$")
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
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

    id: str = Field(..., alias="_id", regex=r"^KA[0-9]{6,9}:[0-9]{4}-(0[1-9]|1[0-2])$")
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
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
    customer_id: str = Field(..., regex=r"^KA[0-9]{6,9}$")
    reason: CreditReason
    amount_fen: int = Field(..., ge=1)
    minutes: Optional[int] = Field(None, ge=1)  # bill claims: minutes of basic call fee
    apply_to_month: str = Field(..., regex=MONTH_PATTERN)
    note: Optional[str] = Field(None, max_length=200)
    created_at: datetime


def month_key(d: date | datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"

