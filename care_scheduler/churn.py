"""Churn watch (离网分析): key accounts whose billing fell, for their managers to call before they leave.

A customer is at risk when its average bill over the last three complete months is at least
``CHURN_DROP_PERCENT`` below its average over the three months before (a month without a record
counts as nothing billed, so an account billed nothing lately drops by 100 %). Until billing's last
month is loaded, the six months end a month earlier, so a late billing import does not flag
everyone. A customer who told the assistant in the last ``LEAVING_DAYS`` that they will leave
(an escalation with the reason ``leaving``: "合同到期不续了") is listed whatever its bills, and first.
Counted when asked, from the usage records of the customers in scope.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterable, List, Optional, Sequence, Set

from carecore.model import month_key
from carecore.months import shift_month
from carecore.repository import Database

LEAVING_DAYS = 180  # a contract's end is often months ahead when a customer says they will not renew


@dataclass(frozen=True)
class BillDrop:
    customer_id: str
    earlier_fen: int  # the average of the three months before
    recent_fen: int  # the average of the last three
    open_complaint: bool  # already unhappy: the most urgent call
    said_leaving_at: Optional[datetime] = None  # the last time a contact said they will leave

    @property
    def drop_percent(self) -> int:
        """How far the bill fell; 0 when it did not, or when there was nothing billed before to fall from."""
        if self.earlier_fen <= 0:
            return 0
        return max(0, round(100 * (self.earlier_fen - self.recent_fen) / self.earlier_fen))


@dataclass(frozen=True)
class ChurnWatch:
    recent: List[str]  # the last three months compared, newest first
    earlier: List[str]  # the three before
    drops: List[BillDrop]  # open complaints first, then the steepest drop


async def months_compared(db: Database, today: date) -> List[str]:
    """Six months, newest first: the last complete one if billing has loaded it, else the one before."""
    last = shift_month(month_key(today), -1)
    if not await db.usage.has_month(last):
        last = shift_month(last, -1)
    return [shift_month(last, -back) for back in range(6)]


async def churn_watch(db: Database, drop_percent: int, today: date,
                      customer_ids: Optional[Sequence[str]]) -> ChurnWatch:
    """The customers (of ``customer_ids``, or all with None) whose billing fell by ``drop_percent`` or more."""
    months = await months_compared(db, today)
    recent, earlier = months[:3], months[3:]
    averages = await db.usage.average_amounts([earlier, recent], customer_ids)
    unhappy: Set[str] = set(await db.tickets.customers_with_open_complaints())
    since = datetime.combine(today - timedelta(days=LEAVING_DAYS), time(), tzinfo=timezone.utc)
    leaving = await db.escalations.said_leaving(since, customer_ids)
    drops = []
    for customer_id in set(averages) | set(leaving):
        before, now = averages.get(customer_id, (0, 0))  # no bills in the six months: nothing to compare
        if customer_id in leaving or (before > 0 and now * 100 <= before * (100 - drop_percent)):
            drops.append(BillDrop(customer_id, before, now, customer_id in unhappy, leaving.get(customer_id)))
    drops.sort(key=lambda d: (d.said_leaving_at is None, not d.open_complaint, -d.drop_percent, d.customer_id))
    return ChurnWatch(recent, earlier, drops)


async def churn_of_managers(db: Database, drop_percent: int, today: date,
                            manager_ids: Optional[Iterable[str]]) -> ChurnWatch:
    """The churn watch over these managers' customers (every customer with None): a console's or a report's scope."""
    return await churn_watch(db, drop_percent, today, await db.customers.ids_in_scope(manager_ids))
