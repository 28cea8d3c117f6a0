"""The inbox: a manager's open escalations, tickets and follow-ups (回访), the most urgent first, and whose
birthday it is today among the contacts in scope, by the birthday campaign's rules (Feb 29, lunar dates), and the
latest compliments customers gave.

A city manager, who makes the visits and the calls, also sees the accounts due for a visit (those due
today by name) and those whose bill fell overdue yesterday; province and group read those in the
reports, as counting them over a whole province on every page view would slow the landing page."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, List, Tuple
from zoneinfo import ZoneInfo

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.arrears import newly_overdue
from care_scheduler.console.pages import PREFIX, db_of, render, viewer
from care_scheduler.console.reports import birthday_rows
from care_scheduler.visits import VisitDue, visits_due
from carecore.config import Settings
from carecore.model import Ticket

BIRTHDAYS_SHOWN = 20  # a group manager's day can hold thousands: the rest are in the birthday report
COMPLIMENT_DAYS, COMPLIMENTS_SHOWN = 7, 5  # the latest praise in scope; each customer's page keeps the rest


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
    compliments = await db.compliments.for_customers(customer_ids, since=now - timedelta(days=COMPLIMENT_DAYS),
                                                     limit=COMPLIMENTS_SHOWN)
    names = await db.customers.company_names([i.customer_id for _, _, i in items]
                                             + [c.customer_id for c in compliments])
    birthdays = await birthday_rows(request, seen, [now.date()])  # the clock's own day, read once
    visits: List[VisitDue] = []
    overdue: List[Tuple[str, int]] = []
    if seen.manager.level == "city":
        today = request.app[CLOCK].today()
        visits = await visits_due(db, settings.visit_every_days, today, ZoneInfo(settings.timezone),
                                  [seen.manager.id])
        newly = await newly_overdue(db, settings.payment_due_days, today, customer_ids)
        companies = await db.customers.company_names(a.customer_id for a in newly)
        overdue = [(companies.get(a.customer_id, a.customer_id), a.owed_fen) for a in newly]
    return render(request, "inbox.html", seen.lang, seen.session, seen.manager, items=items, now=now, names=names,
                  birthdays=birthdays[:BIRTHDAYS_SHOWN], birthdays_total=len(birthdays), visits_due=len(visits),
                  compliments=compliments, compliment_days=COMPLIMENT_DAYS,
                  visits_today=[v for v in visits if v.due_on == request.app[CLOCK].today()], overdue=overdue)


async def to_inbox(request: web.Request) -> web.Response:
    raise web.HTTPFound(f"{PREFIX}/")
