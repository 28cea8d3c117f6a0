"""The churn watch (离网分析): whose billing fell, by how much, against which months."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Dict, List

from care_scheduler.churn import churn_watch
from carecore.model import ChangeSource
from carecore.repository import Database
from tests import factories

TODAY = date(2026, 12, 4)
EARLIER, RECENT = ("2026-06", "2026-07", "2026-08"), ("2026-09", "2026-10", "2026-11")


async def bills(db: Database, customer_id: str, months: tuple, amount_fen: int) -> None:
    for month in months:
        await db.usage.upsert(factories.usage(customer_id, month, amount_fen=amount_fen))


async def test_a_fall_of_the_threshold_or_more_is_flagged_open_complaints_first(db: Database) -> None:
    plan: Dict[str, List[int]] = {  # earlier, recent monthly bill in fen; -1: no records
        "KA0000001": [100_000, 60_000],   # -40 %
        "KA0000002": [100_000, 80_000],   # -20 %: not yet
        "KA0000003": [100_000, -1],       # nothing billed lately: -100 %
        "KA0000004": [-1, 100_000],       # new: nothing to compare
        "KA0000005": [100_000, 70_000],   # exactly -30 %
        "KA0000006": [100_000, 65_000],   # -35 %, with an open complaint
    }
    for customer_id, (earlier, recent) in plan.items():
        if earlier >= 0:
            await bills(db, customer_id, EARLIER, earlier)
        if recent >= 0:
            await bills(db, customer_id, RECENT, recent)
    await db.tickets.create(factories.ticket(_id="CP-20261201-0001", kind="complaint", customer_id="KA0000006",
                                             circuit_id=None, sla={"response_due": factories.ticket()["created_at"]}))

    watch = await churn_watch(db, 30, TODAY, None)
    assert watch.recent == ["2026-11", "2026-10", "2026-09"] and watch.earlier == ["2026-08", "2026-07", "2026-06"]
    assert [(d.customer_id, d.drop_percent, d.open_complaint) for d in watch.drops] == [
        ("KA0000006", 35, True), ("KA0000003", 100, False), ("KA0000001", 40, False), ("KA0000005", 30, False)]
    scoped = await churn_watch(db, 30, TODAY, ["KA0000001", "KA0000002"])
    assert [d.customer_id for d in scoped.drops] == ["KA0000001"]

    # billing has not loaded November yet: the six months end with October, so November's missing bills
    # (which would read as a 60 % fall) flag nobody
    await db._db.usage_monthly.delete_many({"month": "2026-11"})
    late = await churn_watch(db, 30, TODAY, ["KA0000001"])
    assert late.recent == ["2026-10", "2026-09", "2026-08"] and late.earlier == ["2026-07", "2026-06", "2026-05"]
    assert late.drops == []


async def test_a_customer_who_said_they_will_leave_is_listed_first_whatever_the_bills(db: Database) -> None:
    await bills(db, "KA0000001", EARLIER + RECENT, 100_000)  # steady
    await bills(db, "KA0000003", EARLIER, 100_000)  # nothing billed lately: -100 %
    for number, customer_id, days_ago, reason in ((1, "KA0000001", 10, "leaving"), (2, "KA0000002", 170, "leaving"),
                                                  (3, "KA0000004", 200, "leaving"),  # too long ago
                                                  (4, "KA0000005", 1, "request_human")):
        at = datetime(2026, 12, 4, 2, 0, tzinfo=timezone.utc) - timedelta(days=days_ago)
        await db.escalations.create(factories.escalation(
            f"ES-20261204-000{number}", at, customer_id=customer_id, contact_id=f"{customer_id[2:]}-01",
            sender_id=f"chat-{number}", reason=reason, summary="合同到期不续了"))
    watch = await churn_watch(db, 30, TODAY, None)
    assert [(d.customer_id, d.drop_percent, d.said_leaving_at is not None) for d in watch.drops] == [
        ("KA0000001", 0, True), ("KA0000002", 0, True), ("KA0000003", 100, False)]  # KA0000002: no bills at all
    assert [d.customer_id for d in (await churn_watch(db, 30, TODAY, ["KA0000003"])).drops] == ["KA0000003"]

    # the manager kept KA0000001: off the watch, audited, until the customer says it again
    kept_at = datetime(2026, 12, 4, 3, 0, tzinfo=timezone.utc)
    assert await db.escalations.mark_kept("KA0000001", kept_at, "AM-CZJ01", ChangeSource.console) == 1
    assert await db.escalations.mark_kept("KA0000001", kept_at, "AM-CZJ01", ChangeSource.console) == 0
    assert [d.customer_id for d in (await churn_watch(db, 30, TODAY, None)).drops] == ["KA0000002", "KA0000003"]
    [entry] = await db._db.audit_log.find({"entity_id": "KA0000001"}).to_list(None)
    assert (entry["action"], entry["actor"], entry["source"]) == ("kept", "AM-CZJ01", "console")
    again = datetime(2026, 12, 4, 4, 0, tzinfo=timezone.utc)
    await db.escalations.create(factories.escalation("ES-20261204-0009", again, reason="leaving", summary="还是要退网"))
    assert (await churn_watch(db, 30, TODAY, None)).drops[0].customer_id == "KA0000001"
