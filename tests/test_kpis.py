"""KPIs against a hand count on a small fixture: each figure, each scope, attribution at the time of the event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict
from zoneinfo import ZoneInfo

import pytest

from care_scheduler import kpis
from care_scheduler.kpi_brief import figure_in_sms, first_working_day
from care_scheduler.operations import OperationError
from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories
from tests.conftest import admin_api

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)


def at(month: int, day: int, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def ticket(_id: str, kind: str, customer: str, created: datetime, **fields: Any) -> Dict[str, Any]:
    doc = {"_id": _id, "kind": kind, "customer_id": customer, "contact_id": "x", "text": "t",
           "created_at": created, "updated_at": created, **fields}
    if kind == "fault":
        doc.setdefault("circuit_id", "ZJ-2M-0000001-1")
    return doc


def send(key: str, kind: str, customer: str, status: str, created: datetime, manager: str | None) -> Dict[str, Any]:
    return factories.send_record(key, now=created, kind=kind, customer_id=customer, status=status,
                                 meta={"campaign": "c", **({"manager_id": manager} if manager else {})})


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.managers.insert({"_id": "AM-CZJ02", "name": "韩梅", "mobile": "+8613920000002", "email": "c2@kam.example.cn",
                              "region": {"province": "浙江省", "city": "宁波"}, "level": "city", "supervisor_id": "AM-PZJ"})
    await db.customers.insert(factories.customer())  # KA0000001: AM-CZJ01
    await db.customers.insert({**factories.other_customer(), "account_manager_id": "AM-CZJ02"})  # moved from CZJ01
    tickets = [
        ticket("CP-20261105-0001", "complaint", "KA0000001", at(11, 5), manager_id="AM-CZJ01",
               sla={"response_due": at(11, 5, 12), "responded_at": at(11, 5, 11)},
               survey={"contact_id": "x", "sent_at": at(11, 6), "outcome": "delivered", "score": 5}),
        # raised while KA0000002 was CZJ01's: it stays CZJ01's
        ticket("CP-20261110-0001", "complaint", "KA0000002", at(11, 10, 8), manager_id="AM-CZJ01",
               sla={"response_due": at(11, 10, 10), "responded_at": at(11, 10, 12)},
               survey={"contact_id": "x", "sent_at": at(11, 11), "outcome": "delivered", "score": 2},
               followup={"manager_id": "AM-CZJ01", "opened_at": at(11, 11), "due": at(11, 13), "done_at": at(11, 12)}),
        ticket("FT-20261120-0001", "fault", "KA0000001", at(11, 20, 0), manager_id="AM-CZJ01",
               sla={"response_due": at(11, 20, 2), "responded_at": at(11, 20, 1), "restore_due": at(11, 20, 4),
                    "restored_at": at(11, 20, 6)},
               survey={"contact_id": "x", "sent_at": at(11, 21), "outcome": "sent"}),
        ticket("FT-20261031-0001", "fault", "KA0000002", at(10, 31, 23), manager_id="AM-CZJ02",
               sla={"response_due": at(10, 31, 23), "restore_due": at(11, 1, 3)}),
        ticket("CP-20261115-0001", "complaint", "KA0000002", at(11, 15)),  # written before tickets were stamped
        ticket("CP-20261020-0001", "complaint", "KA0000001", at(10, 20), manager_id="AM-CZJ01"),  # October
    ]
    for doc in tickets:
        await db.tickets.create(doc)
    sends = [send("birthday:a", "birthday", "KA0000001", "delivered", at(11, 3), "AM-CZJ01"),
             send("usage:a", "usage", "KA0000001", "failed", at(11, 3), "AM-CZJ01"),
             send("holiday:b", "holiday", "KA0000002", "delivered", at(11, 4), "AM-CZJ02"),
             send("birthday:b", "birthday", "KA0000002", "sent", at(11, 4), None),  # unstamped: today's manager
             send("birthday:c", "birthday", "KA0000001", "suppressed", at(11, 4), "AM-CZJ01"),
             send("sla_warn:x", "sla_watch", "KA0000001", "delivered", at(11, 4), "AM-CZJ01"),
             send("birthday:old", "birthday", "KA0000001", "delivered", at(10, 4), "AM-CZJ01")]
    for doc in sends:
        await db.sends.reserve(doc)
    for sender, manager, marks in [("sms:1", "AM-CZJ01", {"fallbacks": 1, "verifications_started": 1}),
                                   ("chat:2", None, {"verifications_started": 1}),
                                   ("sms:3", "AM-CZJ02", {})]:
        await db.assistant_sessions.start(sender, at(11, 8), channel="rest", manager_id=manager)
        await db.assistant_sessions.mark(sender, inc=marks)
    await db.assistant_sessions.mark("sms:1", set_fields={"verified": True})
    await db.assistant_sessions.mark("sms:3", set_fields={"escalated": True})
    for n, (customer, manager, when) in enumerate([("KA0000001", "AM-CZJ01", at(11, 2)),
                                                   ("KA0000002", "AM-CZJ01", at(11, 9)),  # before the move
                                                   ("KA0000002", "AM-CZJ02", at(11, 30, 11)),
                                                   ("KA0000001", "AM-CZJ01", at(10, 31, 23))], start=1):  # October
        await db.compliments.create({"_id": f"PR-20261101-000{n}", "customer_id": customer, "contact_id": "x",
                                     "manager_id": manager, "text": "服务很好", "created_at": when})


CITY1 = {"accounts": 1, "complaints": 2, "complaint_rate": 2.0, "compliments": 2, "surveys_sent": 3, "surveys_answered": 2,
         "satisfaction": 0.5, "survey_response_rate": 0.6667, "deadlines_met": 2, "deadlines_missed": 2,
         "sla_compliance": 0.5, "restores": 1, "mean_time_to_restore_hours": 6.0, "followups_on_time": 1.0,
         "care_delivery_rate": 0.5, "care_delivery_by_kind": {"birthday": 1.0, "usage": 0.0}, "conversations": 1,
         "containment": 1.0, "fallback_rate": 1.0, "verification_success": 1.0}
CITY2 = {"accounts": 1, "complaints": 1, "complaint_rate": 1.0, "compliments": 1, "surveys_sent": 0, "surveys_answered": 0,
         "satisfaction": None, "survey_response_rate": None, "deadlines_met": 0, "deadlines_missed": 1,
         "sla_compliance": 0.0, "restores": 0, "mean_time_to_restore_hours": None, "followups_on_time": None,
         "care_delivery_rate": 0.5, "care_delivery_by_kind": {"birthday": 0.0, "holiday": 1.0},
         "conversations": 1, "containment": 0.0, "fallback_rate": 0.0, "verification_success": None}


async def test_figures_match_a_hand_count_in_every_scope(db: Database) -> None:
    await seed(db)
    clock = FixedClock(NOW)
    assert await kpis.refresh(db, clock) == [f"2026-{m:02d}" for m in (11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1)] + ["2025-12"]
    city1 = await kpis.report(db, clock, await kpis.scope_of(db, "AM-CZJ01"), "2026-11")
    assert city1["figures"] == CITY1 and city1["off_target"] == ["complaint_rate", "satisfaction"]
    assert city1["parts"] == [] and city1["month_to_date"] is True
    assert (await kpis.report(db, clock, await kpis.scope_of(db, "AM-CZJ02"), "2026-11"))["figures"] == CITY2

    province = await kpis.report(db, clock, await kpis.scope_of(db, "AM-PZJ"), "2026-11")
    figs = province["figures"]
    assert (figs["accounts"], figs["complaints"], figs["complaint_rate"], figs["compliments"]) == (2, 3, 1.5, 3)
    assert (figs["deadlines_met"], figs["deadlines_missed"], figs["conversations"]) == (2, 3, 2)
    assert figs["care_delivery_rate"] == 0.5 and figs["verification_success"] == 1.0  # no unverified chats
    assert [(p["manager_id"], p["figures"]) for p in province["parts"]] == [("AM-CZJ01", CITY1), ("AM-CZJ02", CITY2)]

    group = await kpis.report(db, clock, await kpis.scope_of(db, None), "2026-11")
    assert group["figures"]["conversations"] == 3 and group["figures"]["verification_success"] == 0.5
    assert [p["manager_id"] for p in group["parts"]] == ["AM-PZJ"]
    october = next(m for m in group["trend"] if m["month"] == "2026-10")
    assert october["complaints"] == 1 and len(group["trend"]) == 12
    assert (await kpis.report(db, clock, await kpis.scope_of(db, None), "2026-10"))["figures"]["compliments"] == 1
    # a recount changes nothing: the stored counts are the raw records' counts, not running totals
    before = (await db.kpis.stored(["2026-11"]))["2026-11"]["counts"]
    await kpis.recount(db, clock, "2026-11")
    assert (await db.kpis.stored(["2026-11"]))["2026-11"]["counts"] == before


@pytest.mark.parametrize("month", ["2026-13", "2026/11", "2027-01", "11-2026"])
def test_months_are_checked(month: str) -> None:
    with pytest.raises(OperationError):
        kpis.parse_month_param(month, FixedClock(NOW))


async def test_the_admin_api_gives_the_same_figures(db: Database, gateway: SmsGateway) -> None:
    await seed(db)
    async with admin_api(db, gateway, NOW) as (http, url):
        async with http.get(url + "/admin/kpis?month=2026-11&scope=AM-CZJ01") as resp:
            body = await resp.json()
            assert resp.status == 200 and body["figures"] == CITY1 and body["scope"]["level"] == "city"
            assert body["targets"]["complaint_rate"] == {"below": 0.05}
        async with http.get(url + "/admin/kpis?month=2026-1") as resp:
            assert resp.status == 400
        async with http.get(url + "/admin/kpis?scope=AM-NOBODY") as resp:
            assert resp.status == 404


@pytest.mark.parametrize("day, first", [(date(2026, 12, 15), date(2026, 12, 1)),
                                        (date(2026, 10, 15), date(2026, 10, 8)),  # after National Day
                                        (date(2027, 1, 20), date(2027, 1, 4)),  # New Year's Day on a Friday
                                        (date(2026, 11, 3), date(2026, 11, 2))])  # the 1st a Sunday
def test_the_first_working_day_of_a_month(day: date, first: date) -> None:
    assert first_working_day(day) == first


async def test_the_monthly_roll_up_reaches_province_and_group_once(db: Database, gateway: SmsGateway,
                                                                   emulator) -> None:
    emu, _ = emulator
    await seed(db)
    for month, amount in (("2026-06", 90_000), ("2026-07", 90_000), ("2026-08", 90_000),
                          ("2026-09", 30_000), ("2026-10", 30_000), ("2026-11", 30_000)):  # billing fell by 2/3
        await db.usage.upsert(factories.usage("KA0000001", month, amount_fen=amount,
                                              paid_fen=0 if month == "2026-09" else amount))  # due 2026-11-20
    await db._db.customers.update_many({}, {"$set": {"created_at": datetime(2026, 6, 1, tzinfo=SHANGHAI)}})  # due
    first = datetime(2026, 12, 1, 9, 0, tzinfo=SHANGHAI)
    report = await CampaignRunner(db, gateway, Settings(), FixedClock(first)).run("kpi_brief")
    assert report.outcomes == {"sent": 2}
    [province] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613910000001"]
    assert province.startswith("【中国电信】周敏您好，2026年11月关键指标：大客户2户，投诉3件，投诉率150.0%")
    assert "离网预警1户，逾期欠费1户共300.00元，应拜访2户。" in province
    assert "平均修复6.0小时" in province and figure_in_sms(None, "pct") == "暂无"  # a month without surveys, say
    assert province.endswith("/console/kpis?month=2026-11")
    assert [m for m in emu.messages.values() if m["to"] == "+8613920000001"] == []  # city managers: the dashboard
    assert (await CampaignRunner(db, gateway, Settings(), FixedClock(first)).run("kpi_brief")).planned == 2
    assert len(emu.messages) == 2
    later = datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)
    assert (await CampaignRunner(db, gateway, Settings(), FixedClock(later)).run("kpi_brief")).planned == 0
