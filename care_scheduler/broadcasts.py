"""Broadcasts (群发短信): a service notice or a new-product promotion (新产品推广) to the contacts in an audience.

A province or group manager writes the text and picks the audience within their scope; the broadcast
job (every 5 minutes, in the send window) sends it once per contact (key ``bn:<broadcast>:<contact>``)
and marks it planned. A promotion is marketing: an opted-out contact is suppressed, the opt-out link is
added, and no customer with an open complaint gets it (the unified customer view), recorded as
suppressed ``open_complaint``. A notice goes to every contact in the audience.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, AsyncIterator, Dict, Iterable, List, Mapping, Optional
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from care_scheduler.planning import PlanContext, Planned, Tally, render_into
from carecore.config import Settings
from carecore.model import Broadcast, BroadcastPurpose, Customer
from carecore.phones import mask
from carecore.repository import Database

KIND = "broadcast"
UNNUMBERED = "BN-00000000-0000"  # a broadcast being checked or previewed has no number yet
FIELDS = ("purpose", "customer_class", "province", "city", "circuit_type", "text_zh", "text_en")


class BroadcastRefused(ValueError):
    """A broadcast that does not fit: ``field`` names the one at fault; nothing was written or sent."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field


def checked_broadcast(values: Mapping[str, Any], tiers: Iterable[str], manager_ids: Optional[Iterable[str]], *,
                      created_by: str, created_at: datetime) -> Broadcast:
    """The broadcast a manager asked for, to the accounts of ``manager_ids`` (their scope; None: every
    account), not numbered yet; raises ``BroadcastRefused`` naming the first field that does not fit."""
    text = {name: (str(values.get(name) or "")).strip() or None for name in FIELDS}
    doc = {"_id": UNNUMBERED, "purpose": text["purpose"], "text_zh": text["text_zh"], "text_en": text["text_en"],
           "created_by": created_by, "created_at": created_at,
           "audience": {"manager_ids": None if manager_ids is None else sorted(manager_ids),
                        "customer_class": text["customer_class"], "province": text["province"], "city": text["city"],
                        "circuit_type": text["circuit_type"], "tiers": sorted(set(tiers))}}
    try:
        return Broadcast.parse_obj(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = [str(part) for part in error["loc"] if part not in ("audience", "__root__")]
        raise BroadcastRefused(where[0] if where else "broadcast", error["msg"]) from None


async def queue_broadcast(db: Database, broadcast: Broadcast, day: date) -> Broadcast:
    """Number a checked broadcast and store it for the broadcast job; one that reaches no contact (a
    province outside the sender's scope, a tier no contact has) is refused rather than "sent" to none."""
    if not await db.broadcasts.reaches_anyone(broadcast.audience):
        raise BroadcastRefused("audience", "no contact in the audience: widen the filters")
    numbered = broadcast.copy(update={"id": await db.broadcasts.next_id(day)})
    await db.broadcasts.create(numbered.to_mongo())
    return numbered


@dataclass
class BroadcastPreview(Tally):
    samples: List[Dict[str, Any]] = field(default_factory=list)


async def preview_broadcast(db: Database, settings: Settings, broadcast: Broadcast, now: datetime) -> BroadcastPreview:
    """Who the broadcast would reach, what is suppressed and why, its segments and two sample messages."""
    ctx = await PlanContext.load(db, settings, now.astimezone(ZoneInfo(settings.timezone)).date(), now=now,
                                 preview=True)
    result = BroadcastPreview()
    async for plan in plan_broadcast(ctx, broadcast):
        if not result.add(plan):
            continue
        if len(result.samples) < 2 and plan.language not in {s["language"] for s in result.samples}:
            result.samples.append({"to": mask(plan.to), "language": plan.language, "body": plan.body,
                                   "segments": plan.segments})
    return result


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
            values: Dict[str, Any] = {"text": (broadcast.text_en if english else broadcast.text_zh) or "",
                                      **(ctx.opt_out(contact) if promotion else {"opt_out_url": ""})}
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
