"""Demo data: realistic, idempotent, and covering the dates the scheduler must handle."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from lunardate import LunarDate

from carecore.months import after_bill_day, shift_month
from carecore.repository import Database
from localrun.seed import bill_delivery_docs, previous_months, seed

TODAY = date(2026, 11, 23)


async def test_seed_is_realistic_and_idempotent(db: Database) -> None:
    first = await seed(db, 60, today=TODAY)
    assert (first.customers, first.usage) == (60, 60 * 12) and 60 <= first.circuits <= 3 * 60
    assert first.managers == len(await db.managers.all())
    assert 3 * 60 <= first.contacts <= 7 * 60

    assert 20 <= first.visits <= 3 * 60
    again = await seed(db, 60, today=TODAY)
    assert (again.managers, again.customers, again.contacts, again.usage, again.bill_deliveries, again.visits) == (
        0, 0, 0, 0, 0, 0)
    jobs = await db.import_jobs.recent(12)
    assert {j.kind for j in jobs} == {"managers", "customers", "contacts", "circuits", "usage", "bill-deliveries"}
    grown = await seed(db, 70, today=TODAY)
    assert grown.customers == 10 and await db.customers.count() == 70

    managers = {m.id: m for m in await db.managers.all()}
    assert {m.level for m in managers.values()} == {"city", "province", "group"}
    customers = [c async for c in db.customers.stream({})]
    trunks = [doc["_id"] for doc in customers if any(s["type"] == "voice" for s in doc["services"])]
    assert "KA0000002" in trunks and len(trunks) == 7  # every tenth account has its landlines on a voice trunk
    lunar_today = LunarDate.from_solar_date(TODAY.year, TODAY.month, TODAY.day)
    birthdays = [c["birthday"] for doc in customers for c in doc["contacts"]]
    assert {"calendar": "solar", "month": 11, "day": 23} in [
        {k: b[k] for k in ("calendar", "month", "day")} for b in birthdays]
    assert any(b["calendar"] == "lunar" and (b["month"], b["day"]) == (lunar_today.month, lunar_today.day)
               for b in birthdays)
    assert any((b["month"], b["day"]) == (2, 29) for b in birthdays)
    assert any(b["calendar"] == "lunar" and b["day"] == 30 for b in birthdays)
    contacts = [c for doc in customers for c in doc["contacts"]]
    assert any(c["language"] == "en" for c in contacts)
    assert all(c["mobile"].startswith("+861") and len(c["mobile"]) == 14 for c in contacts)
    assert len({c["mobile"] for c in contacts}) == len(contacts)
    assert any(doc["billing"]["bill_day"] == 31 for doc in customers)
    assert len({doc["region"]["province"] for doc in customers}) >= 5
    for doc in customers:
        assert managers[doc["account_manager_id"]].level == "city"
        assert sum(c["billing_contact"] for c in doc["contacts"]) == 1
    # Bills of October (issued in November on bill days up to the 23rd) and September have a delivery record.
    deliveries = [await db.bill_deliveries.get(doc["_id"], month) for doc in customers for month in ("2026-09", "2026-10")]
    issued = [d for d in deliveries if d is not None]
    assert first.bill_deliveries + grown.bill_deliveries == len(issued) and len(issued) > 70
    assert all(d.issued_at.date() <= TODAY and d.due_by > d.issued_at for d in issued)
    assert any(d.delivered_at and d.delivered_at <= d.due_by for d in issued)  # on time: a claim is rejected
    assert any(d.delivered_at is None or d.delivered_at > d.due_by for d in issued)  # a claim is verified
    for doc in customers:  # a month's usage arrives with its bill, on the bill day of the month after
        latest = (await db.usage.history(doc["_id"], 1))[0].month
        assert after_bill_day(latest, doc["billing"]["bill_day"], 0) <= TODAY
        assert latest == "2026-10" or after_bill_day("2026-10", doc["billing"]["bill_day"], 0) > TODAY
    history = await db.usage.history("KA0000001", 12)
    assert [u.month for u in history] == previous_months(TODAY, 12)
    assert history[0].month == "2026-10" and history[-1].month == "2025-11"


async def test_thirteen_months_give_the_latest_bill_its_year_earlier_twin(db: Database) -> None:
    """What `make run` seeds (``DEMO_MONTHS``): "同比" has a month to set the latest bill beside."""
    await seed(db, 5, today=TODAY, months=13)
    for n in range(1, 6):
        history = [u.month for u in await db.usage.history(f"KA{n:07d}", 24)]
        assert len(history) == 13 and history[-1] == shift_month(history[0], -12)


def test_previous_months_cross_the_year() -> None:
    assert previous_months(date(2027, 1, 5), 3) == ["2026-12", "2026-11", "2026-10"]


def test_no_bill_is_issued_or_delivered_after_the_moment_the_files_are_written() -> None:
    """Seeded at 08:00 on a bill day: that day's bills (issued at 09:00) are not in the files yet."""
    tz = ZoneInfo("Asia/Shanghai")
    customer = {"_id": "KA0000001", "billing": {"bill_day": 7, "delivery": "email"}}
    months = ["2026-11", "2026-10"]
    early = datetime(2026, 12, 7, 8, 0, tzinfo=tz)
    bills = list(bill_delivery_docs(customer, 1, months, date(2026, 12, 7), early))
    assert [b["month"] for b in bills] == ["2026-10"]
    assert all(b["issued_at"] <= early and (b["delivered_at"] is None or b["delivered_at"] <= early) for b in bills)
    later = list(bill_delivery_docs(customer, 1, months, date(2026, 12, 7), datetime(2026, 12, 7, 10, 0, tzinfo=tz)))
    assert [b["month"] for b in later] == ["2026-11", "2026-10"]
