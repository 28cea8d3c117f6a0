"""Planned maintenance: announcing, and each notice stage once per contact, on a fixed clock against the real
mongod and the Twilio emulator."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any, Dict
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import account, forms, ticket_submission
from actions.services import Services, use_services
from care_scheduler import maintenance
from care_scheduler.operations import OperationError
from care_scheduler.runner import CampaignRunner
from care_scheduler.scope import Scope
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun.twilio_emulator import TwilioEmulator
from tests import factories
from tests.action_kit import VERIFIED_A, tracker
from tests.action_kit import run as run_action
from tests.conftest import admin_api

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()
WANG, DAVID, ZHAO = "+8613800138000", "+8613900139000", "+8613600136000"
ZJ, SH = "ZJ-2M-0000001-1", "SH-155M-0000002-1"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def window(**overrides: Any) -> Dict[str, Any]:
    return {"circuit_ids": [ZJ], "start": "2026-11-25T01:00", "end": "2026-11-25T05:00", "impact": "interrupted",
            "description_zh": "核心网设备割接", "description_en": "Core network cutover", **overrides}


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    await db.customers.insert(factories.other_customer())


async def run(db: Database, gateway: SmsGateway, at: datetime) -> Any:
    return await CampaignRunner(db, gateway, SETTINGS, FixedClock(at)).run("maintenance")


def stages(emu: TwilioEmulator) -> Counter:
    """(recipient, first words) of every notice the emulator received."""
    marks = {"我公司将进行": "announce", "即将开始": "reminder", "有变更": "change", "已取消": "cancel", "已于": "ended",
             "we will carry out": "announce", "starts soon": "reminder", "has changed": "change",
             "is cancelled": "cancel", "ended at": "ended"}
    return Counter((m["to"], next(v for k, v in marks.items() if k in m["body"])) for m in emu.messages.values())


async def test_every_stage_once_per_contact(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.customers.set_sms_opt_out("0000001-02", True, source="assistant")  # service notices still go
    mw = await maintenance.announce(db, FixedClock(local(2026, 11, 23, 10, 0)), window(), actor="AM-PZJ")
    assert mw.id == "MW-20261123-0001" and mw.customer_ids == ["KA0000001"] and mw.circuit_ids == [ZJ]

    assert (await run(db, gateway, local(2026, 11, 23, 10, 5))).outcomes == {"sent": 2}
    [zh] = [m["body"] for m in emu.messages.values() if m["to"] == WANG]
    assert zh.startswith("【中国电信】尊敬的王伟：我公司将进行计划维护（MW-20261123-0001）：11月25日01:00至11月25日05:00")
    assert "涉及电路ZJ-2M-0000001-1，期间业务中断。核心网设备割接。" in zh
    assert (await run(db, gateway, local(2026, 11, 23, 10, 10))).planned == 0
    # 24 h before the start falls at night: the reminder waits for the send window, which opens first
    assert (await run(db, gateway, local(2026, 11, 24, 1, 5))).planned == 0
    assert (await run(db, gateway, local(2026, 11, 24, 8, 0))).outcomes == {"sent": 2}
    assert (await run(db, gateway, local(2026, 11, 25, 2, 0))).planned == 0  # during the window
    active = await db.maintenance.active_for_circuits([ZJ, SH], local(2026, 11, 25, 2, 0))
    assert list(active) == [ZJ] and active[ZJ].id == mw.id
    assert await db.maintenance.active_for_circuits([ZJ], local(2026, 11, 25, 5, 0)) == {}
    assert (await run(db, gateway, local(2026, 11, 25, 5, 5))).planned == 0  # ended at night: told in the morning
    assert (await run(db, gateway, local(2026, 11, 25, 8, 0))).outcomes == {"sent": 2}
    assert "已于11月25日05:00结束" in [m["body"] for m in emu.messages.values() if m["to"] == WANG][-1]
    assert (await run(db, gateway, local(2026, 11, 25, 9, 0))).planned == 0
    assert stages(emu) == Counter({(WANG, "announce"): 1, (DAVID, "announce"): 1, (WANG, "reminder"): 1,
                                   (DAVID, "reminder"): 1, (WANG, "ended"): 1, (DAVID, "ended"): 1})


async def test_no_notice_goes_to_a_number_its_holder_disowned(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.customers.disown_number("0000001-02", source="assistant", actor="contact:0000001-02",
                                     at=local(2026, 11, 20, 9, 0))
    await maintenance.announce(db, FixedClock(local(2026, 11, 23, 10, 0)), window(), actor="AM-PZJ")
    report = await run(db, gateway, local(2026, 11, 23, 10, 5))
    assert report.outcomes == {"sent": 1} and report.suppressed == {"number_disowned": 1}
    assert [m["to"] for m in emu.messages.values()] == [WANG]
    assert (await db.sends.get("mw:MW-20261123-0001:announce:0000001-02")).suppressed_reason == "number_disowned"


async def test_short_notice_at_night_goes_at_once(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await maintenance.announce(db, FixedClock(local(2026, 11, 23, 22, 0)),
                               window(start="2026-11-23T23:30", end="2026-11-24T03:00"), actor="AM-PZJ")
    assert (await run(db, gateway, local(2026, 11, 23, 22, 5))).outcomes == {"sent": 2}
    assert stages(emu) == Counter({(WANG, "reminder"): 1, (DAVID, "reminder"): 1})
    assert (await run(db, gateway, local(2026, 11, 23, 22, 10))).planned == 0


async def test_changes_and_cancellation_reach_everyone_told(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    clock = FixedClock(local(2026, 11, 23, 10, 0))
    mw = await maintenance.announce(db, clock, window(), actor="AM-G001")
    await run(db, gateway, local(2026, 11, 23, 10, 5))
    # moved by a day and onto the Shanghai circuit only: Zhejiang was told, so it hears of the change;
    # Shanghai is newly covered and gets the announcement
    changed = await maintenance.change(db, clock, mw.id, {"circuit_ids": [SH], "start": "2026-11-26T01:00",
                                                          "end": "2026-11-26T04:00"}, actor="AM-G001")
    assert changed.version == 2 and changed.customer_ids == ["KA0000002"]
    await run(db, gateway, local(2026, 11, 23, 11, 5))
    assert (await run(db, gateway, local(2026, 11, 23, 11, 10))).planned == 0
    change = [m["body"] for m in emu.messages.values() if m["to"] == WANG][-1]
    assert "有变更：11月26日01:00至11月26日04:00" in change
    await maintenance.cancel(db, clock, mw.id)
    await run(db, gateway, local(2026, 11, 23, 12, 5))
    assert (await run(db, gateway, local(2026, 11, 23, 12, 10))).planned == 0
    assert stages(emu) == Counter({(WANG, "announce"): 1, (DAVID, "announce"): 1, (WANG, "change"): 1,
                                   (DAVID, "change"): 1, (ZHAO, "announce"): 1,
                                   (WANG, "cancel"): 1, (DAVID, "cancel"): 1, (ZHAO, "cancel"): 1})
    with pytest.raises(OperationError):  # a cancelled window stays cancelled
        await maintenance.change(db, clock, mw.id, {"impact": "degraded"}, actor="AM-G001")
    assert (await run(db, gateway, local(2026, 11, 26, 4, 30))).planned == 0  # no "ended" for a cancelled one


@pytest.mark.parametrize("given, message", [
    ({"circuit_ids": ["ZJ-2M-9999999-1"]}, "unknown circuits: ZJ-2M-9999999-1"),
    ({"end": "2026-11-25T00:00"}, "must end after it starts"),
    ({"end": "2027-11-26T04:00"}, "at most 72 hours"),  # a mistyped year would waive a year of SLA credits
    ({"start": "25/11/2026"}, "start must be a date and time"),
    ({"impact": "gone"}, "impact must be interrupted or degraded"),
    ({"circuit_ids": [], "type": "digital_2m"}, "needs both type and province"),
    ({"description_zh": " "}, "description_zh is required"),
    ({"description_zh": "【重要】核心网割接"}, "signature only"),
    ({"start": "2026-11-20T01:00", "end": "2026-11-20T05:00"}, "over already"),
    ({"colour": "red"}, "unknown fields: colour"),
])
async def test_bad_announcements_are_refused_with_the_reason(db: Database, given: Dict[str, Any],
                                                             message: str) -> None:
    await seed(db)
    with pytest.raises(OperationError, match=message):
        await maintenance.announce(db, FixedClock(local(2026, 11, 23, 10, 0)), window(**given), actor="x")
    assert await db.maintenance.recent() == []


async def test_by_area_and_within_the_managers_scope(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.managers.insert({"_id": "AM-CSH01", "name": "吴斌", "mobile": "+8613920000002", "email": "c@kam.example.cn",
                              "region": {"province": "上海市", "city": "上海"}, "level": "city",
                              "supervisor_id": "AM-G001"})
    await db.customers.insert(factories.customer())
    await db.customers.insert({**factories.other_customer(), "account_manager_id": "AM-CSH01"})
    clock = FixedClock(local(2026, 11, 23, 10, 0))
    province = await Scope.of(db, await db.managers.get("AM-PZJ"))
    by_area = window(circuit_ids=None, type="digital_2m", province="浙江省", city="杭州")
    mw = await maintenance.announce(db, clock, by_area, actor="AM-PZJ", scope=province)
    assert (mw.circuit_ids, mw.customer_ids) == ([ZJ], ["KA0000001"])
    with pytest.raises(OperationError, match="not yours"):
        await maintenance.announce(db, clock, window(circuit_ids=[SH]), actor="AM-PZJ", scope=province)
    with pytest.raises(OperationError, match="covers no circuit"):
        await maintenance.announce(db, clock, {**by_area, "city": "宁波"}, actor="AM-PZJ", scope=province)


async def test_a_fault_raised_during_maintenance_earns_no_credit(db: Database, gateway: SmsGateway,
                                                                 emulator) -> None:
    emu, _ = emulator
    await seed(db)
    late = {"response_due": local(2026, 11, 23, 12, 0), "restore_due": local(2026, 11, 23, 14, 0),
            "restored_at": local(2026, 11, 23, 18, 0)}
    await db.tickets.create(factories.ticket(status="resolved", sla=late, maintenance_id="MW-20261123-0001"))
    await db.tickets.create(factories.ticket(_id="FT-20261123-0002", status="resolved", sla=late))
    report = await CampaignRunner(db, gateway, SETTINGS, FixedClock(local(2026, 11, 23, 18, 5))).run("compensation")
    assert report.outcomes == {"sent": 1}
    assert (await db.tickets.get("FT-20261123-0001")).compensation is None
    assert (await db.tickets.get("FT-20261123-0002")).compensation is not None



async def test_the_assistant_names_the_window_and_marks_a_fault_reported_anyway(db: Database,
                                                                               gateway: SmsGateway) -> None:
    await seed(db)
    mw = await maintenance.announce(db, FixedClock(local(2026, 11, 23, 10, 0)), window(), actor="AM-PZJ")
    during = FixedClock(local(2026, 11, 25, 2, 0))
    use_services(Services(db, gateway, during, Settings(mongodb_uri="unused")))
    try:
        messages, _ = await run_action(account.ActionServiceStatus(), tracker(slots=VERIFIED_A), {})
        assert f"ZJ-2M-0000001-1 2M数字电路：维护中（计划维护{mw.id}，预计11月25日05:00结束）" in messages[0]["lines"]
        assert (await db.customers.get("KA0000001")).services[0].status == "active"  # never stored over
        form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
        result = await form.validate_fault_circuit("1", dispatcher, tracker(slots=VERIFIED_A), {})
        assert result == {"fault_circuit": ZJ} and dispatcher.messages[-1]["response"] == "utter_circuit_in_maintenance"
        assert dispatcher.messages[-1]["window_id"] == mw.id
        confirmed = {**VERIFIED_A, "fault_circuit": ZJ, "fault_symptom": "中断", "fault_since": "刚才",
                     "fault_confirm": True}
        await run_action(ticket_submission.ActionSubmitFault(), tracker(slots=confirmed), {})
        [ticket] = await db.tickets.for_customer("KA0000001")
        assert ticket.maintenance_id == mw.id
    finally:
        use_services(None)


async def test_the_admin_api_announces_changes_and_cancels(db: Database, gateway: SmsGateway) -> None:
    await seed(db)
    async with admin_api(db, gateway, local(2026, 11, 23, 10, 0)) as (http, url):
        async with http.post(url + "/admin/maintenance", json={**window(), "actor": "noc"}) as resp:
            created = await resp.json()
            assert resp.status == 201 and created["id"] == "MW-20261123-0001" and created["version"] == 1
            assert created["start"] == "2026-11-25T01:00:00+08:00" and created["announced_by"] == "noc"
        async with http.get(url + "/admin/maintenance/MW-20261123-0001") as resp:  # read back from MongoDB (UTC)
            read = await resp.json()
            assert (read["start"], read["created_at"]) == (created["start"], created["created_at"])
            assert read["created_at"] == "2026-11-23T10:00:00+08:00"  # business time, as made
        async with http.post(url + "/admin/maintenance", json=window(end="2026-11-24T00:00")) as resp:
            assert resp.status == 400 and "end after it starts" in (await resp.json())["error"]
        async with http.post(url + "/admin/maintenance/MW-20261123-0001", json={"impact": "degraded"}) as resp:
            changed = await resp.json()
            assert resp.status == 200 and (changed["version"], changed["impact"]) == (2, "degraded")
        async with http.post(url + "/admin/maintenance/MW-20261123-0001/cancel") as resp:
            assert resp.status == 200 and (await resp.json())["cancelled_at"]
        async with http.post(url + "/admin/maintenance/MW-20261123-0009/cancel") as resp:
            assert resp.status == 404
        async with http.get(url + "/admin/maintenance") as resp:
            assert [w["id"] for w in (await resp.json())["windows"]] == ["MW-20261123-0001"]
        async with aiohttp.ClientSession() as anonymous, anonymous.post(url + "/admin/maintenance",
                                                                      json=window()) as resp:
            assert resp.status == 401
