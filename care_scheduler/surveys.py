"""The satisfaction survey (every 10 minutes): one SMS per resolved ticket, ``SURVEY_DELAY_MINUTES`` after.

It goes to the contact who raised the ticket, or the billing contact. Like a greeting it keeps the
send window and the contact's opt-out, and a suppressed survey is recorded on the ticket as well as
in the sends log, so it is decided once. The SMS carries a signed link to the one-question page
(``care_scheduler.public``), and offers a 1-5 reply only where replies reach the product.
A ticket resolved more than a week ago is no longer surveyed: the answer would mean little.
"""

from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator

from care_scheduler.planning import PlanContext, Planned, render_into
from carecore.model import UNFINISHED_VALUES, SendRecord, Survey, Ticket
from carecore.surveys import replies_reach_us
from carecore.texts import label

KIND = "survey"
STALE_AFTER = timedelta(days=7)


def survey_key(ticket_id: str) -> str:
    return f"survey:{ticket_id}"


async def _survey_plan(ctx: PlanContext, ticket: Ticket) -> Planned | None:
    found = await ctx.case_contact(f"survey of {ticket.id}", ticket.customer_id, ticket.contact_id)
    if found is None:
        return None
    customer, contact = found
    lang = contact.language
    plan = Planned.to_contact(survey_key(ticket.id), KIND, customer, contact)
    render_into(plan, ctx, "survey", {
        "contact_name": contact.name, "ticket_id": ticket.id, "kind_label": label("ticket_kind", str(ticket.kind), lang),
        "reply": replies_reach_us(contact.mobile), "link": ctx.link("survey", ticket.id)})
    if contact.sms_opt_out:
        plan.suppressed_reason = "opted_out"

    async def after(record: SendRecord) -> None:
        if record.status in UNFINISHED_VALUES:  # resumed under the same key by the next run
            return
        outcome = record.suppressed_reason if record.status == "suppressed" else record.status
        await ctx.db.tickets.record_survey(ticket.id, Survey(contact_id=contact.contact_id, sent_at=ctx.now,
                                                             outcome=outcome or record.status))

    plan.after = after
    return plan


async def plan_surveys(ctx: PlanContext) -> AsyncIterator[Planned]:
    latest = ctx.now - timedelta(minutes=ctx.settings.survey_delay_minutes)
    async for ticket in ctx.db.tickets.survey_due(latest - STALE_AFTER, latest):
        plan = await _survey_plan(ctx, ticket)
        if plan is not None:
            yield plan
