"""Opening a complaint or fault ticket, the same whether the assistant takes it or the account manager does; and
reopening a fault its customer says was not fixed.

A ticket's number is per business day; its deadlines are counted from the moment it is opened, as the
database keeps it, so they are exactly its SLA hours after creation. A fault on a circuit in a planned
maintenance window names the window: it earns no SLA credit. An urgent ticket (a diamond or gold
contact's fault: the green channel) pages the account manager at once, and a complaint about the account
manager pages their supervisor (at night only when its reply is due before 08:00), unless the one paged
opened it.
"""

from __future__ import annotations

import logging
import re
from datetime import timedelta, tzinfo
from typing import Any, Dict, Optional

from carecore.clock import Clock, as_stored
from carecore.config import Settings
from carecore.deadlines import complaint_deadline, fault_deadlines, waits_for_morning
from carecore.model import TOP_TIERS, Circuit, Contact, Customer, Priority, Ticket, TicketEvent, TicketKind
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.sms.message import Sms
from carecore.texts import about_manager, contact_line, fmt_time, label

log = logging.getLogger(__name__)

# Complaint categories, stored by key (labels: ``texts.LABELS["complaint_category"]``): the words that name each.
CATEGORIES: Dict[str, str] = {
    "network": r"网络|信号|网速|断网|掉线|丢包|延迟|上不了网|network|signal|speed|outage|latency|packet loss",
    # what a wrong bill is called ("多扣了钱", "乱收费", "we were charged twice") as well as its name
    "billing": r"账单|费用|扣费|收费|话费|多收|多扣|乱收|乱扣|扣了?\S{0,6}钱|收了?\S{0,6}钱|退款|退钱|发票|计费|"
               r"bill|charge|fee|invoice|refund",
    # the customer's own manager, or a request for another one: handled above the manager (``page_manager``)
    "manager": r"客户经理|(?:换|更换|调换)\S{0,6}经理|经理\S{0,4}换|account manager|"
               r"(?:change|replace|switch|reassign|different|new|another)\b.{0,30}\bmanager",
    "attitude": r"态度|客服|热线|服务\S{0,3}差|rude|attitude|staff|hotline",
    "timeliness": r"装机|维修|时效|慢|拖|上门|师傅|放鸽子|install|repair|delay|slow|engineer|technician|"
                  r"(?:show|showed|turn|turned) up",
    "other": r"其他|其它|other|else",
}


def category_of(text: str) -> str:
    """The category a customer's words name (its key), ``other`` when none."""
    return next((key for key, words in CATEGORIES.items() if re.search(words, text, re.I)), "other")


MIN_DESCRIPTION, MAX_DESCRIPTION = 4, 4000  # characters a complaint's or fault's description takes
# A fault reported on a circuit this soon after its ticket was resolved is that fault, not fixed: the ticket is
# reopened, as a repeat fault (重复障碍) is counted against the fix.
REOPEN_WITHIN = timedelta(hours=24)


async def _open(db: Database, clock: Clock, kind: TicketKind, customer: Customer, contact: Contact, *,
                actor: str, sender_id: Optional[str], fields: Dict[str, Any]) -> Ticket:
    now = fields["created_at"]
    return await db.tickets.create({
        "_id": await db.tickets.next_id(kind, clock.now().date()),
        "kind": kind.value, "customer_id": customer.id, "contact_id": contact.contact_id,
        "manager_id": customer.account_manager_id, "sender_id": sender_id,
        "history": [{"at": now, "actor": actor, "action": "created"}], "updated_at": now, **fields,
    })


async def open_complaint(db: Database, settings: Settings, clock: Clock, customer: Customer, contact: Contact, *,
                         category: str, text: str, urgent: bool, actor: str,
                         sender_id: Optional[str] = None) -> Ticket:
    """A complaint with its reply deadline by the contact's tier (important and group customers: gold's at most);
    its category is stored by key, whatever names it (a key, a label, the customer's words)."""
    now = as_stored(clock.now())
    due = complaint_deadline(contact.tier, customer.customer_class, now, settings.complaint_reply_hours)
    return await _open(db, clock, TicketKind.complaint, customer, contact, actor=actor, sender_id=sender_id, fields={
        "created_at": now, "category": category if category in CATEGORIES else category_of(category),
        "text": text[:MAX_DESCRIPTION],
        "priority": "urgent" if urgent else "normal", "sla": {"response_due": due}})


async def open_fault(db: Database, settings: Settings, clock: Clock, customer: Customer, contact: Contact,
                     circuit: Circuit, *, text: str, actor: str, sender_id: Optional[str] = None) -> Ticket:
    """A fault on one of the customer's circuits, with response and restore deadlines by the contact's tier and the
    circuit's SLA class, whichever is faster; urgent for the green channel and for premium circuits."""
    now = as_stored(clock.now())
    due = fault_deadlines(contact.tier, circuit.sla_class, now, settings.fault_sla_hours, settings.circuit_sla_hours)
    window = (await db.maintenance.active_for_circuits([circuit.circuit_id], clock.now())).get(circuit.circuit_id)
    return await _open(db, clock, TicketKind.fault, customer, contact, actor=actor, sender_id=sender_id, fields={
        "created_at": now, "circuit_id": circuit.circuit_id, "text": text[:MAX_DESCRIPTION],
        "priority": "urgent" if contact.tier in TOP_TIERS or circuit.sla_class == "premium" else "high",
        "sla": {"response_due": due.response_due, "restore_due": due.restore_due},
        **({"maintenance_id": window.id} if window is not None else {})})


def held_overnight(ticket: Ticket, tz: tzinfo) -> bool:
    """A complaint about the manager, not urgent, opened outside the send window with its reply due after it
    opens: its page waits for 08:00 (the SLA watch sends it), so that no supervisor is woken for what can wait."""
    if ticket.about_manager is None or ticket.priority == Priority.urgent or ticket.sla is None:
        return False
    return waits_for_morning(ticket.created_at.astimezone(tz), ticket.sla.response_due)


async def open_fault_on(db: Database, customer_id: str, circuit_id: str) -> Optional[Ticket]:
    """The circuit's fault ticket still open, newest first: a second report of it is the same outage, whoever
    takes it."""
    found = await db.tickets.for_customer(customer_id, open_only=True, circuit_id=circuit_id, limit=1,
                                          kinds=(TicketKind.fault.value,))
    return found[0] if found else None


async def fault_reported_on(db: Database, clock: Clock, customer_id: str, circuit_id: str) -> Optional[Ticket]:
    """The fault ticket a new report on the circuit goes on: one still open (the report is added to it), else one
    resolved within ``REOPEN_WITHIN`` (the report reopens it); None when the report opens a ticket of its own."""
    return await open_fault_on(db, customer_id, circuit_id) or \
        await db.tickets.resolved_on_circuit(customer_id, circuit_id, clock.now() - REOPEN_WITHIN)


async def reopen_fault(db: Database, clock: Clock, customer: Customer, circuit_id: str, *, actor: str,
                       text: str, sender_id: Optional[str] = None) -> Optional[Ticket]:
    """The circuit's fault resolved within ``REOPEN_WITHIN``, reopened with what the customer says of it now; None
    when there is none."""
    since = clock.now() - REOPEN_WITHIN
    fixed = await db.tickets.resolved_on_circuit(customer.id, circuit_id, since)
    if fixed is None:
        return None
    event = TicketEvent(at=as_stored(clock.now()), actor=actor, action="reopened", note=text[:500], sender_id=sender_id)
    return await db.tickets.reopen(fixed.id, event, resolved_since=since)


async def manager_page(db: Database, settings: Settings, tz: tzinfo, ticket: Ticket, customer: Customer,
                       contact: Contact, *, opened_by: Optional[str] = None) -> Optional[Sms]:
    """The SMS (its key the ticket's id) to whoever must know of the new ticket at once, unless they opened it:
    for a complaint about the account manager (or asking for another one), the nearest active supervisor, so
    that no manager answers a complaint about themselves (the manager only when nobody is above); for another
    urgent ticket, the acting manager. None when nobody is to be paged. A reopened ticket's page says so, and is
    keyed by the reopening."""
    about = ticket.about_manager
    if ticket.sla is None or not (about or ticket.priority == Priority.urgent):
        return None
    manager = await db.managers.answering(customer.account_manager_id, about)
    if manager is None:
        log.error("ticket %s: no active manager for %s; nobody paged", ticket.id, customer.account_manager_id)
        return None
    if manager.id == opened_by:
        return None
    circuit = f"，电路{ticket.circuit_id}" if ticket.circuit_id else ""
    deadline = "响应" if ticket.kind == TicketKind.fault else "答复"
    urgency = "紧急" if ticket.priority == Priority.urgent else ""
    about_whom = await db.managers.get(about) if about else None
    about_line = f"（{about_manager(about_whom.name)}）" if about_whom is not None else ""
    reopened = ticket.times_reopened
    if reopened:  # its deadlines stand, and the restore one is what is now at stake
        due = fmt_time(ticket.sla.restore_due or ticket.sla.response_due, "zh", tz)
        what = f"客户反映故障未修复，工单已重新打开，修复时限{due}，请尽快处理"
    else:
        what = f"{ticket.text[:60]}。请于{fmt_time(ticket.sla.response_due, 'zh', tz)}前{deadline}"
    body = (f"{settings.sms_signature}{urgency}{label('ticket_kind', str(ticket.kind), 'zh')}单{ticket.id}{about_line}："
            f"{contact_line(customer.company_name, contact)}{circuit}。{what}：{settings.console_url}/tickets/{ticket.id}")
    key = f"page:{ticket.id}:reopened:{reopened}" if reopened else f"page:{ticket.id}"
    return Sms.of(key=key, kind="sla_watch", to=manager.mobile, body=body,
                  customer_id=customer.id, contact_id=contact.contact_id, language="zh")


async def page_manager(db: Database, gateway: SmsGateway, settings: Settings, clock: Clock, ticket: Ticket,
                       customer: Customer, contact: Contact, *, opened_by: Optional[str] = None) -> None:
    """Send the new ticket's page (``manager_page``) now, or leave it to the morning (``held_overnight``)."""
    if held_overnight(ticket, clock.tz):
        return
    page = await manager_page(db, settings, clock.tz, ticket, customer, contact, opened_by=opened_by)
    if page is not None:
        await gateway.send(page)
