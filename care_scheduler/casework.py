"""Closing a case: resolving a ticket, resolving or handing back an escalation.

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
from care_scheduler.sla_watch import escalation_resolution_plan, resolution_plan
from carecore.clock import Clock
from carecore.config import Settings
from carecore.model import (
    OPEN_ESCALATION_STATUSES,
    OPEN_TICKET_STATUSES,
    Escalation,
    EscalationStatus,
    Ticket,
    TicketEvent,
)
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway

log = logging.getLogger(__name__)

OPEN_TICKET = {s.value for s in OPEN_TICKET_STATUSES}


class CaseClosed(Exception):
    """The ticket or escalation is no longer open: nothing was changed."""


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

    async def resolve_ticket(self, ticket: Ticket, actor: str, note: Optional[str] = None) -> Resolution:
        """Resolve the ticket and tell the customer; its open escalations are handed back and closed."""
        if ticket.status not in OPEN_TICKET:
            raise CaseClosed(ticket.id)
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
