"""The ticket register (工单台账): every complaint and fault opened in a month within a scope, with whether its
deadlines were met, counted as the KPIs count them; the rows behind the complaint and SLA figures, for the
report to the level above. The console shows and downloads it, ``GET /admin/tickets`` serves it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional, Sequence

from carecore.clock import Clock
from carecore.model import Ticket
from carecore.months import month_span
from carecore.repository import Database

KINDS = ("complaint", "fault")


@dataclass(frozen=True)
class RegisterRow:
    ticket: Ticket
    company: str
    contact: str  # the contact's name; "" once they are gone
    deadlines: str  # met, missed or pending (``SlaDeadlines.outcome``); "" without deadlines
    followup: str  # owed or done; "" when none was opened


async def ticket_register(db: Database, clock: Clock, manager_ids: Optional[Sequence[str]], month: str,
                          kind: Optional[str] = None) -> List[RegisterRow]:
    """The month's tickets of the accounts of ``manager_ids`` (None: every account), oldest first."""
    ids = await db.customers.ids_in_scope(manager_ids)
    start, end = month_span(month, clock.tz)
    tickets = [t async for t in db.tickets.opened_between(start, end, ids) if kind is None or t.kind == kind]
    customers = {doc["_id"]: doc async for doc in db.customers.profiles(sorted({t.customer_id for t in tickets}))}
    now, rows = clock.now(), []
    for t in tickets:
        customer = customers.get(t.customer_id, {})
        contact = next((c["name"] for c in customer.get("contacts", []) if c["contact_id"] == t.contact_id), "")
        followup = "" if t.followup is None else "done" if t.followup.done_at else "owed"
        rows.append(RegisterRow(t, customer.get("company_name", t.customer_id), contact,
                                t.sla.outcome(now) if t.sla else "", followup))
    return rows
