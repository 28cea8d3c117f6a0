"""SLA watch (every 5 minutes): warn before fault and complaint deadlines, escalate after them, tell customers
when a ticket is opened for them and when it is resolved, take a follow-up (回访) overdue by
``FOLLOWUP_HOURS`` to the province manager once, and tell a manager when a customer waiting for their
call writes again, and send the customers' chases (催办) held overnight.

Each warning, escalation level and notice has its own idempotency key, and each escalation step is
recorded in the ticket history before its SMS goes out. All are service messages: no consent check, and
no send window but for "the customer wrote again", the page of a complaint about a manager and a chase, which
wait for the morning unless their call-back or deadline is due first (docs/campaigns.md).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import AsyncIterator, Awaitable, Callable, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

from care_scheduler.planning import PlanContext, Planned, render_into, when_final
from carecore import ticket_chase
from carecore.clock import utcnow
from carecore.deadlines import in_send_window, waits_for_morning
from carecore.model import (
    UNFINISHED_VALUES,
    AccountManager,
    Contact,
    Customer,
    Escalation,
    SlaDeadlines,
    Ticket,
    TicketEvent,
    acting_manager,
)
from carecore.texts import contact_line, fmt_duration, fmt_time, label
from carecore.ticket_opening import held_overnight, manager_page

KIND = "sla_watch"
# What the customer told the assistant about an open ticket, as an alert says it.
CUSTOMER_SAID = {"customer_restored": "告知恢复", "customer_withdraw": "要求撤销"}
DEADLINE_NAMES = {("fault", "response"): "响应", ("fault", "restore"): "修复", ("complaint", "response"): "答复"}


def due_alerts(ticket: Ticket, now: datetime, warn_before: timedelta,
               escalate_after: Tuple[int, int, int]) -> List[Tuple[str, str, int, timedelta]]:
    """(key, deadline, level, time to or past the deadline) of every alert due for ``ticket`` at ``now``.

    Level 0 is the warning before the deadline; levels 1-3 climb the chain once it is missed.
    """
    assert ticket.sla is not None  # a complaint has only its reply (response) deadline
    alerts = []
    for name in SlaDeadlines.NAMES:
        due, met = ticket.sla.deadline(name)
        if due is None or met is not None:
            continue
        if now < due:
            if due - now <= warn_before:
                alerts.append((f"sla_warn:{ticket.id}:{name}", name, 0, due - now))
            continue
        overdue = now - due
        for level, after in enumerate(escalate_after, 1):
            if overdue >= timedelta(minutes=after):
                alerts.append((f"sla_esc:{ticket.id}:{name}:{level}", name, level, overdue))
    return alerts


async def _already_done(ctx: PlanContext, ticket: Ticket, key: str, *, send_key: Optional[str] = None) -> bool:
    """Noted in the ticket and sent (under ``send_key`` when the SMS covers several tickets): nothing left to do
    (a note without a finished send is resumed)."""
    if key not in ticket.alerts:
        return False
    record = await ctx.db.sends.get(send_key or key)
    return record is not None and record.status not in UNFINISHED_VALUES


def _noted(ctx: PlanContext, ticket_id: str, key: str, event: TicketEvent) -> Callable[[], Awaitable[None]]:
    """A plan's ``settle``: its alert noted in the ticket's history before the SMS goes out."""

    async def settle() -> None:
        await ctx.db.tickets.record_alert(ticket_id, key, event)

    return settle


def _alert_plan(ctx: PlanContext, ticket: Ticket, customer: Customer, contact: Contact,
                chain: List[AccountManager], alert: Tuple[str, str, int, timedelta]) -> Optional[Planned]:
    key, deadline, level, span = alert
    recipient = (chain[0] if chain else None) if level == 0 else (chain[level - 1] if level <= len(chain) else None)
    if recipient is None:
        return None
    assert ticket.sla is not None
    due, _ = ticket.sla.deadline(deadline)
    assert due is not None
    tz = ZoneInfo(ctx.settings.timezone)
    values: Dict[str, object] = {
        "ticket_id": ticket.id, "kind_label": label("ticket_kind", str(ticket.kind), "zh"),
        "company_name": customer.company_name, "tier": label("tier", contact.tier, "zh"),
        "circuit_id": ticket.circuit_id, "deadline_name": DEADLINE_NAMES[(str(ticket.kind), deadline)],
        "due_at": fmt_time(due, "zh", tz), "console_url": ctx.settings.console_url,
        # the customer said it is back, or asked to withdraw it: checking and closing it now keeps the deadline
        "customer_said": next((f"客户已于{fmt_time(e.at, 'zh', tz)}{CUSTOMER_SAID[e.action]}"
                               for e in reversed(ticket.history) if e.action in CUSTOMER_SAID), None),
    }
    plan = Planned(key, KIND, recipient.mobile, "zh", customer.id, None)
    if level == 0:
        render_into(plan, ctx, "sla_warning", {**values, "remaining": fmt_duration(span, "zh")})
        note = f"{deadline} deadline in {int(span.total_seconds() // 60)} min: warned {recipient.id}"
    else:
        render_into(plan, ctx, "sla_escalation", {**values, "level": level, "overdue": fmt_duration(span, "zh"),
                                                  "owner_name": chain[0].name})
        note = f"{deadline} deadline missed by {int(span.total_seconds() // 60)} min: level {level} ({recipient.id})"
    event = TicketEvent(at=utcnow(), actor="sla_watch", action="sla_warning" if level == 0 else "escalate",
                        note=note, level=level or None)

    plan.settle = _noted(ctx, ticket.id, key, event)
    plan.notes.append(note)
    return plan


async def escalation_resolution_plan(ctx: PlanContext, escalation: Escalation) -> Optional[Planned]:
    """The customer's notice that their account manager has dealt with what they escalated."""
    found = await ctx.db.customers.find_by_contact(escalation.contact_id)
    if found is None or found[0].id != escalation.customer_id:
        return None
    customer, contact = found
    plan = Planned.to_contact(f"resolved:{escalation.id}", KIND, customer, contact)
    render_into(plan, ctx, "escalation_resolved", {"contact_name": contact.name, "escalation_id": escalation.id,
                                                   **ctx.manager_values(customer, contact.language)})
    return plan


async def _ticket_notice(ctx: PlanContext, ticket: Ticket, stage: str, times: Dict[str, datetime]) -> Optional[Planned]:
    """A notice about the ticket to the contact who raised it (or the billing contact), in their language, naming
    who answers it: their manager, or for a complaint about the manager the supervisor above them. Keyed by the
    times the ticket was reopened too, so that a fault resolved again is told again."""
    found = await ctx.case_contact(f"ticket {ticket.id}", ticket.customer_id, ticket.contact_id)
    if found is None:
        return None
    customer, contact = found
    lang = contact.language
    reopened = ticket.times_reopened
    plan = Planned.to_contact(f"{stage}:{ticket.id}" + (f":{reopened}" if reopened else ""), KIND, customer, contact)
    render_into(plan, ctx, f"ticket_{stage}", {
        "contact_name": contact.name, "ticket_id": ticket.id, "circuit_id": ticket.circuit_id,
        "kind_label": label("ticket_kind", str(ticket.kind), lang),
        **ctx.manager_values(customer, lang, ticket.about_manager),
        **{name: fmt_time(moment, lang, ZoneInfo(ctx.settings.timezone)) for name, moment in times.items()}})
    return plan


async def opening_plan(ctx: PlanContext, ticket: Ticket) -> Optional[Planned]:
    """The contact's note of a ticket their manager opened for them: its number and first deadline, in writing."""
    assert ticket.sla is not None
    return await _ticket_notice(ctx, ticket, "opened", {"due_at": ticket.sla.response_due})


async def reopening_plan(ctx: PlanContext, ticket: Ticket) -> Optional[Planned]:
    """The contact's note of a fault reopened for them by their manager: the fix did not hold, and the restore
    deadline counted from the first report still stands."""
    assert ticket.sla is not None and ticket.sla.restore_due is not None
    return await _ticket_notice(ctx, ticket, "reopened", {"due_at": ticket.sla.restore_due})


async def resolution_plan(ctx: PlanContext, ticket: Ticket) -> Optional[Planned]:
    """The customer's "resolved" notice for a ticket, marking the ticket notified once it went out."""
    plan = await _ticket_notice(ctx, ticket, "resolved", {})
    if plan is not None:
        plan.after = when_final(lambda at, _status: ctx.db.tickets.mark_customer_notified(ticket.id, at))
    return plan


async def _overdue_followups(ctx: PlanContext) -> AsyncIterator[Planned]:
    for ticket in await ctx.db.tickets.followups_open(due_before=ctx.now):
        key = f"followup_esc:{ticket.id}"
        if await _already_done(ctx, ticket, key):
            continue
        customer = await ctx.db.customers.get(ticket.customer_id)
        assert ticket.followup is not None and ticket.survey is not None
        chain = await ctx.db.managers.chain(ticket.followup.manager_id)
        above = [m for m in chain[1:] if m.level in ("province", "group") and m.active]
        if customer is None or not above:
            continue
        tz = ZoneInfo(ctx.settings.timezone)
        plan = Planned(key, KIND, above[0].mobile, "zh", customer.id, None)
        render_into(plan, ctx, "followup_overdue", {
            "ticket_id": ticket.id, "kind_label": label("ticket_kind", str(ticket.kind), "zh"),
            "company_name": customer.company_name, "score": ticket.survey.score, "owner_name": chain[0].name,
            "due_at": fmt_time(ticket.followup.due, "zh", tz), "console_url": ctx.settings.console_url})
        note = f"follow-up overdue since {ticket.followup.due.isoformat()}: {above[0].id} alerted"
        event = TicketEvent(at=ctx.now, actor="sla_watch", action="followup_overdue", note=note)

        plan.settle = _noted(ctx, ticket.id, key, event)
        yield plan


async def _written_while_waiting(ctx: PlanContext) -> AsyncIterator[Planned]:
    """A customer whose conversation waits for their manager wrote again: the customer heard who calls back and
    by when (``bot.fallback``, at most hourly); the manager hears of it as often, the messages in the console.
    Outside the send window only when the call-back is due before it opens; the others in the morning."""
    for escalation in await ctx.db.escalations.written_while_waiting():
        seen = escalation.waiting_notice_at
        if waits_for_morning(ctx.now, escalation.contact_by):
            continue
        manager = acting_manager(escalation.manager_id, ctx.managers)
        found = await ctx.case_contact(f"escalation {escalation.id}", escalation.customer_id, escalation.contact_id)
        if seen is None or manager is None or found is None:
            continue
        customer, contact = found
        plan = Planned(f"waiting:{escalation.id}:{int(seen.timestamp())}", KIND, manager.mobile, "zh", customer.id,
                       None)
        render_into(plan, ctx, "escalation_waiting", {
            "escalation_id": escalation.id, "who": contact_line(customer.company_name, contact),
            "contact_by": fmt_time(escalation.contact_by, "zh", ZoneInfo(ctx.settings.timezone)),
            "console_url": ctx.settings.console_url})
        plan.after = when_final(lambda _at, _status, told=escalation.id, of=seen:
                                ctx.db.escalations.mark_manager_told(told, of))
        yield plan


async def _pages_held_overnight(ctx: PlanContext) -> AsyncIterator[Planned]:
    """The pages of complaints about a manager that waited for the morning (``held_overnight``)."""
    if not in_send_window(ctx.now):
        return
    tz = ZoneInfo(ctx.settings.timezone)
    for ticket in await ctx.db.tickets.open_about_managers():
        if not held_overnight(ticket, tz) or await ctx.db.sends.get(f"page:{ticket.id}") is not None:
            continue
        found = await ctx.case_contact(f"ticket {ticket.id}", ticket.customer_id, ticket.contact_id)
        if found is None:
            continue
        opened_by = ticket.history[0].actor if ticket.history else None
        page = await manager_page(ctx.db, ctx.settings, tz, ticket, *found, opened_by=opened_by)
        if page is not None:
            yield Planned.of_sms(page)


async def _chases_held_overnight(ctx: PlanContext) -> AsyncIterator[Planned]:
    """Chases that waited for the morning (``ticket_chase.waits``), paged when the send window opens to whoever
    answers them, unless a chase after the held one was paged at once: one SMS per customer contact and person
    paged, naming every ticket they chased, as the chase would have been by day."""
    if not in_send_window(ctx.now):
        return
    tz = ZoneInfo(ctx.settings.timezone)
    since = ctx.now - timedelta(days=1)
    groups: Dict[str, Tuple[Tuple[Customer, Contact], AccountManager, List[Tuple[Ticket, str]]]] = {}
    for ticket in await ctx.db.tickets.open_with_event(ticket_chase.URGED, ticket_chase.HELD, since):
        held = [e for e in ticket.history if e.action == ticket_chase.URGED and e.note == ticket_chase.HELD][-1]
        morning = ticket_chase.morning_of(held.at, tz)
        paged_since = any(e.action == ticket_chase.URGED and e.note != ticket_chase.HELD and e.at > held.at
                          for e in ticket.history)
        if morning > ctx.now or paged_since:
            continue
        found = await ctx.case_contact(f"ticket {ticket.id}", ticket.customer_id, held.actor.partition(":")[2])
        if found is None:
            continue
        [chase] = await ticket_chase.chases(ctx.db, found[0].account_manager_id, [ticket])
        if chase.manager is None:
            continue
        window = ticket_chase.window_of(morning)
        key = ticket_chase.held_sms_key(window, found[0].id, found[1].contact_id, chase.manager.id)
        noted = ticket_chase.alert_key(ticket, window)  # the ticket's page in that window, as a daytime chase notes it
        if not await _already_done(ctx, ticket, noted, send_key=key):
            groups.setdefault(key, (found, chase.manager, []))[2].append((ticket, noted))
    for key, (found, manager, chased) in groups.items():
        plan = Planned.of_sms(await ticket_chase.chase_sms(ctx.db, ctx.settings, tz, key, manager,
                                                           [t for t, _ in chased], *found, now=ctx.now))
        event = TicketEvent(at=ctx.now, actor="sla_watch", action="urge_paged", note=f"paged {manager.id}")

        async def settle(chased: List[Tuple[Ticket, str]] = chased, event: TicketEvent = event) -> None:
            for ticket, noted in chased:  # each ticket's page noted before the SMS goes out, as ``_noted`` does
                await ctx.db.tickets.record_alert(ticket.id, noted, event)
        plan.settle = settle
        yield plan


async def plan_sla_watch(ctx: PlanContext) -> AsyncIterator[Planned]:
    warn_before = timedelta(minutes=ctx.settings.sla_warn_before_minutes)
    chains: Dict[str, List[AccountManager]] = {}
    async for ticket in ctx.db.tickets.open_with_deadlines():
        alerts = due_alerts(ticket, ctx.now, warn_before, ctx.settings.sla_escalate_after_minutes)
        if not alerts:
            continue
        found = await ctx.case_contact(f"ticket {ticket.id}", ticket.customer_id, ticket.contact_id)
        if found is None:
            continue
        customer, contact = found
        if customer.account_manager_id not in chains:
            chains[customer.account_manager_id] = [  # a deactivated manager's alerts go to the next one up
                m for m in await ctx.db.managers.chain(customer.account_manager_id) if m.active]
        chain = chains[customer.account_manager_id]
        if ticket.about_manager:  # a complaint about the manager: warned and escalated above them
            chain = [m for m in chain if m.id != ticket.about_manager] or chain
        for alert in alerts:
            if await _already_done(ctx, ticket, alert[0]):
                continue
            plan = _alert_plan(ctx, ticket, customer, contact, chain, alert)
            if plan is not None:
                yield plan
    async for ticket in ctx.db.tickets.resolved_unnotified():
        plan = await resolution_plan(ctx, ticket)
        if plan is not None:
            yield plan
    async for plan in _overdue_followups(ctx):
        yield plan
    async for plan in _written_while_waiting(ctx):
        yield plan
    async for plan in _pages_held_overnight(ctx):
        yield plan
    async for plan in _chases_held_overnight(ctx):
        yield plan
