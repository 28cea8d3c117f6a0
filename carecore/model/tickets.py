"""Complaint and fault tickets with their SLA deadlines, and escalations to an account manager."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Dict, List, Optional, Tuple

from pydantic import Field, root_validator

from carecore.model.base import ID_PATTERN, Model
from carecore.model.billing import Settlement


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


class TicketEvent(Model):
    at: datetime
    actor: str = Field(..., min_length=1, max_length=64)
    action: str = Field(..., min_length=1, max_length=40)
    note: Optional[str] = Field(None, max_length=2000)
    level: Optional[int] = Field(None, ge=0, le=3)
    sender_id: Optional[str] = Field(None, max_length=200)  # the conversation it came from, when the assistant's


class SlaDeadlines(Model):
    """A fault's response and restore deadlines; a complaint's reply deadline (``response_due``) alone."""

    response_due: datetime
    restore_due: Optional[datetime] = None
    responded_at: Optional[datetime] = None
    restored_at: Optional[datetime] = None

    NAMES: ClassVar[Tuple[str, str]] = ("response", "restore")  # what ``deadline`` takes

    def outcome(self, now: datetime) -> str:
        """``missed`` once a deadline was missed (met late, or passed unmet), ``pending`` while one is still ahead,
        else ``met``; a restore answers the response deadline too, as the KPIs count it."""
        responded = min((at for at in (self.responded_at, self.restored_at) if at), default=None)
        result = "met"
        for due, done in ((self.response_due, responded), (self.restore_due, self.restored_at)):
            if due is None or (done is not None and done <= due):
                continue
            if done is not None or due < now:
                return "missed"
            result = "pending"
        return result

    def deadline(self, name: str) -> Tuple[Optional[datetime], Optional[datetime]]:
        """(due, met) of the ``response`` or ``restore`` deadline."""
        if name == "response":
            return self.response_due, self.responded_at
        return self.restore_due, self.restored_at

    def unmet(self) -> List[datetime]:
        """The deadlines not met yet, soonest first."""
        return sorted(due for due, met in map(self.deadline, self.NAMES) if due is not None and met is None)


class SurveyChannel(str, Enum):
    sms = "sms"
    chat = "chat"
    link = "link"


class Survey(Model):
    """The satisfaction survey after a resolved ticket: one per ticket, answered once (1-5, 5 = very satisfied)."""

    contact_id: str = Field(..., max_length=40)
    sent_at: datetime
    outcome: str = Field(..., max_length=40)  # the send's final status, or why it was suppressed
    score: Optional[int] = Field(None, ge=1, le=5)
    comment: Optional[str] = Field(None, max_length=500)
    channel: Optional[SurveyChannel] = None
    answered_at: Optional[datetime] = None


class FollowUp(Model):
    """A follow-up call (回访) the account manager owes after a low score; their note closes it."""

    manager_id: str = Field(..., max_length=40)
    opened_at: datetime
    due: datetime
    done_at: Optional[datetime] = None
    done_by: Optional[str] = Field(None, max_length=64)
    note: Optional[str] = Field(None, max_length=2000)


TICKET_ID_PATTERN = r"^(CP|FT)-[0-9]{8}-[0-9]{4,6}$"


class Ticket(Model):
    id: str = Field(..., alias="_id", regex=TICKET_ID_PATTERN)
    kind: TicketKind
    customer_id: str = Field(..., regex=ID_PATTERN)
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
    resolved_at: Optional[datetime] = None
    survey: Optional[Survey] = None
    followup: Optional[FollowUp] = None
    maintenance_id: Optional[str] = Field(None, max_length=40)  # raised during that window: no SLA credit
    manager_id: Optional[str] = Field(None, max_length=40)  # the customer's manager when it was raised (KPIs)
    sender_id: Optional[str] = Field(None, max_length=200)  # the conversation it was opened in, by the assistant
    created_at: datetime
    updated_at: datetime

    @property
    def withdrawn(self) -> bool:
        """Closed with no restore: a report withdrawn ("误报"), so nothing was down and no credit is owed."""
        return self.status == TicketStatus.closed and self.resolved_at is None and \
            not (self.sla is not None and self.sla.restored_at)

    @property
    def times_reopened(self) -> int:
        """How often its customer said it was not fixed: what tells each later page and notice from the first."""
        return sum(event.action == "reopened" for event in self.history)

    @property
    def about_manager(self) -> Optional[str]:
        """The manager a complaint of category ``manager`` is about (who managed the account when it was raised):
        it is answered above them. None for any other ticket."""
        return self.manager_id if self.category == "manager" else None

    @root_validator(skip_on_failure=True)
    def _fault_has_circuit(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if values["kind"] == TicketKind.fault.value:
            if not values.get("circuit_id"):
                raise ValueError("a fault ticket needs circuit_id")
            if values.get("sla") is None:
                raise ValueError("a fault ticket needs sla deadlines")
        return values


class EscalationReason(str, Enum):
    request_human = "request_human"
    other_person = "other_person"  # asked for someone other than their manager: the manager's supervisor answers
    manager_unreachable = "manager_unreachable"  # could not reach their manager: so does the supervisor
    leaving = "leaving"  # says they will cancel, not renew or change operator: their manager's to answer at once
    order = "order"  # asked for what only the manager takes (more bandwidth, a move, an invoice) and said yes to a call
    fallback = "fallback"
    urgent_complaint = "urgent_complaint"


# The requests the supervisor above the customer's manager answers, while there is an active one.
ANSWERED_ABOVE = (EscalationReason.other_person, EscalationReason.manager_unreachable)


class EscalationStatus(str, Enum):
    open = "open"
    acknowledged = "acknowledged"
    resolved = "resolved"
    handed_back = "handed_back"


# An escalation still waiting for its manager: the conversation stays paused.
OPEN_ESCALATION_STATUSES = (EscalationStatus.open.value, EscalationStatus.acknowledged.value)


class Escalation(Model):
    """A customer handed to their account manager; the conversation is paused meanwhile."""

    id: str = Field(..., alias="_id", regex=r"^ES-[0-9]{8}-[0-9]{4,6}$")
    customer_id: str = Field(..., regex=ID_PATTERN)
    contact_id: str = Field(..., max_length=40)
    manager_id: str = Field(..., max_length=40)
    sender_id: str = Field(..., min_length=1, max_length=200)
    channel: Optional[str] = Field(None, max_length=40)
    reason: EscalationReason
    summary: str = Field(..., max_length=2000)
    ticket_id: Optional[str] = Field(None, regex=TICKET_ID_PATTERN)
    status: EscalationStatus = EscalationStatus.open
    contact_by: datetime
    callback_asked: bool = False  # contact_by is the time the customer asked to be called at, not the default
    created_at: datetime
    updated_at: datetime
    waiting_notice_at: Optional[datetime] = None  # last told, writing meanwhile, that the manager has it
    manager_told_at: Optional[datetime] = None  # the waiting_notice_at the manager was last told of
    kept_at: Optional[datetime] = None  # a customer who said they would leave, kept by the manager: off the churn watch
    kept_by: Optional[str] = Field(None, max_length=40)
