"""What every campaign plan is made of: the planned message and the context plans read.

A side effect that must precede a message (a compensation credit) travels with it as ``settle``,
which the runner calls only when it really sends, never in a dry run or a preview.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Set, Tuple
from zoneinfo import ZoneInfo

from care_scheduler.templates import TemplateError, render
from carecore.clock import utcnow
from carecore.config import Settings
from carecore.links import LinkSigner, Purpose, signer_for
from carecore.model import (
    UNFINISHED_VALUES,
    AccountManager,
    Contact,
    Customer,
    SendRecord,
    acting_manager,
    answering_manager,
)
from carecore.phones import readable
from carecore.repository import Database
from carecore.sms.message import Sms
from carecore.sms.segments import segment_info
from carecore.surveys import replies_reach_us

log = logging.getLogger(__name__)


@dataclass
class Planned:
    key: str
    kind: str
    to: str
    language: str
    customer_id: Optional[str]  # None for messages to staff (daily brief)
    contact_id: Optional[str]
    body: str = ""
    segments: int = 0
    encoding: str = ""
    suppressed_reason: Optional[str] = None
    notes: List[str] = field(default_factory=list)
    # Written before the message goes out (decision and credit), and after it has a final outcome.
    settle: Optional[Callable[[], Awaitable[None]]] = None
    after: Optional[Callable[[SendRecord], Awaitable[None]]] = None
    manager_id: Optional[str] = None  # the customer's manager when sent: whose figures the message counts in

    @classmethod
    def to_contact(cls, key: str, kind: str, customer: Customer, contact: Contact) -> Planned:
        """A message to one of a customer's contacts, in their language, counted in their manager's figures; kept
        back, whatever it is, once the number no longer reaches the contact."""
        return cls(key, kind, contact.mobile, contact.language, customer.id, contact.contact_id,
                   manager_id=customer.account_manager_id,
                   suppressed_reason=None if contact.reachable else "number_disowned")

    @classmethod
    def of_sms(cls, sms: Sms) -> Planned:
        """A message written where its case is (a ticket's page, ``ticket_opening.manager_page``), sent by a run."""
        info = segment_info(sms.body)
        return cls(sms.key, sms.kind, sms.to, sms.language or "zh", sms.customer_id, sms.contact_id, sms.body,
                   info.segments, info.encoding)

    def message(self, campaign: str) -> Sms:
        """The gateway's message for this plan, in the campaign ``campaign``; raises ``InvalidPhoneNumber``."""
        meta: Dict[str, Any] = {"campaign": campaign, **({"notes": self.notes} if self.notes else {}),
                                **({"manager_id": self.manager_id} if self.manager_id else {})}
        return Sms.of(key=self.key, kind=self.kind, to=self.to, body=self.body, customer_id=self.customer_id,
                      contact_id=self.contact_id, language=self.language, meta=meta,
                      suppressed_reason=self.suppressed_reason)


@dataclass
class PlanContext:
    """What every plan needs besides the recipients: loaded once per run, all small."""

    db: Database
    settings: Settings
    day: date
    now: datetime
    managers: Dict[str, AccountManager]
    open_complaints: Set[str]
    links: LinkSigner  # signs the survey and opt-out links in messages
    promo: Mapping[str, str] = field(default_factory=dict)  # language -> promotional line
    extra_festivals: Mapping[date, str] = field(default_factory=dict)
    preview: bool = False  # a dry run or a preview: plans record nothing of their own (a broadcast stays queued)

    @classmethod
    async def load(cls, db: Database, settings: Settings, day: date, *, now: Optional[datetime] = None,
                   promo: Optional[Mapping[str, str]] = None,
                   extra_festivals: Optional[Mapping[date, str]] = None, preview: bool = False) -> PlanContext:
        """``now`` defaults to noon of ``day``: what a preview of another day should assume."""
        moment = now or datetime.combine(day, time(12), tzinfo=ZoneInfo(settings.timezone))
        managers = {m.id: m for m in await db.managers.all()}
        return cls(db, settings, day, moment, managers, set(await db.tickets.customers_with_open_complaints()),
                   signer_for(settings), promo or {}, extra_festivals or {}, preview)

    @cached_property
    def day_ends(self) -> datetime:
        """Links are counted from it: the same link all day keeps a re-planned message the same as the first."""
        return datetime.combine(self.day + timedelta(days=1), time(0), tzinfo=ZoneInfo(self.settings.timezone))

    def link(self, purpose: Purpose, subject: str) -> str:
        """A signed survey or opt-out link (``carecore.links``), counted from the end of the planned day."""
        return self.links.url(purpose, subject, self.day_ends)

    def opt_out(self, contact: Contact) -> Dict[str, Any]:
        """How a marketing-like message says to opt out: by the signed link, and by replying only where a reply
        reaches us (Twilio has no two-way SMS with +86 numbers: a "T" sent back would go nowhere)."""
        return {"opt_out_url": self.link("opt_out", contact.contact_id), "reply": replies_reach_us(contact.mobile)}

    async def case_contact(self, case: str, customer_id: str,
                           contact_id: Optional[str]) -> Optional[Tuple[Customer, Contact]]:
        """Who hears about a ticket or claim: the contact who raised it, or the billing contact if they are gone or
        their number no longer reaches them."""
        customer = await self.db.customers.get(customer_id)
        if customer is None:
            log.warning("%s: customer %s no longer exists; nobody to tell", case, customer_id)
            return None
        contact = customer.contact(contact_id) if contact_id else None
        contact = contact if contact and contact.reachable else customer.billing_contact()
        if contact is None:
            log.warning("%s: customer %s has no contact to reach; nobody to tell", case, customer_id)
            return None
        return customer, contact

    def manager_values(self, customer: Customer, lang: str, about: Optional[str] = None) -> Dict[str, Any]:
        """Who answers for the account (for a complaint ``about`` the manager, their supervisor, then
        ``handled_above``), their number written as the reader dials it (``phones.readable``)."""
        manager = answering_manager(customer.account_manager_id, about, self.managers)
        acting = acting_manager(customer.account_manager_id, self.managers)
        return {"manager_name": manager.name if manager else "-",
                "manager_mobile": readable(manager.mobile, lang) if manager else self.settings.hotline,
                "handled_above": manager is not None and acting is not None and manager.id != acting.id}


@dataclass
class Tally:
    """What a preview counts of planned messages, a campaign's or a broadcast's."""

    recipients: int = 0
    to_send: int = 0
    segments: int = 0
    suppressed: Counter = field(default_factory=Counter)

    def add(self, plan: Planned) -> bool:
        """Count the plan; whether it would be sent."""
        self.recipients += 1
        if plan.suppressed_reason:
            self.suppressed[plan.suppressed_reason] += 1
            return False
        self.to_send += 1
        self.segments += plan.segments
        return True


def render_into(plan: Planned, ctx: PlanContext, template: str, values: Dict[str, Any]) -> None:
    """Render a template into the plan; a missing value suppresses the message, loudly."""
    try:
        rendered = render(template, plan.language, signature=ctx.settings.sms_signature,
                          operator=ctx.settings.operator(plan.language), **values)
    except TemplateError as exc:
        plan.suppressed_reason = "template_error"
        plan.notes.append(str(exc))
        plan.body = f"[{template}.{plan.language} failed]"
        return
    plan.body, plan.segments, plan.encoding = rendered.text, rendered.segments, rendered.encoding
    plan.notes.extend(rendered.warnings)


def when_final(mark: Callable[[datetime, str], Awaitable[None]]) -> Callable[[SendRecord], Awaitable[None]]:
    """An ``after`` hook: call ``mark(at, status)`` once the message has a final outcome.

    An unfinished message (pending, ambiguous, deferred) is left alone: the next run resumes it
    under the same key and marks it then.
    """

    async def after(record: SendRecord) -> None:
        if record.status not in UNFINISHED_VALUES:
            await mark(utcnow(), record.status)
    return after
