"""Customer visits (客户拜访): how often by class, which accounts are due, and recording one."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Optional
from zoneinfo import ZoneInfo

import pytest

from care_scheduler.visits import VisitRefused, next_visit_on, record_visit, visit_every, visits_due
from carecore.config import Settings
from carecore.model import Customer
from carecore.repository import Database
from tests import factories

EVERY = Settings().visit_every_days
SHANGHAI = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 12, 5)


@pytest.mark.parametrize("customer_class, high_value, days", [
    (None, False, 90), ("important", False, 30), ("strategic", True, 30), ("group", False, 60),
    (None, True, 60), ("group", True, 60),
])
def test_the_shortest_interval_that_applies(customer_class: Optional[str], high_value: bool, days: int) -> None:
    assert visit_every(customer_class, high_value, EVERY) == days


@pytest.mark.parametrize("last, created, due", [
    (date(2026, 12, 15), None, date(2027, 1, 14)),  # across the year end
    (date(2028, 1, 30), None, date(2028, 2, 29)),  # into a leap day
    (None, datetime(2026, 11, 30, 17, 0, tzinfo=timezone.utc), date(2026, 12, 31)),  # loaded on 1 December, Shanghai
    (None, None, TODAY),  # neither known: due now
])
def test_the_next_visit_counts_from_the_last_or_from_loading(last: Optional[date], created: Optional[datetime],
                                                             due: date) -> None:
    assert next_visit_on("important", False, created, last, EVERY, SHANGHAI, TODAY) == due


async def visit(db: Database, customer: Customer, on: str, manager: str = "AM-CZJ01") -> None:
    await record_visit(db, customer, manager, visited_on=on, contact_ids=[], notes="季度走访，了解专线使用情况",
                       next_step="", today=TODAY)


async def test_accounts_due_for_a_visit_longest_overdue_first(db: Database) -> None:
    loaded = datetime(2026, 6, 1, tzinfo=timezone.utc)
    important = await db.customers.insert(factories.customer(created_at=loaded))  # every 30 days
    other = factories.other_customer()
    other.update(customer_class=None, high_value=False, created_at=loaded, account_manager_id="AM-CSH01")  # 90 days
    await db.customers.insert(other)
    fresh = factories.customer(_id="KA0000003", created_at=datetime(2026, 11, 20, tzinfo=timezone.utc))
    fresh["contacts"], fresh["services"] = [], []
    await db.customers.insert(fresh)  # loaded two weeks ago: not due yet
    await visit(db, important, "2026-10-01")
    await visit(db, important, "2026-11-01")  # the last: due 2026-12-01
    due = await visits_due(db, EVERY, TODAY, SHANGHAI, None)
    assert [(v.customer_id, v.last_visit, v.due_on) for v in due] == [
        ("KA0000002", None, date(2026, 8, 30)), ("KA0000001", date(2026, 11, 1), date(2026, 12, 1))]
    assert due[0].days_overdue(TODAY) == 97
    assert [v.customer_id for v in await visits_due(db, EVERY, TODAY, SHANGHAI, ["AM-CZJ01"])] == ["KA0000001"]
    await visit(db, important, "2026-12-05")
    assert await visits_due(db, EVERY, TODAY, SHANGHAI, ["AM-CZJ01"]) == []


@pytest.mark.parametrize("field, visited_on, contact_ids, notes", [
    ("visited_on", "2026-12-06", [], "拜访客户"),  # tomorrow
    ("visited_on", "2026-02-30", [], "拜访客户"),  # no such day
    ("visited_on", "2025-12-03", [], "拜访客户"),  # over a year ago
    ("contact_ids", "2026-12-05", ["0000002-01"], "拜访客户"),  # another customer's contact
    ("notes", "2026-12-05", [], "  好 "),
])
async def test_a_visit_that_does_not_fit_names_the_field_and_writes_nothing(
        db: Database, field: str, visited_on: str, contact_ids: list, notes: str) -> None:
    customer = Customer.parse_obj(factories.customer())
    with pytest.raises(VisitRefused) as refused:
        await record_visit(db, customer, "AM-CZJ01", visited_on=visited_on, contact_ids=contact_ids, notes=notes,
                           next_step="", today=TODAY)
    assert refused.value.field == field and await db.visits.for_customer("KA0000001") == []


async def test_one_record_per_manager_customer_and_day(db: Database) -> None:
    customer = Customer.parse_obj(factories.customer())
    await visit(db, customer, "2026-12-04")
    with pytest.raises(VisitRefused) as refused:
        await visit(db, customer, "2026-12-04")
    assert (refused.value.field, refused.value.reason) == ("visited_on", "recorded")
    await visit(db, customer, "2026-12-04", manager="AM-PZJ")  # the province manager came along: their own visit
    assert sorted(v.manager_id for v in await db.visits.for_customer(customer.id)) == ["AM-CZJ01", "AM-PZJ"]
