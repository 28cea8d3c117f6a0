"""A customer chasing open tickets (催办), the same from every channel: who hears of it, in one SMS, and when.

A chase goes to whoever answers each ticket, so a complaint about the account manager reaches the supervisor
above them, never the manager it is about. Each ticket is paged once in a window of two hours however often it
is chased. At night a chase waits for 08:00, as a held page does (``deadlines.waits_for_morning``), unless one
of its tickets is due before then; the SLA watch sends the held ones in the morning.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import Dict, List, Optional, Tuple

from carecore.config import Settings
from carecore.deadlines import next_send_window, waits_for_morning
from carecore.model import AccountManager, Contact, Customer, Ticket
from carecore.repository import Database
from carecore.sms.message import Sms
from carecore.texts import about_manager, contact_line, label, ticket_deadline

WINDOW_HOURS = 2  # however often a customer chases a ticket, whoever answers it is paged once in such a window
URGED = "urged"  # a chase in a ticket's history (``TicketEvent.action``)
HELD = "held until 08:00"  # its note when it waits for the morning


@dataclass
class Chase:
    """The tickets one person answers: ``above`` when that is the supervisor of the manager a complaint is
    about; ``manager`` None when nobody active answers them."""

    above: bool
    manager: Optional[AccountManager]
    tickets: List[Ticket]


def window_of(now: datetime) -> str:
    return f"{now:%Y%m%d}-{now.hour // WINDOW_HOURS}"


def alert_key(ticket: Ticket, window: str) -> str:
    """A ticket's chase in a window, kept in its alerts."""
    return f"urge:{ticket.id}:{window}"


def sms_key(window: str, tickets: List[Ticket]) -> str:
    """The SMS of a chase sent at once, naming the tickets it pages."""
    return f"urge:{window}:{'+'.join(t.id for t in tickets)}"


def held_sms_key(window: str, customer_id: str, contact_id: str, manager_id: str) -> str:
    """The SMS of the chases held overnight by one contact for one person: it names no ticket, so that a ticket
    resolved before a resumed send changes no key."""
    return f"urge:{window}:{customer_id}:{contact_id}:{manager_id}"


async def chases(db: Database, manager_id: str, tickets: List[Ticket]) -> List[Chase]:
    """The tickets of an account managed by ``manager_id`` by who answers them, the manager's own first."""
    answering: Dict[Optional[str], Optional[AccountManager]] = {}  # by the manager a complaint is about
    groups: Dict[Tuple[bool, Optional[str]], Chase] = {}
    for ticket in tickets:
        about = ticket.about_manager
        if about not in answering:
            answering[about] = await db.managers.answering(manager_id, about)
        manager = answering[about]
        above = about is not None and manager is not None and manager.id != about
        groups.setdefault((above, manager.id if manager else None), Chase(above, manager, [])).tickets.append(ticket)
    return sorted(groups.values(), key=lambda chase: chase.above)


def earliest_due(tickets: List[Ticket]) -> Optional[datetime]:
    """The nearest deadline the tickets have not met yet (a reply, a fault's response or restore)."""
    return min((due for t in tickets if t.sla is not None for due in t.sla.unmet()), default=None)


def waits(now: datetime, tickets: List[Ticket]) -> bool:
    """Whether a chase of these tickets waits for the send window: at night, unless one is due before it opens."""
    due = earliest_due(tickets)
    return waits_for_morning(now, due if due is not None else now + timedelta(days=1))


def morning_of(held_at: datetime, tz: tzinfo) -> datetime:
    """When a chase held at ``held_at`` is sent: the send window's next opening."""
    return next_send_window(held_at.astimezone(tz))


async def chase_sms(db: Database, settings: Settings, tz: tzinfo, key: str, manager: AccountManager,
                    tickets: List[Ticket], customer: Customer, contact: Contact, *, now: datetime) -> Sms:
    """One SMS to ``manager`` naming each ticket with its deadline, and for a complaint about another manager,
    whom it is about; it links the ticket, or the customer's page when there are several."""
    dues = []
    for ticket in tickets:
        about = await db.managers.get(ticket.about_manager) if ticket.about_manager else None
        whom = f"{about_manager(about.name)}，" if about is not None and about.id != manager.id else ""
        deadline = ticket_deadline(ticket, "zh", tz, now) or label("ticket_kind", str(ticket.kind), "zh")
        dues.append(f"{ticket.id}（{whom}{deadline}）")
    link = f"tickets/{tickets[0].id}" if len(tickets) == 1 else f"customers/{customer.id}"
    body = (f"{settings.sms_signature}客户催办：{contact_line(customer.company_name, contact)}"
            f"催办{'、'.join(dues)}。请尽快处理：{settings.console_url}/{link}")
    return Sms.of(key=key, kind="sla_watch", to=manager.mobile, body=body, customer_id=customer.id,
                  contact_id=contact.contact_id, language="zh")
