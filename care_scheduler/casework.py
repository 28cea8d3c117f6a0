"""Opening a ticket for a customer, closing a case: resolving a ticket, resolving or handing back an escalation.

One implementation for the console and the admin API. A conversation is handed back
to the assistant before its escalation is closed: when Rasa does not take it back,
the escalation stays open and the caller is told, on both paths alike.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import List, Optional

from care_scheduler.planning import PlanContext, Planned
from care_scheduler.rasa_client import HandBackFailed, RasaClient
from care_scheduler.runner import CampaignRunner
from care_scheduler.sla_watch import escalation_resolution_plan, opening_plan, reopening_plan, resolution_plan
from carecore.clock import Clock
from carecore.config import Settings
from carecore.model import (
    OPEN_ESCALATION_STATUSES,
    OPEN_TICKET_STATUSES,
    Customer,
    Escalation,
    EscalationStatus,
    Ticket,
    TicketEvent,
    TicketKind,
)
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.ticket_opening import (
    CATEGORIES,
    MAX_DESCRIPTION,
    MIN_DESCRIPTION,
    open_complaint,
    open_fault,
    open_fault_on,
    page_manager,
    reopen_fault,
)

log = logging.getLogger(__name__)

OPEN_TICKET = {s.value for s in OPEN_TICKET_STATUSES}


class CaseClosed(Exception):
    """The ticket or escalation is no longer open: nothing was changed."""


class AboutTheActor(Exception):
    """A complaint about the account manager is acknowledged and resolved above them, not by them."""


def about_the_actor(ticket: Ticket, actor: str) -> bool:
    """Whether ``actor`` is the manager the complaint is about (``Ticket.about_manager``: who managed the account
    when it was opened, so a successor after a reassignment may answer it)."""
    return ticket.about_manager is not None and actor == ticket.about_manager


class TicketRefused(ValueError):
    """A new ticket's field does not fit its customer: nothing was written."""

    def __init__(self, field: str, reason: str, ticket_id: Optional[str] = None) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.ticket_id = ticket_id  # the ticket the report belongs to instead


@dataclass
class Resolution:
    """What resolving a ticket did: escalations closed with it, and those left open because Rasa refused them."""

    closed: List[str] = field(default_factory=list)
    left_open: List[str] = field(default_factory=list)
    error: Optional[str] = None


@dataclass
class Casework:
    db: Database
    gateway: SmsGateway
    settings: Settings
    clock: Clock
    rasa: RasaClient

    async def open_ticket(self, customer: Customer, *, kind: str, contact_id: str, text: str, actor: str,
                          circuit_id: str = "", category: str = "other", urgent: bool = False) -> Ticket:
        """A fault or complaint the customer reported by phone or in person; raises ``TicketRefused``, having
        written nothing, unless every field fits the customer. The contact is sent its number and first
        deadline, as the assistant would have told them in the chat; an urgent one, or one about the account
        manager, pages whoever must know at once (``page_manager``) unless they opened it. A fault on a circuit
        whose fault was resolved within ``REOPEN_WITHIN`` reopens that ticket, as the assistant does: its contact is
        told, with the restore deadline that still stands (``Ticket.times_reopened`` tells the caller)."""
        contact = customer.contact(contact_id)
        circuit = customer.circuit(circuit_id) if kind == TicketKind.fault.value else None
        text = text.strip()
        if kind not in (TicketKind.fault.value, TicketKind.complaint.value):
            raise TicketRefused("kind", "fault or complaint")
        if contact is None:
            raise TicketRefused("contact_id", "not a contact of this customer")
        if kind == TicketKind.fault.value and circuit is None:
            raise TicketRefused("circuit_id", "a fault needs one of this customer's circuits")
        if kind == TicketKind.complaint.value and category not in CATEGORIES:
            raise TicketRefused("category", f"one of {', '.join(CATEGORIES)}")
        if not MIN_DESCRIPTION <= len(text) <= MAX_DESCRIPTION:
            raise TicketRefused("text", f"{MIN_DESCRIPTION} to {MAX_DESCRIPTION} characters")
        already = await open_fault_on(self.db, customer.id, circuit.circuit_id) if circuit is not None else None
        if already is not None:  # one outage, one ticket and one SLA clock, as when the assistant takes the report
            raise TicketRefused("circuit_id", f"fault {already.id} is still open on {already.circuit_id}: add a note "
                                              "to it", ticket_id=already.id)
        reopened = await reopen_fault(self.db, self.clock, customer, circuit.circuit_id, actor=actor, text=text) \
            if circuit is not None else None
        notice = opening_plan
        if reopened is not None:  # the fix did not hold
            ticket, notice = reopened, reopening_plan
        elif circuit is not None:
            ticket = await open_fault(self.db, self.settings, self.clock, customer, contact, circuit, text=text,
                                      actor=actor)
        else:
            ticket = await open_complaint(self.db, self.settings, self.clock, customer, contact, text=text,
                                          category=category, urgent=urgent, actor=actor)
        await self._send(await notice(await self._context(), ticket))
        await page_manager(self.db, self.gateway, self.settings, self.clock, ticket, customer, contact, opened_by=actor)
        return ticket

    async def resolve_ticket(self, ticket: Ticket, actor: str, note: Optional[str] = None) -> Resolution:
        """Resolve the ticket and tell the customer; its open escalations are handed back and closed."""
        if ticket.status not in OPEN_TICKET:
            raise CaseClosed(ticket.id)
        if about_the_actor(ticket, actor):
            raise AboutTheActor(ticket.id)
        event = TicketEvent(at=self.clock.now(), actor=actor, action="resolve", note=note)
        await self.db.tickets.resolve(ticket.id, event)
        resolved = await self.db.tickets.get(ticket.id)
        assert resolved is not None
        ctx = await self._context()
        await self._send(await resolution_plan(ctx, resolved))
        result = Resolution()
        for escalation in await self.db.escalations.for_customers([ticket.customer_id]):
            if escalation.ticket_id != ticket.id:
                continue
            try:
                await self.rasa.hand_back(escalation.sender_id)
            except HandBackFailed as exc:
                log.warning("escalation %s stays open: %s", escalation.id, exc)
                result.left_open.append(escalation.id)
                result.error = str(exc)
                continue
            await self.db.escalations.set_status(escalation.id, EscalationStatus.resolved)
            result.closed.append(escalation.id)
        return result

    async def resolve_escalation(self, escalation: Escalation) -> None:
        """Hand the conversation back, close the escalation, and tell the customer; raises ``HandBackFailed``."""
        self._check_open(escalation)
        await self.rasa.hand_back(escalation.sender_id)
        await self.db.escalations.set_status(escalation.id, EscalationStatus.resolved)
        await self._send(await escalation_resolution_plan(await self._context(), escalation))

    async def hand_back(self, escalation: Escalation) -> None:
        """Hand the conversation back to the assistant without a resolution notice; raises ``HandBackFailed``."""
        self._check_open(escalation)
        await self.rasa.hand_back(escalation.sender_id)
        await self.db.escalations.set_status(escalation.id, EscalationStatus.handed_back)

    @staticmethod
    def _check_open(escalation: Escalation) -> None:
        if escalation.status not in OPEN_ESCALATION_STATUSES:
            raise CaseClosed(escalation.id)

    async def _context(self) -> PlanContext:
        return await PlanContext.load(self.db, self.settings, self.clock.today(), now=self.clock.now())

    async def _send(self, plan: Optional[Planned]) -> None:
        if plan is None:
            return
        runner = CampaignRunner.from_settings(self.db, self.gateway, self.settings, self.clock, unlimited=True)
        await runner.send_one(plan, f"console:{self.clock.today().isoformat()}")
