"""The daily brief (08:30): one SMS per account manager with what needs them today.

Call-backs owed on open escalations (soonest first, with when), birthdays today and tomorrow, open tickets (SLA
risks marked), follow-ups (回访) owed, pending bill
claims, open complaints, accounts whose bill fell overdue yesterday, visits due (named when due today),
yesterday's compliments, contacts whose number was disowned and the console link; nothing to report,
nothing sent. A complaint about a manager is counted and named in the brief of the supervisor who
answers it, not in theirs. Key
``brief:<manager>:<date>``. A deactivated manager gets none; their accounts are in the brief of whoever acts
for them (``acting_manager``).
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from typing import AsyncIterator, Dict, List, Sequence, Set, Tuple
from zoneinfo import ZoneInfo

from care_scheduler.arrears import newly_overdue
from care_scheduler.calendar import is_birthday
from care_scheduler.planning import PlanContext, Planned, render_into
from care_scheduler.visits import due_among
from carecore.model import AccountManager, Customer, Ticket, acting_manager, supervisor_above
from carecore.texts import fmt_time, yuan

KIND = "brief"
SHOWN = 5  # names per line; the rest is counted, so the SMS stays within a few segments
AT_RISK = timedelta(hours=2)


def short(items: Sequence[str], limit: int = SHOWN) -> str:
    shown = "、".join(items[:limit])
    return f"{shown}等{len(items)}项" if len(items) > limit else shown


LEGAL_FORMS = re.compile(r"(?<!分)(股份有限公司|有限责任公司|有限公司|集团公司|公司)$")  # a 分公司 keeps its name
COMPANY_CHARS = 10


def short_company(name: str) -> str:
    """A company as a manager calls it: its legal form dropped ("广州远航物流有限公司" -> "广州远航物流"), and
    cut with an ellipsis past 10 characters, so a name is never clipped silently mid-word."""
    name = LEGAL_FORMS.sub("", name.strip()) or name
    return name if len(name) <= COMPANY_CHARS else name[:COMPANY_CHARS - 1] + "…"


def _company(customer: Customer) -> str:
    return short_company(customer.company_name)


def at_sla_risk(ticket: Ticket, ctx: PlanContext) -> bool:
    """A ticket whose unmet deadline is missed already or falls within two hours."""
    return ticket.sla is not None and any(due - ctx.now <= AT_RISK for due in ticket.sla.unmet())


async def _brief_for(ctx: PlanContext, manager: AccountManager, books: List[str],
                     answered: Sequence[Tuple[Ticket, str]], moved: Set[str]) -> Planned | None:
    """``books``: the managers whose accounts this one answers for, their own first; ``answered``: the complaints
    about a manager below that this one answers, each with its line; ``moved``: every such complaint's id."""
    docs = [doc async for doc in ctx.db.customers.stream({"account_manager_id": {"$in": books}})]
    customers: List[Customer] = [Customer.parse_obj(doc) for doc in docs]
    if not customers and not answered:
        return None
    tomorrow = ctx.day + timedelta(days=1)
    today_names, tomorrow_names, disowned = [], [], []
    for customer in customers:
        for contact in customer.contacts:
            if not contact.reachable:  # named every morning until someone gives them another mobile
                disowned.append(f"{contact.name}（{_company(customer)}）")
            elif is_birthday(contact.birthday, ctx.day):
                today_names.append(f"{contact.name}（{_company(customer)}）")
            elif is_birthday(contact.birthday, tomorrow):
                tomorrow_names.append(f"{contact.name}（{_company(customer)}）")
    ids = [c.id for c in customers]
    names = {c.id: _company(c) for c in customers}
    tickets = [t for t in await ctx.db.tickets.open_for_customers(ids) if t.id not in moved]
    tickets += [t for t, _ in answered]
    risky = [t.id for t in tickets if at_sla_risk(t, ctx)]
    claims = await ctx.db.claims.pending_for_customers(ids)
    # from the tickets this manager answers: a complaint about them is their supervisor's to answer, not theirs
    complaints = sorted({names[t.customer_id] for t in tickets if t.kind == "complaint" and t.customer_id in names})
    followups = [f"{t.id}（{names[t.customer_id]}，{t.survey.score}分）" for t in await ctx.db.tickets.followups_open(ids)
                 if t.survey is not None]
    overdue = [f"{names[a.customer_id]}（{yuan(a.owed_fen)}元）"
               for a in await newly_overdue(ctx.db, ctx.settings.payment_due_days, ctx.day, ids)]
    zone = ZoneInfo(ctx.settings.timezone)
    due = due_among(docs, await ctx.db.visits.last_visits(ids), ctx.settings.visit_every_days, zone, ctx.day)
    visits_today = [short_company(v.company) for v in due if v.due_on == ctx.day]
    praised = await _praised_yesterday(ctx, customers)
    waiting = await ctx.db.escalations.open_for_managers(books)
    for customer_id in {e.customer_id for e in waiting} - set(names):  # answered above the account's manager
        other = await ctx.db.customers.get(customer_id)
        names[customer_id] = _company(other) if other else customer_id
    callbacks = [f"{e.id}（{names[e.customer_id]}，{fmt_time(e.contact_by, 'zh', zone)}{'' if e.callback_asked else '前'}"
                 f"{'，已逾期' if e.contact_by < ctx.now else ''}）" for e in waiting]
    if not (callbacks or today_names or tomorrow_names or tickets or claims or complaints or followups or overdue
            or visits_today or praised or disowned):
        return None
    plan = Planned(f"brief:{manager.id}:{ctx.day.isoformat()}", KIND, manager.mobile, "zh", None, None)
    render_into(plan, ctx, "brief", {
        "manager_name": manager.name, "day_label": f"{ctx.day.month}月{ctx.day.day}日", "callbacks": short(callbacks),
        "birthdays_today": short(today_names), "birthdays_tomorrow": short(tomorrow_names),
        "ticket_count": len(tickets), "at_risk": short(risky),
        "claims": short([f"{c.id}（{names[c.customer_id]}）" for c in claims]),
        "complaints": short(complaints), "about_managers": short([line for _, line in answered]),
        "followups": short(followups), "overdue": short(overdue),
        "visits_due": len(due), "visits_today": short(visits_today), "praised": short(praised),
        "disowned": short(disowned),
        "console_url": ctx.settings.console_url,
    })
    plan.notes.append(f"{len(callbacks)} call-backs owed, {len(today_names)} birthdays today, "
                      f"{len(tomorrow_names)} tomorrow, {len(tickets)} open tickets ({len(risky)} at risk), {len(claims)} claims, {len(complaints)} unhappy customers, "
                      f"{len(answered)} complaints about a manager, "
                      f"{len(followups)} follow-ups, {len(overdue)} newly in arrears, {len(due)} visits due, "
                      f"{len(praised)} compliments yesterday, {len(disowned)} contacts' numbers disowned")
    return plan


async def _praised_yesterday(ctx: PlanContext, customers: Sequence[Customer]) -> List[str]:
    """Who praised the team yesterday (local day), so a compliment reaches the manager the morning after."""
    zone = ZoneInfo(ctx.settings.timezone)
    given = await ctx.db.compliments.for_customers(
        [c.id for c in customers], since=datetime.combine(ctx.day - timedelta(days=1), time(), zone),
        before=datetime.combine(ctx.day, time(), zone), limit=100)
    contacts = {contact.contact_id: (contact.name, customer) for customer in customers for contact in customer.contacts}
    named = [f"{name}（{_company(customer)}）" for name, customer in
             (contacts.get(c.contact_id, ("", None)) for c in reversed(given)) if customer is not None]
    return list(dict.fromkeys(named))  # a contact who praised twice is named once


async def _complaints_above(ctx: PlanContext) -> Dict[str, List[Tuple[Ticket, str]]]:
    """Open complaints about a manager, by the supervisor who answers them (``supervisor_above``), each with its
    brief line; one with nobody active above stays with whoever answers for the account."""
    found: Dict[str, List[Tuple[Ticket, str]]] = {}
    for ticket in await ctx.db.tickets.open_about_managers():
        about = ticket.about_manager
        supervisor = supervisor_above(about, ctx.managers) if about else None
        if about is None or supervisor is None:  # nobody active above: it stays in the account's books
            continue
        customer = await ctx.db.customers.get(ticket.customer_id)
        if customer is not None:
            line = f"{ticket.id}（{_company(customer)}，{ctx.managers[about].name}）"
            found.setdefault(supervisor.id, []).append((ticket, line))
    return found


async def plan_briefs(ctx: PlanContext) -> AsyncIterator[Planned]:
    books: Dict[str, List[str]] = {}
    for manager_id in sorted(ctx.managers):
        acting = acting_manager(manager_id, ctx.managers)
        if acting is not None:
            books.setdefault(acting.id, []).append(manager_id)
    above = await _complaints_above(ctx)
    moved = {ticket.id for answered in above.values() for ticket, _ in answered}
    for manager_id, ids in sorted(books.items()):
        plan = await _brief_for(ctx, ctx.managers[manager_id], sorted(ids, key=lambda i: i != manager_id),
                                above.get(manager_id, []), moved)
        if plan is not None:
            yield plan
