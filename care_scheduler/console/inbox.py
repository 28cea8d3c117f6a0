"""The inbox: a manager's open escalations, tickets and follow-ups (回访), the most urgent first, and whose
birthday it is today among the contacts in scope, by the birthday campaign's rules (Feb 29, lunar dates)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, List, Tuple

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.console.pages import PREFIX, db_of, render, viewer
from care_scheduler.console.reports import birthday_rows
from carecore.config import Settings
from carecore.model import Ticket

BIRTHDAYS_SHOWN = 20  # a group manager's day can hold thousands: the rest are in the birthday report


def ticket_due(ticket: Ticket, settings: Settings) -> datetime:
    """When a ticket needs its next step: its first unmet deadline (a complaint's is its reply deadline)."""
    unmet = ticket.sla.unmet() if ticket.sla is not None else []
    if unmet:
        return unmet[0]
    # Met deadlines, or a complaint from before complaints had deadlines: the default silver reply time.
    return ticket.created_at + timedelta(hours=settings.complaint_reply_hours["silver"])


async def inbox(request: web.Request) -> web.Response:
    seen = await viewer(request)
    db, settings, now = db_of(request), request.app[SETTINGS], request.app[CLOCK].now()
    customer_ids = await seen.scope.customer_ids(db)
    escalations = await db.escalations.for_customers(customer_ids)
    tickets = await db.tickets.open_for_customers(customer_ids)
    items: List[Tuple[datetime, str, Any]] = [(e.contact_by, "escalation", e) for e in escalations]
    items += [(ticket_due(t, settings), "ticket", t) for t in tickets]
    items += [(t.followup.due, "followup", t) for t in await db.tickets.followups_open(customer_ids)
              if t.followup is not None]
    items.sort(key=lambda item: item[0])
    names = await db.customers.company_names(i.customer_id for _, _, i in items)
    birthdays = await birthday_rows(request, seen, [now.date()])  # the clock's own day, read once
    return render(request, "inbox.html", seen.lang, seen.session, seen.manager, items=items, now=now, names=names,
                  birthdays=birthdays[:BIRTHDAYS_SHOWN], birthdays_total=len(birthdays))


async def to_inbox(request: web.Request) -> web.Response:
    raise web.HTTPFound(f"{PREFIX}/")
