"""Broadcasts (群发短信): a service notice or a new-product promotion (新产品推广) to the contacts in an audience.

A province or group manager writes the text and picks the audience within their scope; the broadcast
job (every 5 minutes, in the send window) sends it once per contact (key ``bn:<broadcast>:<contact>``)
and marks it planned. A promotion is marketing: an opted-out contact is suppressed, the opt-out link is
added, and no customer with an open complaint gets it (the unified customer view), recorded as
suppressed ``open_complaint``. A notice goes to every contact in the audience.
"""

from __future__ import annotations

from typing import AsyncIterator, Dict

from care_scheduler.planning import PlanContext, Planned, render_into
from carecore.model import Broadcast, BroadcastPurpose, Customer

KIND = "broadcast"


async def plan_broadcast(ctx: PlanContext, broadcast: Broadcast) -> AsyncIterator[Planned]:
    """One message per contact the audience names, in the contact's language when the text has it."""
    promotion = broadcast.purpose == BroadcastPurpose.promotion
    tiers = set(broadcast.audience.tiers)  # stored as their values
    async for doc in ctx.db.broadcasts.audience_customers(broadcast.audience):
        customer = Customer.from_stored(doc)  # read from customers: checked on write
        for contact in customer.contacts:
            if tiers and contact.tier not in tiers:
                continue
            plan = Planned.to_contact(f"bn:{broadcast.id}:{contact.contact_id}", KIND, customer, contact)
            english = contact.language == "en" and broadcast.text_en
            plan.language = "en" if english else "zh"
            values: Dict[str, str] = {"text": (broadcast.text_en if english else broadcast.text_zh) or "",
                                      "opt_out_url": ctx.link("opt_out", contact.contact_id) if promotion else ""}
            render_into(plan, ctx, "broadcast", values)
            if promotion and contact.sms_opt_out:
                plan.suppressed_reason = "opted_out"
            elif promotion and customer.id in ctx.open_complaints:
                plan.suppressed_reason = "open_complaint"
            yield plan


async def plan_broadcasts(ctx: PlanContext) -> AsyncIterator[Planned]:
    """Every queued broadcast, oldest first; each is marked planned once all its messages are handed over."""
    async for broadcast in ctx.db.broadcasts.queued():
        count = 0
        async for plan in plan_broadcast(ctx, broadcast):
            count += 1
            yield plan
        if not ctx.preview:
            await ctx.db.broadcasts.mark_planned(broadcast.id, ctx.now, count)
