"""Maintenance notices (every 5 minutes): service notices to every contact of the customers a window covers.

Stages, each once per contact under its own key ``mw:<window>:<stage>:<contact>``:

- ``announce`` when the window is announced, if it starts at least 24 h later;
- ``reminder`` 24 h before it starts (the only advance notice of a window announced at shorter notice);
- ``v<n>-change`` after each change, and ``cancel`` after a cancellation, to everyone already told;
- ``ended`` when it is over.

Advance notices (and changes and cancellations) go out inside the send window, except for a window
starting before the send window next opens: that is told at once. ``ended`` waits for the send
window (it names the time the work ended). Being service notices, they reach opted-out contacts too.
"""

from __future__ import annotations

from datetime import timedelta
from typing import AsyncIterator, Dict, List, Optional, Set
from zoneinfo import ZoneInfo

from care_scheduler.planning import PlanContext, Planned, render_into
from carecore.deadlines import in_send_window, next_send_window
from carecore.model import Customer, MaintenanceWindow
from carecore.texts import fmt_time, label

KIND = "maintenance"
ADVANCE = timedelta(hours=24)
TOLD = ("announce", "reminder", "change")  # stages after which a contact counts as told
SHOWN_CIRCUITS = 3


def _stage_of(key: str) -> str:
    return key.split(":")[2]


def due_stages(window: MaintenanceWindow, ctx: PlanContext) -> List[str]:
    """The stages due at ``ctx.now`` for contacts not yet sent them."""
    now = ctx.now
    if window.cancelled_at is not None:
        return ["cancel"] if _may_send_advance(window, ctx) else []
    if now >= window.end:  # nothing left to prepare for: a night's work is reported in the morning
        return ["ended"] if in_send_window(now) else []
    stages: List[str] = []
    if _may_send_advance(window, ctx):
        if window.version > 1:
            stages.append(f"v{window.version}-change")
        stages.append("announce" if window.start - now >= ADVANCE else "reminder")
    return stages


def _may_send_advance(window: MaintenanceWindow, ctx: PlanContext) -> bool:
    """Inside the send window, or at once when the window starts before the send window opens again."""
    return in_send_window(ctx.now) or window.start < next_send_window(ctx.now)


def _changed_lately(window: MaintenanceWindow) -> bool:
    return window.version > 1 and window.updated_at >= window.start - ADVANCE


def _circuits_text(circuit_ids: List[str], lang: str) -> str:
    shown = "、".join(circuit_ids[:SHOWN_CIRCUITS]) if lang == "zh" else ", ".join(circuit_ids[:SHOWN_CIRCUITS])
    more = len(circuit_ids) - SHOWN_CIRCUITS
    if more <= 0:
        return shown
    return f"{shown}等{len(circuit_ids)}条电路" if lang == "zh" else f"{shown} and {more} more"


def _plans_for(ctx: PlanContext, window: MaintenanceWindow, customer: Customer, stage: str,
               sent: Set[str], told: Set[str]) -> List[Planned]:
    tz = ZoneInfo(ctx.settings.timezone)
    covered = set(window.circuit_ids)
    mine = [c.circuit_id for c in customer.services if c.circuit_id in covered]
    plans = []
    for contact in customer.contacts:
        key = f"mw:{window.id}:{stage}:{contact.contact_id}"
        if key in sent:
            continue
        if (stage == "cancel" or stage.endswith("-change")) and contact.contact_id not in told:
            continue
        if stage == "reminder" and contact.contact_id in told and _changed_lately(window):
            continue  # the change notice, sent within 24 h of the start, says what the reminder would
        lang = contact.language
        plan = Planned.to_contact(key, KIND, customer, contact)
        render_into(plan, ctx, "maintenance", {
            "stage": stage.split("-")[-1], "contact_name": contact.name, "window_id": window.id,
            "circuits": _circuits_text(mine, lang) or "-", "start": fmt_time(window.start, lang, tz),
            "end": fmt_time(window.end, lang, tz), "impact": label("maintenance_impact", window.impact, lang),
            "description": (window.description_en if lang == "en" else window.description_zh).rstrip("。.！!"),
            **ctx.manager_values(customer, lang)})
        plans.append(plan)
    return plans


async def plan_maintenance(ctx: PlanContext) -> AsyncIterator[Planned]:
    for window in await ctx.db.maintenance.watched(ctx.now):
        stages = due_stages(window, ctx)
        if not stages:
            continue
        recorded = await ctx.db.sends.keys_with_prefix(f"mw:{window.id}:")
        sent = set(recorded)
        # told before the latest change: a contact first told after it already heard the new version
        told = {key.rsplit(":", 1)[1] for key, at in recorded.items()
                if _stage_of(key).split("-")[-1] in TOLD and at < window.updated_at}
        customer_ids: Set[str] = set(window.customer_ids)
        if window.cancelled_at is not None or any(s.endswith("-change") for s in stages):
            # those told before a change removed them, or before the cancellation
            customer_ids |= set(await ctx.db.customers.ids_of_contacts(sorted(told)))
        customers: Dict[str, Optional[Customer]] = {}
        async for doc in ctx.db.customers.stream({"_id": {"$in": sorted(customer_ids)}}):
            customers[doc["_id"]] = Customer.from_stored(doc)
        for stage in stages:
            for customer in customers.values():
                assert customer is not None
                if stage in ("announce", "reminder", "ended") and customer.id not in window.customer_ids:
                    continue
                for plan in _plans_for(ctx, window, customer, stage, sent, told):
                    yield plan
