"""The monthly high-value flag: three complete months of billing, the threshold, the class left alone."""

from __future__ import annotations

from datetime import date, datetime

from care_scheduler.high_value import mark_high_value
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from tests import factories

SETTINGS = Settings(high_value_threshold_yuan=10000)


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # important, flagged high value
    await db.customers.insert({**factories.other_customer(), "high_value": False})


async def test_january_averages_october_to_december_and_keeps_the_class(db: Database) -> None:
    await seed(db)
    for month, big, small in (("2026-10", 1_500_000, 900_000), ("2026-11", 1_500_000, 900_000),
                              ("2026-12", 1_500_000, 900_000), ("2027-01", 9_900_000, 9_900_000)):
        await db.usage.upsert(factories.usage("KA0000002", month, amount_fen=big))
        await db.usage.upsert(factories.usage("KA0000001", month, amount_fen=small))
    counts = await mark_high_value(db, SETTINGS, FixedClock(datetime(2027, 1, 3, 6, 0)), today=date(2027, 1, 3))
    assert counts == {"set": 1, "cleared": 1, "skipped": 0}
    first, second = await db.customers.get("KA0000001"), await db.customers.get("KA0000002")
    assert first is not None and not first.high_value and first.customer_class == "important"
    assert second is not None and second.high_value and second.customer_class == "strategic"
    entry = next(e for e in await db.audit.for_customer("KA0000002"))
    assert (entry.action, entry.source, entry.changes) == ("high_value_set", "job", {"high_value": [False, True]})
    assert "15,000.00" in (entry.note or "") and "2026-12, 2026-11, 2026-10" in (entry.note or "")
    again = await mark_high_value(db, SETTINGS, FixedClock(datetime(2027, 1, 3, 7, 0)), today=date(2027, 1, 3))
    assert again == {"set": 0, "cleared": 0, "skipped": 0}


async def test_a_missing_month_counts_as_nothing_billed(db: Database) -> None:
    await seed(db)
    await db.usage.upsert(factories.usage("KA0000002", "2026-11", amount_fen=2_000_000))  # 2,000,000 / 3 < 1,000,000
    await db.usage.upsert(factories.usage("KA0000001", "2026-11", amount_fen=3_000_000))  # exactly the threshold
    counts = await mark_high_value(db, SETTINGS, FixedClock(datetime(2026, 12, 3, 6, 0)), today=date(2026, 12, 3))
    assert counts == {"set": 0, "cleared": 0, "skipped": 0}


async def test_nothing_changes_until_last_months_billing_is_loaded(db: Database) -> None:
    await seed(db)
    await db.usage.upsert(factories.usage("KA0000001", "2026-09", amount_fen=1))
    counts = await mark_high_value(db, SETTINGS, FixedClock(datetime(2026, 12, 3, 6, 0)), today=date(2026, 12, 3))
    assert counts["skipped"] == 1 and (await db.customers.get("KA0000001")).high_value  # type: ignore[union-attr]
