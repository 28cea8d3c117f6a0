"""Care campaigns against the real mongod and the Twilio emulator, on fixed dates."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Awaitable, Callable, Dict, List, Tuple

import pytest

from care_scheduler.errors import OperationError
from care_scheduler.runner import CampaignRunner, SegmentRateLimiter
from carecore.clock import FixedClock, utcnow
from carecore.config import Settings
from carecore.model import SendStatus
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.sms.message import Sms
from localrun.twilio_emulator import FaultPlan, TwilioEmulator
from tests import factories

SETTINGS = Settings()
PROMO = {"zh": "千兆专线升级享8折。", "en": "Upgrade to 1G at 20% off."}


def contact(cid: str, mobile: str, birthday: Dict[str, Any], *, tier: str = "silver", language: str = "zh",
            opt_out: bool = False, billing: bool = False, name: str = "李娜") -> Dict[str, Any]:
    return {"contact_id": cid, "name": name, "role": "IT经理", "mobile": mobile, "birthday": birthday,
            "language": language, "tier": tier, "sms_opt_out": opt_out, "billing_contact": billing}


async def seed(db: Database, contacts: List[Dict[str, Any]], *, customer_id: str = "KA0000003",
               bill_day: int = 15) -> None:
    for manager in factories.MANAGERS:
        if await db.managers.get(manager["_id"]) is None:
            await db.managers.insert(manager)
    await db.customers.insert(factories.customer(_id=customer_id, contacts=contacts, services=[],
                                                 billing={"bill_day": bill_day, "delivery": "email"}))


def runner(db: Database, gateway: SmsGateway, at: datetime, settings: Settings = SETTINGS,
           **kwargs: Any) -> CampaignRunner:
    return CampaignRunner(db, gateway, settings, FixedClock(at), promo=PROMO, **kwargs)


def in_flight_peak(call: Callable[..., Awaitable[Any]]) -> Tuple[Callable[..., Awaitable[Any]], List[int]]:
    """``call`` (still called) counting how many of its calls run at once; the list holds the most."""
    in_flight, peak = [0], [0]

    async def counted(*args: Any, **kwargs: Any) -> Any:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        try:
            return await call(*args, **kwargs)
        finally:
            in_flight[0] -= 1

    return counted, peak


def bodies_to(emu: TwilioEmulator, number: str) -> List[str]:
    return [m["body"] for m in emu.messages.values() if m["to"] == number]


async def test_feb_29_birthday_in_2027_once_with_personal_wishes(db: Database, gateway: SmsGateway, emulator,
                                                                 caplog: pytest.LogCaptureFixture) -> None:
    emu, _ = emulator
    await seed(db, [
        contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 2, "day": 29, "year": 1988},
                tier="diamond", billing=True),
        contact("0000003-02", "+8613800000302", {"calendar": "solar", "month": 3, "day": 1}),
    ])
    report = await runner(db, gateway, datetime(2027, 2, 28, 9, 0)).run("birthday")
    assert report.outcomes["sent"] == 1 and report.planned == 1
    [body] = bodies_to(emu, "+8613800000301")
    assert body.startswith("【中国电信】") and "林海燕" in body and body.endswith(" 退订") and "8折。点 http" in body
    assert "回T" not in body  # a +86 number's reply cannot reach us
    assert await db.sends.get("birthday:0000003-01:2027-02-28") is not None
    again = await runner(db, gateway, datetime(2027, 2, 28, 15, 0)).run("birthday")
    assert again.outcomes == {"already": 1} and emu.stats.create_requests == 1
    assert "different content" not in caplog.text  # the re-planned body, opt-out link included, is the same


async def test_lunar_30th_is_greeted_on_the_29th_of_a_short_month(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "lunar", "month": 2, "day": 30},
                            language="en", name="Grace Lin", billing=True)])
    report = await runner(db, gateway, datetime(2026, 4, 16, 9, 0)).run("birthday")
    assert report.outcomes["sent"] == 1
    [body] = bodies_to(emu, "+8613800000301")
    assert body.startswith("Dear Grace Lin") and body.endswith(" to opt out") and " Open http" in body


async def test_opt_out_is_suppressed_with_reason_and_open_complaint_gets_no_promotion(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    birthday = {"calendar": "solar", "month": 11, "day": 23}
    await seed(db, [contact("0000003-01", "+8613800000301", birthday, opt_out=True, billing=True),
                    contact("0000003-02", "+8613800000302", birthday)])
    await db.tickets.create(factories.ticket(_id="CP-20261120-0001", kind="complaint", customer_id="KA0000003",
                                             circuit_id=None, sla=None, category="账单费用"))
    report = await runner(db, gateway, datetime(2026, 11, 23, 9, 0)).run("birthday")
    assert report.suppressed == {"opted_out": 1} and report.outcomes["sent"] == 1
    suppressed = await db.sends.get("birthday:0000003-01:2026-11-23")
    assert suppressed is not None and suppressed.status == "suppressed" and suppressed.suppressed_reason == "opted_out"
    assert bodies_to(emu, "+8613800000301") == []
    [body] = bodies_to(emu, "+8613800000302")
    assert "8折" not in body and body.endswith(" 退订")
    sent = await db.sends.get("birthday:0000003-02:2026-11-23")
    assert "promo withheld: open complaint" in sent.meta["notes"]


@pytest.mark.parametrize(("hh", "mm", "sends"), [(8, 0, True), (21, 0, False)])  # every edge: test_care_calendar
async def test_greetings_wait_for_the_send_window(db: Database, gateway: SmsGateway, emulator, hh, mm, sends) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 11, "day": 23},
                            billing=True)])
    report = await runner(db, gateway, datetime(2026, 11, 23, hh, mm)).run("birthday")
    assert (emu.stats.create_requests == 1) is sends
    if not sends:
        assert report.deferred_until is not None and report.deferred_until.hour == 8 and report.planned == 0
        later = await runner(db, gateway, report.deferred_until.replace(tzinfo=None)).run("birthday", date(2026, 11, 23))
        assert later.outcomes["sent"] == 1  # waited, not dropped
    [body] = bodies_to(emu, "+8613800000301")
    if (hh, mm) == (21, 0):  # sent the next morning: it says it is late
        assert "日前是您的生日" in body and "补祝" in body and "值此生日之际" not in body
    else:
        assert "值此生日之际" in body and "补祝" not in body


async def test_only_a_dry_run_may_look_ahead(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 11, "day": 24},
                            billing=True)])
    today = runner(db, gateway, datetime(2026, 11, 23, 10, 0))
    assert (await today.run("birthday", date(2026, 11, 24), dry_run=True)).planned == 1
    with pytest.raises(OperationError, match="ahead of today"):  # tomorrow's birthday is not wished today
        await today.run("birthday", date(2026, 11, 24))
    assert emu.stats.create_requests == 0 and await db.sends.get("birthday:0000003-01:2026-11-24") is None


async def test_spring_festival_2027_greets_every_contact_in_their_language(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 5, "day": 5}, billing=True),
                    contact("0000003-02", "+8613800000302", {"calendar": "solar", "month": 6, "day": 6},
                            language="en", name="Peter Zhou")])
    assert (await runner(db, gateway, datetime(2027, 2, 5, 10, 0)).run("holiday")).planned == 0
    operator = Settings(operator_name="中国移动", operator_name_en="China Mobile")  # greeted in the operator's name
    report = await runner(db, gateway, datetime(2027, 2, 6, 10, 0), operator).run("holiday")
    assert report.outcomes["sent"] == 2
    assert "值此春节之际，中国移动祝您" in bodies_to(emu, "+8613800000301")[0]  # sent on the day: not "将至"
    assert "China Mobile wishes you and your family a happy Spring Festival" in bodies_to(emu, "+8613800000302")[0]
    assert await db.sends.get("holiday:spring_festival:0000003-02:2027") is not None


async def test_usage_on_bill_day_31_in_a_30_day_month(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    birthday = {"calendar": "solar", "month": 1, "day": 1}
    await seed(db, [contact("0000003-01", "+8613800000301", birthday, billing=True)], bill_day=31)
    await seed(db, [contact("0000004-01", "+8613800000401", birthday, billing=True)], customer_id="KA0000004",
               bill_day=30)
    await db.usage.upsert(factories.usage("KA0000003", "2026-10", amount_fen=1288800))
    await db.usage.upsert(factories.usage("KA0000003", "2026-09", amount_fen=1000000))
    assert (await runner(db, gateway, datetime(2026, 11, 29, 10, 0)).run("usage")).planned == 0
    report = await runner(db, gateway, datetime(2026, 11, 30, 10, 0)).run("usage")
    assert report.outcomes["sent"] == 1 and report.missing_usage == ["KA0000004"]  # no data: reported, nothing sent
    [body] = bodies_to(emu, "+8613800000301")
    assert "2026年10月" in body and "12,888.00元" in body and "较上月增加28.9%" in body
    assert await db.sends.get("usage:KA0000003:2026-10") is not None
    assert bodies_to(emu, "+8613800000401") == []


async def test_a_customer_without_contacts_gets_no_usage_sms(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [], customer_id="CRM-77", bill_day=15)  # imported before its contacts
    await db.usage.upsert(factories.usage("CRM-77", "2026-10"))
    report = await runner(db, gateway, datetime(2026, 11, 15, 10, 0)).run("usage")
    assert report.planned == 0 and emu.messages == {}


async def test_usage_follows_a_bill_day_edited_outside_the_product(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 1, "day": 1},
                            billing=True)], bill_day=15)
    await db.usage.upsert(factories.usage("KA0000003", "2026-10"))
    await db._db.customers.update_one({"_id": "KA0000003"}, {"$set": {"billing.bill_day": 20}})  # behind our back
    assert await db.customers.ids_with_bill_day_in([15]) == []
    report = await runner(db, gateway, datetime(2026, 11, 15, 10, 0)).run("usage")
    assert report.planned == 0 and bodies_to(emu, "+8613800000301") == []


async def test_dry_run_sends_and_records_nothing(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 11, "day": 23},
                            billing=True)])
    report = await runner(db, gateway, datetime(2026, 11, 23, 3, 0)).run("birthday", dry_run=True)
    assert report.planned == 1 and report.outcomes == {"would_send": 1} and report.segments == 2
    assert emu.stats.create_requests == 0 and await db.sends.get("birthday:0000003-01:2026-11-23") is None


async def test_a_run_finishes_what_a_crashed_run_left_pending(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, [contact("0000003-01", "+8613800000301", {"calendar": "solar", "month": 11, "day": 23},
                            billing=True)])
    first = await runner(db, gateway, datetime(2026, 11, 23, 9, 0)).run("birthday")
    assert first.outcomes["sent"] == 1
    # As if the process died after Twilio accepted the message but before the sid was saved:
    await db.sends.finish("birthday:0000003-01:2026-11-23", SendStatus.pending,
                          sid=None, lease_until=utcnow() - timedelta(seconds=1))
    second = await runner(db, gateway, datetime(2026, 11, 23, 10, 0)).run("birthday")
    record = await db.sends.get("birthday:0000003-01:2026-11-23")
    assert record.status == "queued" and record.sid == next(iter(emu.messages))
    assert emu.stats.create_requests == 1 and second.outcomes["already"] == 1


async def test_a_crashed_runs_leftovers_are_finished_side_by_side_at_the_rate(db: Database, gateway: SmsGateway,
                                                                            emulator) -> None:
    """Left pending by a run that died before sending them: looked up, then sent, several at a time, paced."""
    emu, _ = emulator
    earlier = utcnow() - timedelta(minutes=5)  # their leases ran out long ago
    keys = [f"birthday:0000009-{i:02d}:2026-11-23" for i in range(1, 9)]
    for i, key in enumerate(keys, 1):
        message = Sms.of(key=key, kind="birthday", to=f"+86138000009{i:02d}", body="生日快乐！", customer_id="KA0000009",
                         contact_id=key.split(":")[1], language="zh", meta={"campaign": "birthday:2026-11-23"})
        await db.sends.reserve(message.record(now=earlier, lease_until=gateway.lease_from(earlier)))
    now = [0.0]

    async def fake_sleep(seconds: float) -> None:
        now[0] += seconds

    limiter = SegmentRateLimiter(2, monotonic=lambda: now[0], sleep=fake_sleep)
    gateway.resume, peak = in_flight_peak(gateway.resume)  # type: ignore[method-assign]
    report = await runner(db, gateway, datetime(2026, 11, 23, 9, 0), concurrency=3, limiter=limiter).run("birthday")
    assert report.planned == 0 and report.outcomes["recovered"] == 8 and 1 < peak[0] <= 3
    assert sorted(m["to"] for m in emu.messages.values()) == [f"+86138000009{i:02d}" for i in range(1, 9)]
    assert emu.stats.list_requests == 8 and 3.4 <= now[0] <= 3.6  # 8 messages at 2 a second, the first at once
    for key in keys:
        record = await db.sends.get(key)
        assert record is not None and record.status == "queued" and record.attempts == 2


async def test_rate_limiter_holds_the_segment_rate() -> None:
    now = [0.0]
    slept: List[float] = []

    async def fake_sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = SegmentRateLimiter(10, monotonic=lambda: now[0], sleep=fake_sleep)
    for _ in range(50):
        await limiter.acquire(1)
    assert 4.8 <= now[0] <= 5.0  # the first at once, then 49 more at 10/s: no burst at the start
    await limiter.acquire(25)  # a message longer than the burst still goes, after a full bucket
    assert now[0] <= 6.0


async def test_concurrency_is_bounded(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(latency_ms=30))
    birthday = {"calendar": "solar", "month": 11, "day": 23}
    await seed(db, [contact(f"0000003-{i:02d}", f"+86138000003{i:02d}", birthday, billing=i == 1) for i in range(1, 13)])
    gateway.transport.create, peak = in_flight_peak(gateway.transport.create)  # type: ignore[method-assign]
    report = await runner(db, gateway, datetime(2026, 11, 23, 9, 0), concurrency=3).run("birthday")
    assert report.outcomes["sent"] == 12 and 1 < peak[0] <= 3


async def test_provider_faults_during_a_campaign(db: Database, gateway: SmsGateway, emulator, fast_sleeps) -> None:
    """429s are retried, a 500 is looked up instead of resent, 21211 fails, 21610 opts the contact out."""
    emu, _ = emulator
    birthday = {"calendar": "solar", "month": 11, "day": 23}
    numbers = {name: f"+86138000003{i:02d}" for i, name in enumerate(["throttled", "error500", "invalid",
                                                                       "unsubscribed", "fine"], 1)}
    await seed(db, [contact(f"0000003-{i:02d}", mobile, birthday, billing=i == 1)
                    for i, mobile in enumerate(numbers.values(), 1)])
    emu.set_faults(FaultPlan(script=["429", "429", "ok", "500"], invalid_numbers={numbers["invalid"]},
                             unsubscribed_numbers={numbers["unsubscribed"]}))
    report = await runner(db, gateway, datetime(2026, 11, 23, 9, 0), concurrency=1).run("birthday")

    received = [m["to"] for m in emu.messages.values()]
    assert sorted(received) == sorted([numbers["throttled"], numbers["error500"], numbers["fine"]])  # each once
    assert len(fast_sleeps) == 2 and emu.stats.faults == {"429": 2, "500": 1}
    records = {name: await db.sends.get(f"birthday:0000003-{i:02d}:2026-11-23") for i, name in enumerate(numbers, 1)}
    assert records["throttled"].status == "queued" and records["throttled"].attempts == 3
    assert records["error500"].status in ("queued", "sent", "delivered") and records["error500"].attempts == 1
    assert records["error500"].meta.get("note") == "found by lookup" and emu.stats.list_requests >= 1
    assert records["invalid"].status == "failed" and records["invalid"].error_code == 21211
    assert records["unsubscribed"].status == "failed" and records["unsubscribed"].error_code == 21610
    _, unsubscribed = await db.customers.find_by_mobile(numbers["unsubscribed"])
    assert unsubscribed.sms_opt_out and unsubscribed.opt_out_source == "twilio_21610"
    assert report.outcomes["failed"] == 2 and report.outcomes["recovered"] == 1

    # Next year the unsubscribed contact is suppressed before anything is sent.
    emu.set_faults(FaultPlan())
    later = await runner(db, gateway, datetime(2027, 11, 23, 9, 0)).run("birthday")
    assert later.suppressed == {"opted_out": 1} and later.outcomes["sent"] == 4


async def test_messages_handed_over_before_planning_fails_still_end_recorded(
        db: Database, gateway: SmsGateway, emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    from care_scheduler import runner as runner_module

    emu, _ = emulator
    await seed(db, [contact(f"0000003-0{i}", f"+861380000030{i}", {"calendar": "solar", "month": 11, "day": 23})
                    for i in (1, 2)])
    planned = runner_module.plans_for

    async def planning_that_fails(*args: Any) -> Any:
        async for plan in planned(*args):
            yield plan
        raise RuntimeError("MongoDB went away while planning")

    monkeypatch.setattr(runner_module, "plans_for", planning_that_fails)
    emu.set_faults(FaultPlan(latency_ms=300))  # the sends are still under way when planning fails
    with pytest.raises(RuntimeError, match="went away"):
        await runner(db, gateway, datetime(2026, 11, 23, 9, 0)).run("birthday")
    for i in (1, 2):
        record = await db.sends.get(f"birthday:0000003-0{i}:2026-11-23")
        assert record is not None and record.status == "queued"
    assert emu.stats.create_requests == 2
