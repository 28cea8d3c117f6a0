"""Who gets which care message on a given day, as a stream of ``Planned`` messages read through a cursor.

Each plan carries its own idempotency key (kind + contact or customer + period), so a rerun of the
same day plans the same keys and the gateway sends nothing twice.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any, AsyncIterator, Dict, List, Optional
from zoneinfo import ZoneInfo

from care_scheduler.arrears import plan_arrears
from care_scheduler.brief import plan_briefs
from care_scheduler.broadcasts import plan_broadcasts
from care_scheduler.calendar import birthdays_greeted, festival_on, is_birthday
from care_scheduler.compensation import plan_compensation
from care_scheduler.kpi_brief import plan_kpi_briefs
from care_scheduler.maintenance_notices import plan_maintenance
from care_scheduler.planning import PlanContext, Planned, render_into
from care_scheduler.sla_watch import plan_sla_watch
from care_scheduler.surveys import plan_surveys
from carecore.model import TOP_TIERS, Contact, Customer, month_key
from carecore.months import shift_month
from carecore.texts import change_from_previous, label, month_label, yuan

log = logging.getLogger(__name__)

KINDS = ("birthday", "holiday", "usage", "compensation", "sla_watch", "brief", "survey", "maintenance", "kpi_brief",
         "arrears", "broadcast")
FESTIVAL_NAMES = {
    "new_year": ("元旦", "New Year"),
    "spring_festival": ("春节", "Spring Festival"),
    "mid_autumn": ("中秋节", "Mid-Autumn Festival"),
    "national_day": ("国庆节", "National Day"),
}


def _greeting(ctx: PlanContext, kind: str, template: str, customer: Customer, contact: Contact, key: str,
              values: Dict[str, Any]) -> Planned:
    """A greeting: marketing-like, so consent applies and no promotion reaches an unhappy customer."""
    lang = contact.language
    plan = Planned.to_contact(key, kind, customer, contact)
    promo = ctx.promo.get(lang, "")
    if customer.id in ctx.open_complaints and promo:
        promo = ""
        plan.notes.append("promo withheld: open complaint")
    render_into(plan, ctx, template, {**values, "promo": promo, **ctx.opt_out(contact)})
    if contact.sms_opt_out:
        plan.suppressed_reason = "opted_out"
    return plan


async def plan_birthdays(ctx: PlanContext) -> AsyncIterator[Planned]:
    """Contacts whose birthday is today; diamond and gold get their manager's personal wishes.

    A run for a day already past (its greetings waited for the next morning's send window, or
    an operator ran an earlier day) says "belatedly", instead of "on your birthday" a day late.
    """
    belated = ctx.now.astimezone(ZoneInfo(ctx.settings.timezone)).date() > ctx.day
    async for doc in ctx.db.customers.with_birthday_in(birthdays_greeted(ctx.day)):
        customer = Customer.from_stored(doc)  # read from customers: checked on write
        for contact in customer.contacts:
            if not is_birthday(contact.birthday, ctx.day):  # a colleague's birthday
                continue
            personal = contact.tier in TOP_TIERS
            values = {"contact_name": contact.name, "region": customer.region.province.rstrip("省市"),
                      "belated": belated, **(ctx.manager_values(customer, contact.language) if personal else {})}
            yield _greeting(ctx, "birthday", "birthday_personal" if personal else "birthday", customer, contact,
                            f"birthday:{contact.contact_id}:{ctx.day.isoformat()}", values)


async def plan_holiday(ctx: PlanContext) -> AsyncIterator[Planned]:
    festival = festival_on(ctx.day, ctx.extra_festivals)
    if festival is None:
        return
    async for doc in ctx.db.customers.stream({}):
        customer = Customer.from_stored(doc)  # read from customers: checked on write
        for contact in customer.contacts:
            zh, en = FESTIVAL_NAMES.get(festival, (festival, festival))
            values = {"contact_name": contact.name, "company_name": customer.company_name,
                      "festival_name": en if contact.language == "en" else zh}
            yield _greeting(ctx, "holiday", "holiday", customer, contact,
                            f"holiday:{festival}:{contact.contact_id}:{ctx.day.year}", values)


def bill_days_due(day: date) -> List[int]:
    """Bill days due today: a bill day past the end of a short month falls on its last day."""
    next_day = day.toordinal() + 1
    if date.fromordinal(next_day).month != day.month:  # last day of the month
        return list(range(day.day, 32))
    return [day.day]


@dataclass
class UsageGaps:
    customers: List[str] = field(default_factory=list)


async def plan_usage(ctx: PlanContext, gaps: Optional[UsageGaps] = None) -> AsyncIterator[Planned]:
    """On each customer's bill day, last month's consumption to the billing contact."""
    month = shift_month(month_key(ctx.day), -1)
    before = shift_month(month, -1)
    due = bill_days_due(ctx.day)
    async for doc in ctx.db.customers.with_bill_day_in(due):
        customer = Customer.from_stored(doc)  # read from customers: checked on write
        usage = await ctx.db.usage.get(customer.id, month)
        if usage is None:
            if gaps is not None:
                gaps.customers.append(customer.id)
            log.info("no usage data for %s in %s: nothing sent", customer.id, month)
            continue
        contact = customer.billing_contact()
        if contact is None:
            log.info("%s has no contact to reach: no usage SMS", customer.id)
            continue
        previous = await ctx.db.usage.get(customer.id, before)
        lang = contact.language
        change = change_from_previous(usage.amount_fen, previous.amount_fen if previous else None, lang)
        values = {
            "company_name": customer.company_name,
            "month_label": month_label(month, lang),
            "voice_minutes": f"{usage.voice_minutes:,}", "data_gb": f"{usage.data_mb / 1024:,.1f}",
            "sms_count": f"{usage.sms_count:,}", "amount": yuan(usage.amount_fen), "change": change,
            "manager_name": ctx.manager_values(customer, lang)["manager_name"],
            "tier": label("tier", contact.tier, lang), **ctx.opt_out(contact),
        }
        plan = Planned.to_contact(f"usage:{customer.id}:{month}", "usage", customer, contact)
        render_into(plan, ctx, "usage", values)
        if contact.sms_opt_out:
            plan.suppressed_reason = "opted_out"
        yield plan


def plans_for(kind: str, ctx: PlanContext, gaps: Optional[UsageGaps] = None) -> AsyncIterator[Planned]:
    if kind == "birthday":
        return plan_birthdays(ctx)
    if kind == "holiday":
        return plan_holiday(ctx)
    if kind == "usage":
        return plan_usage(ctx, gaps)
    if kind == "compensation":
        return plan_compensation(ctx)
    if kind == "sla_watch":
        return plan_sla_watch(ctx)
    if kind == "brief":
        return plan_briefs(ctx)
    if kind == "survey":
        return plan_surveys(ctx)
    if kind == "maintenance":
        return plan_maintenance(ctx)
    if kind == "kpi_brief":
        return plan_kpi_briefs(ctx)
    if kind == "arrears":
        return plan_arrears(ctx)
    if kind == "broadcast":
        return plan_broadcasts(ctx)
    raise ValueError(f"unknown campaign kind {kind!r}; known: {', '.join(KINDS)}")
