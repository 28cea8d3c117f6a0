"""Arrears (欠费催缴): months billing says are not fully paid past their due date, and the reminder SMS.

A month's bill is issued on the customer's bill day of the next month and is due ``PAYMENT_DUE_DAYS``
later; a month still owing after that day is in arrears. Billing's figures are the only source:
a month without a paid amount on record is never counted as owed.

The billing contact gets one reminder for each month that falls into arrears (key
``arrears:<customer>:<month>``), in daytime on a working day (a company's finance office; no demand
for payment on 春节 or National Day), within ``REMINDER_DAYS`` of its due date: a bill overdue
for longer is the account manager's call to make, not a text that turns up weeks late or again once
a later month is paid. A service notice, so an opt-out does not stop it; but
it waits while the customer disputes a bill (an open billing complaint) or claims one never
arrived, since asking them to pay that bill would answer their complaint with a demand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import AsyncIterator, Dict, Iterable, List, Optional, Sequence, Tuple

from care_scheduler.planning import PlanContext, Planned, render_into
from carecore.deadlines import is_business_day
from carecore.model import Customer, month_key
from carecore.months import after_bill_day, shift_month
from carecore.repository import Database
from carecore.texts import fmt_date, month_label, yuan

log = logging.getLogger(__name__)

KIND = "arrears"
REMINDER_DAYS = 30


@dataclass(frozen=True)
class OwedMonth:
    month: str
    owed_fen: int
    due_on: date


@dataclass(frozen=True)
class Arrears:
    customer_id: str
    months: Tuple[OwedMonth, ...]  # oldest first

    @property
    def owed_fen(self) -> int:
        return sum(m.owed_fen for m in self.months)

    @property
    def oldest_due(self) -> date:
        return self.months[0].due_on

    def days_overdue(self, today: date) -> int:
        return (today - self.oldest_due).days


async def arrears_watch(db: Database, due_days: int, today: date,
                        customer_ids: Optional[Sequence[str]]) -> List[Arrears]:
    """The customers (of ``customer_ids``, or all with None) in arrears on ``today``: longest overdue first,
    then the largest amount."""
    owed = await db.usage.owed(shift_month(month_key(today), -1), customer_ids)
    bill_days = await db.customers.bill_days(c for c, _, _ in owed)
    months: Dict[str, List[OwedMonth]] = {}
    for customer_id, month, fen in owed:  # oldest month first
        if customer_id not in bill_days:  # the customer was removed
            continue
        due_on = after_bill_day(month, bill_days[customer_id], due_days)
        if today > due_on:
            months.setdefault(customer_id, []).append(OwedMonth(month, fen, due_on))
    found = [Arrears(customer_id, tuple(owing)) for customer_id, owing in months.items()]
    found.sort(key=lambda a: (a.oldest_due, -a.owed_fen, a.customer_id))
    return found


async def arrears_of_managers(db: Database, due_days: int, today: date,
                              manager_ids: Optional[Iterable[str]]) -> List[Arrears]:
    """The arrears of these managers' customers (every customer with None): a console's or a report's scope."""
    return await arrears_watch(db, due_days, today, await db.customers.ids_in_scope(manager_ids))


async def newly_overdue(db: Database, due_days: int, today: date, customer_ids: Sequence[str]) -> List[Arrears]:
    """The arrears of these customers with a month whose last day to pay was yesterday: what a manager hears
    of first, in the daily brief, the day the reminder goes out (on a holiday, before it does)."""
    yesterday = today - timedelta(days=1)
    return [a for a in await arrears_watch(db, due_days, today, customer_ids)
            if any(m.due_on == yesterday for m in a.months)]


def months_label(months: Sequence[str], lang: str) -> str:
    """'2026年9月、2026年10月' or 'September 2026, October 2026'; more than three: the first and a count."""
    labels = [month_label(m, lang) for m in months]
    if len(labels) > 3:
        return f"{labels[0]} and {len(labels) - 1} more months" if lang == "en" else f"{labels[0]}等{len(labels)}个月"
    return (", " if lang == "en" else "、").join(labels)


async def reminders_held(db: Database, found: Sequence[Arrears]) -> Dict[str, str]:
    """Why a customer's reminder waits, by customer id: ``billing_complaint`` (an open complaint about
    billing) or ``bill_not_received`` (a claim that a bill it owes never arrived, not yet decided)."""
    if not found:
        return {}
    held = {c: "billing_complaint" for c in await db.tickets.customers_with_open_complaints(category="billing")}
    claimed = {(c.customer_id, c.month) for c in await db.claims.pending_for_customers(
        [a.customer_id for a in found])}
    for arrears in found:
        if arrears.customer_id not in held and any((arrears.customer_id, m.month) in claimed for m in arrears.months):
            held[arrears.customer_id] = "bill_not_received"
    return {a.customer_id: held[a.customer_id] for a in found if a.customer_id in held}


async def plan_arrears(ctx: PlanContext) -> AsyncIterator[Planned]:
    """A reminder to the billing contact of every customer with a month newly in arrears on ``ctx.day``."""
    if not is_business_day(ctx.day):
        return  # the next working day's run sends what fell due meanwhile
    found = await arrears_watch(ctx.db, ctx.settings.payment_due_days, ctx.day, None)
    held = await reminders_held(ctx.db, found)
    for customer_id, reason in held.items():
        log.info("%s: no payment reminder while %s", customer_id, reason)
    due = {a.customer_id: a for a in found
           if a.customer_id not in held and (ctx.day - a.months[-1].due_on).days <= REMINDER_DAYS}
    async for doc in ctx.db.customers.profiles(list(due)):
        customer = Customer.from_stored(doc)  # read from customers: checked on write
        arrears, contact = due[customer.id], customer.billing_contact()
        if contact is None:
            continue
        lang, newest = contact.language, arrears.months[-1]
        plan = Planned.to_contact(f"arrears:{customer.id}:{newest.month}", KIND, customer, contact)
        render_into(plan, ctx, "arrears", {
            "contact_name": contact.name, "company_name": customer.company_name,
            "months": months_label([m.month for m in arrears.months], lang), "owed": yuan(arrears.owed_fen),
            "due_on": fmt_date(newest.due_on, lang), **ctx.manager_values(customer, lang)})
        yield plan
