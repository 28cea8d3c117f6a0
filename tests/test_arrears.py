"""Arrears (欠费催缴): when a month's bill falls due, who owes what, and the one reminder per month."""

from __future__ import annotations

from datetime import date, datetime

from care_scheduler.arrears import arrears_watch, months_label
from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories


def test_owed_months_are_named_in_the_contacts_language() -> None:
    assert months_label(["2026-09", "2026-10"], "zh") == "2026年9月、2026年10月"
    assert months_label(["2026-07", "2026-08", "2026-09", "2026-10"], "zh") == "2026年7月等4个月"
    assert months_label(["2026-10"], "en") == "October 2026"


async def owes(db: Database, customer_id: str, month: str, amount_fen: int, paid_fen: int | None) -> None:
    await db.usage.upsert(factories.usage(customer_id, month, amount_fen=amount_fen, paid_fen=paid_fen))


async def test_months_unpaid_after_their_due_date_longest_overdue_first(db: Database) -> None:
    await db.customers.insert(factories.customer())  # bill day 31
    await db.customers.insert(factories.other_customer())  # bill day 31 too
    await owes(db, "KA0000001", "2026-09", 100_000, 40_000)  # due 2026-11-20: 600 yuan owed
    await owes(db, "KA0000001", "2026-10", 100_000, 0)  # due 2026-12-20
    await owes(db, "KA0000001", "2026-11", 100_000, 0)  # due 2027-01-20: not yet
    await owes(db, "KA0000001", "2026-08", 100_000, 120_000)  # overpaid: owes nothing
    await owes(db, "KA0000002", "2026-10", 500_000, 0)
    await owes(db, "KA0000002", "2026-09", 500_000, None)  # billing has not said: never counted as owed
    await owes(db, "KA0000009", "2026-09", 500_000, 0)  # no such customer any more

    on_due_day = await arrears_watch(db, 20, date(2026, 12, 20), None)
    assert [(a.customer_id, [m.month for m in a.months], a.owed_fen) for a in on_due_day] == [
        ("KA0000001", ["2026-09"], 60_000)]
    after = await arrears_watch(db, 20, date(2026, 12, 21), None)
    assert [(a.customer_id, [m.month for m in a.months], a.owed_fen) for a in after] == [
        ("KA0000001", ["2026-09", "2026-10"], 160_000), ("KA0000002", ["2026-10"], 500_000)]
    assert after[0].days_overdue(date(2026, 12, 21)) == 31
    assert [a.customer_id for a in await arrears_watch(db, 20, date(2026, 12, 21), ["KA0000002"])] == ["KA0000002"]

    await owes(db, "KA0000001", "2026-09", 100_000, 100_000)  # billing's next file: September paid
    assert [m.month for m in (await arrears_watch(db, 20, date(2026, 12, 21), ["KA0000001"]))[0].months] == [
        "2026-10"]


def runner(db: Database, gateway: SmsGateway, at: datetime) -> CampaignRunner:
    return CampaignRunner(db, gateway, Settings(), FixedClock(at))


async def billed_on(db: Database, bill_day: int) -> None:
    """The managers, and one customer billed on ``bill_day`` whose billing contact is 王伟."""
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(billing={"bill_day": bill_day, "delivery": "email"}))


async def test_one_reminder_per_month_in_arrears_held_while_the_bill_is_disputed(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await billed_on(db, 15)
    await owes(db, "KA0000001", "2026-10", 1288800, 288800)  # due 2026-12-05

    assert (await runner(db, gateway, datetime(2026, 12, 5, 10, 30)).run("arrears")).planned == 0
    night = await runner(db, gateway, datetime(2026, 12, 6, 22, 30)).run("arrears")
    assert night.planned == 0 and night.deferred_until is not None  # a reminder waits for daytime

    complaint = factories.ticket(_id="CP-20261201-0001", kind="complaint", circuit_id=None, category="billing",
                                 sla={"response_due": factories.ticket()["created_at"]})
    await db.tickets.create(complaint)
    assert (await runner(db, gateway, datetime(2026, 12, 7, 10, 30)).run("arrears")).planned == 0
    await db._db.tickets.update_one({"_id": complaint["_id"]}, {"$set": {"status": "resolved"}})

    report = await runner(db, gateway, datetime(2026, 12, 8, 10, 30)).run("arrears")
    assert report.outcomes == {"sent": 1}
    [message] = emu.messages.values()
    assert message["to"] == "+8613800138000"  # the billing contact
    assert message["body"] == ("【中国电信】尊敬的王伟：杭州华信物流有限公司2026年10月账单尚有10,000.00元未缴，"
                               "缴费期已于2026年12月5日截止，请尽快缴纳；如已缴费请忽略本短信。"
                               "详询客户经理林海燕（139 2000 0001）。")
    assert (await runner(db, gateway, datetime(2026, 12, 9, 10, 30)).run("arrears")).outcomes.get("sent") is None
    assert len(emu.messages) == 1  # once for October

    await owes(db, "KA0000001", "2026-11", 1000000, 0)  # due 2027-01-05: November falls due too
    await db.claims.create({"_id": "BC-20270106-0001", "customer_id": "KA0000001", "contact_id": "0000001-01",
                            "month": "2026-11", "created_at": datetime(2027, 1, 6), "updated_at": datetime(2027, 1, 6)})
    assert (await runner(db, gateway, datetime(2027, 1, 6, 10, 30)).run("arrears")).planned == 0  # "never arrived"
    await db._db.compensation_claims.update_one({}, {"$set": {"status": "rejected"}})
    assert (await runner(db, gateway, datetime(2027, 1, 7, 10, 30)).run("arrears")).outcomes == {"sent": 1}
    assert "2026年10月、2026年11月账单尚有20,000.00元未缴" in list(emu.messages.values())[-1]["body"]

    # November paid: October, still owed and long overdue, is not reminded again
    await owes(db, "KA0000001", "2026-11", 1000000, 1000000)
    assert (await runner(db, gateway, datetime(2027, 1, 8, 10, 30)).run("arrears")).planned == 0
    await owes(db, "KA0000001", "2027-05", 1000000, 0)  # due 2027-07-05
    day_31, day_30 = datetime(2027, 8, 5, 10, 30), datetime(2027, 8, 4, 10, 30)  # both working days
    assert (await runner(db, gateway, day_31).run("arrears")).planned == 0  # first seen too late: the manager's
    assert (await runner(db, gateway, day_30).run("arrears")).outcomes == {"sent": 1}


async def test_a_reminder_falling_due_in_a_holiday_waits_for_the_first_working_day(
        db: Database, gateway: SmsGateway, emulator) -> None:
    """Due on 30 September 2026: National Day runs 1 to 7 October, so the finance office hears on the 8th."""
    emu, _ = emulator
    await billed_on(db, 10)
    await owes(db, "KA0000001", "2026-08", 500000, 0)  # due 2026-09-30
    for day in range(1, 8):
        assert (await runner(db, gateway, datetime(2026, 10, day, 10, 30)).run("arrears")).planned == 0
    assert (await runner(db, gateway, datetime(2026, 10, 8, 10, 30)).run("arrears")).outcomes == {"sent": 1}
    [message] = emu.messages.values()
    assert "2026年8月账单尚有5,000.00元未缴" in message["body"]
