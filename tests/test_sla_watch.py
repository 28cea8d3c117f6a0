"""SLA watch and daily brief, on a fixed clock, against the real mongod and the Twilio emulator."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List
from zoneinfo import ZoneInfo

from care_scheduler.brief import short_company
from care_scheduler.runner import CampaignRunner
from care_scheduler.sla_watch import due_alerts
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import EscalationStatus, Ticket, TicketEvent
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun.twilio_emulator import TwilioEmulator
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()
CITY, PROVINCE, GROUP = "+8613920000001", "+8613910000001", "+8613900000001"  # factories.MANAGERS


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


def run(db: Database, gateway: SmsGateway, kind: str, at: datetime) -> Any:
    return CampaignRunner(db, gateway, SETTINGS, FixedClock(at)).run(kind)


def to(emu: TwilioEmulator, number: str) -> List[str]:
    return [m["body"] for m in emu.messages.values() if m["to"] == number]


async def seed(db: Database, **customer: Any) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(**customer))


# factories.ticket: opened 10:00 Shanghai on 2026-11-23, response due 12:00, restore due 14:00.


def test_alerts_due_at_each_moment() -> None:
    ticket = Ticket.parse_obj(factories.ticket())
    keys = lambda at: [a[0].split(":", 2)[2] for a in due_alerts(ticket, at, timedelta(minutes=30), (0, 60, 240))]  # noqa: E731
    assert keys(local(2026, 11, 23, 11, 29)) == []
    assert keys(local(2026, 11, 23, 11, 30)) == ["response"]
    assert keys(local(2026, 11, 23, 12, 0)) == ["response:1"]
    assert keys(local(2026, 11, 23, 13, 35)) == ["response:1", "response:2", "restore"]
    assert keys(local(2026, 11, 23, 18, 0)) == ["response:1", "response:2", "response:3",
                                                 "restore:1", "restore:2", "restore:3"]
    acknowledged = ticket.copy(update={"sla": ticket.sla.copy(update={"responded_at": local(2026, 11, 23, 10, 20)})})
    assert [a[0] for a in due_alerts(acknowledged, local(2026, 11, 23, 13, 35), timedelta(minutes=30), (0, 60, 240))] \
        == [f"sla_warn:{ticket.id}:restore"]


async def test_warning_then_each_escalation_level_exactly_once(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.create(factories.ticket())
    first = await run(db, gateway, "sla_watch", local(2026, 11, 23, 11, 35))
    assert first.outcomes == {"sent": 1} and first.deferred_until is None
    [warning] = to(emu, CITY)
    assert warning.startswith("【中国电信】SLA预警") and "FT-20261123-0001" in warning and "25分钟" in warning
    assert "杭州华信物流有限公司" in warning and "钻石卡" in warning and "ZJ-2M-0000001-1" in warning
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 23, 11, 40))).planned == 0

    assert "告知恢复" not in warning
    await db.tickets.add_event("FT-20261123-0001", TicketEvent(at=local(2026, 11, 23, 11, 50), actor="contact:x",
                                                               action="customer_restored", note="网络恢复了"))
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 12, 5))  # response deadline missed: level 1
    assert len(to(emu, CITY)) == 2 and "第1级" in to(emu, CITY)[-1] and "已超时5分钟" in to(emu, CITY)[-1]
    assert "客户已于11月23日11:50告知恢复" in to(emu, CITY)[-1]  # the customer said so: check and resolve
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket.escalation_level == 1 and [e.action for e in ticket.history] == [
        "sla_warning", "customer_restored", "escalate"]

    await run(db, gateway, "sla_watch", local(2026, 11, 23, 13, 10))  # 70 min late: the province
    [province] = to(emu, PROVINCE)
    assert "第2级" in province and "责任客户经理林海燕" in province and "1小时10分钟" in province

    # 16:10: response 250 min late (group), restore 130 min late (levels 1 and 2 at once).
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 16, 10))
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 16, 15))
    [group] = to(emu, GROUP)
    assert "第3级" in group and "响应已超时4小时10分钟" in group
    assert len(to(emu, PROVINCE)) == 2 and "修复已超时2小时10分钟" in to(emu, PROVINCE)[-1]
    keys = Counter(r for r in (await db.tickets.get("FT-20261123-0001")).alerts)
    assert set(keys.values()) == {1} and len(keys) == 6  # warning, 3 response levels, 2 restore levels
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket.escalation_level == 3
    # One history entry per step (steps due in the same round are sent concurrently, in any order).
    assert Counter(e.level for e in ticket.history if e.action == "escalate") == {1: 2, 2: 2, 3: 1}
    assert emu.stats.create_requests == 6
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 23, 16, 20))).planned == 0


async def test_acknowledged_and_resolved_tickets(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.create(factories.ticket())
    await db.tickets.create(factories.ticket(_id="FT-20261123-0002", contact_id="0000001-02"))
    for ticket_id in ("FT-20261123-0001", "FT-20261123-0002"):
        await db.tickets.acknowledge(ticket_id, TicketEvent(at=local(2026, 11, 23, 10, 15), actor="AM-CZJ01",
                                                            action="acknowledge"))
    report = await run(db, gateway, "sla_watch", local(2026, 11, 23, 12, 30))  # response met: no escalation
    assert report.planned == 0
    await db.tickets.resolve("FT-20261123-0001", TicketEvent(at=local(2026, 11, 23, 12, 40), actor="AM-CZJ01",
                                                             action="resolve"))
    await db.tickets.resolve("FT-20261123-0002", TicketEvent(at=local(2026, 11, 23, 12, 41), actor="AM-CZJ01",
                                                             action="resolve"))
    report = await run(db, gateway, "sla_watch", local(2026, 11, 23, 23, 50))  # service notices: any hour
    assert report.outcomes == {"sent": 2}
    [zh] = to(emu, "+8613800138000")
    assert "您的故障单FT-20261123-0001（电路ZJ-2M-0000001-1）已处理完毕" in zh and "林海燕" in zh
    [en] = to(emu, "+8613900139000")
    assert en.startswith("Dear David Chen, your fault ticket FT-20261123-0002") and "resolved" in en
    assert (await db.tickets.get("FT-20261123-0001")).customer_notified_at is not None
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 24, 0, 0))).planned == 0


def birthday(month: int, day: int) -> Dict[str, Any]:
    return {"calendar": "solar", "month": month, "day": day}


async def test_daily_brief_content_and_nothing_for_nothing(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    contacts = [
        {"contact_id": "0000001-01", "name": "王伟", "role": "主任", "mobile": "+8613800138000",
         "birthday": birthday(11, 24), "language": "zh", "tier": "diamond", "billing_contact": True},
        {"contact_id": "0000001-02", "name": "张丽", "role": "财务", "mobile": "+8613900139000",
         "birthday": birthday(11, 25), "language": "zh", "tier": "gold"},
        {"contact_id": "0000001-03", "name": "赵强", "role": "前网管", "mobile": "+8613700137000",  # left, his number
         "birthday": birthday(11, 24), "language": "zh", "tier": "silver", "sms_opt_out": True,  # said so
         "number_disowned_at": datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)},
    ]
    await seed(db, contacts=contacts)
    # A second city manager whose only customer has nothing going on.
    await db.managers.insert({"_id": "AM-CZJ02", "name": "韩梅", "mobile": "+8613920000002", "email": "c2@kam.example.cn",
                              "region": {"province": "浙江省", "city": "宁波"}, "level": "city", "supervisor_id": "AM-PZJ"})
    quiet = factories.other_customer()
    quiet.update(account_manager_id="AM-CZJ02", services=[])
    quiet["contacts"][0]["birthday"] = birthday(6, 1)
    await db.customers.insert(quiet)
    now = datetime(2026, 11, 24, 0, 30, tzinfo=timezone.utc)  # 08:30 Shanghai
    fault = factories.ticket(_id="FT-20261124-0001", created_at=now, updated_at=now,
                             sla={"response_due": now + timedelta(hours=1), "restore_due": now + timedelta(hours=4)})
    await db.tickets.create(fault)
    await db.tickets.create({"_id": "CP-20261120-0001", "kind": "complaint", "customer_id": "KA0000001",
                             "text": "客户经理不回电话", "created_at": now, "updated_at": now})
    await db.claims.create({"_id": "BC-20261121-0001", "customer_id": "KA0000001", "contact_id": "0000001-01",
                            "month": "2026-10", "created_at": now, "updated_at": now})
    surveyed = factories.ticket(_id="FT-20261120-0001", status="resolved", resolved_at=now - timedelta(days=3),
                                survey={"contact_id": "0000001-01", "sent_at": now - timedelta(days=3),
                                        "outcome": "delivered", "score": 2},
                                followup={"manager_id": "AM-CZJ01", "opened_at": now - timedelta(days=1),
                                          "due": now + timedelta(days=1)})
    await db.tickets.create(surveyed)
    # bill day 3: October's bill, issued 3 November, was due by 23 November, and 1,000 yuan of it is unpaid
    # loaded 25 October and never visited: an important account's visit falls due today
    await db._db.customers.update_one({"_id": "KA0000001"}, {"$set": {"billing.bill_day": 3, "created_at": datetime(
        2026, 10, 25, 2, 0, tzinfo=timezone.utc)}})
    await db.usage.upsert(factories.usage("KA0000001", "2026-10", amount_fen=300_000, paid_fen=200_000))
    await db.usage.upsert(factories.usage("KA0000001", "2026-09", amount_fen=300_000, paid_fen=0))  # overdue before
    # yesterday's compliments, the same contact twice; one from the day before and one from today are not yesterday's
    for n, (contact, when) in enumerate([("0000001-02", local(2026, 11, 23, 0, 0)), ("0000001-01", local(2026, 11, 23, 9)),
                                         ("0000001-02", local(2026, 11, 23, 23, 59)), ("0000001-01", local(2026, 11, 22, 23, 59)),
                                         ("0000001-01", local(2026, 11, 24, 0, 0))], start=1):
        await db.compliments.create({"_id": f"PR-20261123-000{n}", "customer_id": "KA0000001", "contact_id": contact,
                                     "manager_id": "AM-CZJ01", "text": "服务很好", "created_at": when})

    # call-backs owed, soonest first: one by a deadline, one at the time the customer asked for, one overdue; one done
    for number, contact_by, asked, status in ((1, local(2026, 11, 24, 11, 0), True, "open"),
                                              (2, local(2026, 11, 24, 9, 30), False, "acknowledged"),
                                              (3, local(2026, 11, 24, 9, 0), False, "resolved"),
                                              (4, local(2026, 11, 23, 17, 0), False, "open")):
        await db.escalations.create({**factories.escalation(f"ES-20261123-000{number}", contact_by),
                                     "callback_asked": asked, "status": status})

    report = await run(db, gateway, "brief", local(2026, 11, 24, 8, 30))
    assert report.outcomes == {"sent": 1}
    [brief] = to(emu, "+8613920000001")
    assert brief.startswith("【中国电信】林海燕您好，11月24日工作提示：\n待回电：ES-20261123-0004（杭州华信物流，11月23日17:00前，"
                            "已逾期）、ES-20261123-0002（杭州华信物流，11月24日09:30前）、"
                            "ES-20261123-0001（杭州华信物流，11月24日11:00）。")
    assert "今日生日：王伟（杭州华信物流）。" in brief and "明日生日：张丽（杭州华信物流）" in brief
    assert "号码已失效的联系人（请更新）：赵强（杭州华信物流）。" in brief
    assert "未结工单2张，SLA风险：FT-20261124-0001" in brief
    assert "待核实账单未收到申请：BC-20261121-0001" in brief and "有未结投诉的客户：杭州华信物流" in brief
    assert "待回访（满意度低）：FT-20261120-0001（杭州华信物流，2分）" in brief
    assert "今日起逾期欠费：杭州华信物流（4,000.00元）" in brief  # all it owes
    assert "应拜访1户，今日到期：杭州华信物流。" in brief
    assert "昨日获表扬：张丽（杭州华信物流）、王伟（杭州华信物流）。" in brief
    assert brief.endswith(SETTINGS.console_url)
    assert to(emu, "+8613920000002") == [] and to(emu, PROVINCE) == [] and to(emu, GROUP) == []
    assert (await run(db, gateway, "brief", local(2026, 11, 24, 9, 0))).outcomes == {"already": 1}


async def test_a_leavers_accounts_are_briefed_and_warned_to_whoever_acts_for_them(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db, contacts=[{**factories.customer()["contacts"][0], "birthday": birthday(11, 23)}])
    await db.managers.set_active("AM-CZJ01", False)  # left; the accounts are not reassigned yet
    await db.tickets.create(factories.ticket())  # response due 12:00
    await run(db, gateway, "brief", local(2026, 11, 23, 8, 30))
    [brief] = to(emu, PROVINCE)
    assert brief.startswith("【中国电信】周敏您好") and "今日生日：王伟（杭州华信物流）" in brief
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 11, 31))  # the warning before the response deadline
    assert len(to(emu, PROVINCE)) == 2 and to(emu, "+8613920000001") == []  # nothing to the leaver's phone
    for manager_id in ("AM-PZJ", "AM-G001"):  # nobody active above either: nobody is paged, nothing fails
        await db.managers.set_active(manager_id, False)
    report = await run(db, gateway, "sla_watch", local(2026, 11, 23, 12, 1))
    assert report.planned == 0 and len(emu.messages) == 2


def complaint(**overrides: Any) -> Dict[str, Any]:
    """A complaint opened 10:00 Shanghai by 王伟 (diamond): its reply is due at 14:00."""
    return factories.ticket(**{"_id": "CP-20261123-0001", "kind": "complaint", "circuit_id": None,
                               "text": "账单金额有误", "sla": {"response_due": local(2026, 11, 23, 14, 0)},
                               **overrides})


async def test_complaints_are_watched_like_faults(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.create(complaint())
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 13, 35))
    [warning] = to(emu, CITY)
    assert "投诉单CP-20261123-0001" in warning and "答复时限还有25分钟" in warning and "电路" not in warning
    for at in (local(2026, 11, 23, 14, 5), local(2026, 11, 23, 15, 5), local(2026, 11, 23, 18, 5),
               local(2026, 11, 23, 18, 10)):
        await run(db, gateway, "sla_watch", at)
    assert "第1级" in to(emu, CITY)[-1] and "答复已超时5分钟" in to(emu, CITY)[-1]
    [province], [group] = to(emu, PROVINCE), to(emu, GROUP)
    assert "第2级" in province and "第3级" in group and "投诉单" in group
    ticket = await db.tickets.get("CP-20261123-0001")
    assert ticket is not None and ticket.escalation_level == 3
    assert [e.action for e in ticket.history] == ["sla_warning", "escalate", "escalate", "escalate"]
    assert emu.stats.create_requests == 4


async def test_a_complaint_about_the_manager_is_watched_from_above_them(db: Database, gateway: SmsGateway,
                                                                       emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.create(complaint(category="manager", manager_id="AM-CZJ01", text="我想换个客户经理"))
    for at in (local(2026, 11, 23, 13, 35), local(2026, 11, 23, 14, 5), local(2026, 11, 23, 15, 5),
               local(2026, 11, 23, 18, 10)):
        await run(db, gateway, "sla_watch", at)
    assert to(emu, CITY) == []
    warning, first = to(emu, PROVINCE)
    [second] = to(emu, GROUP)
    assert "答复时限还有25分钟" in warning and "第1级" in first and "第2级" in second
    assert emu.stats.create_requests == 3  # the chain above the manager has two: no third level


async def test_a_complaint_about_the_manager_is_in_their_supervisors_brief(db: Database, gateway: SmsGateway,
                                                                          emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.create(factories.ticket())  # a fault, response due 12:00
    await db.tickets.create(complaint(category="manager", manager_id="AM-CZJ01", text="我想换个客户经理"))
    assert (await run(db, gateway, "brief", local(2026, 11, 23, 8, 30))).outcomes == {"sent": 2}
    [city], [province] = to(emu, CITY), to(emu, PROVINCE)
    assert "未结工单1张。" in city and "CP-20261123-0001" not in city and "有未结投诉的客户" not in city
    assert "未结工单1张。" in province and "对客户经理的投诉：CP-20261123-0001（杭州华信物流，林海燕）" in province
    assert to(emu, GROUP) == []


async def test_a_page_held_overnight_goes_out_at_eight(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    night = local(2026, 11, 23, 23, 0)
    for ticket_id, opened_by in (("CP-20261123-0001", "assistant:twilio"), ("CP-20261123-0002", "AM-PZJ")):
        await db.tickets.create(complaint(
            _id=ticket_id, category="manager", manager_id="AM-CZJ01", text="我想换个客户经理", priority="normal",
            created_at=night, updated_at=night, sla={"response_due": night + timedelta(hours=24)},
            history=[{"at": night, "actor": opened_by, "action": "created"}]))
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 24, 7, 55))).planned == 0
    for at in (local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 5)):
        await run(db, gateway, "sla_watch", at)
    [page] = to(emu, PROVINCE)  # the one the supervisor took by phone is not paged to them
    assert "投诉单CP-20261123-0001（涉及客户经理林海燕）" in page and to(emu, CITY) == []


async def test_chases_held_overnight_go_out_at_eight_to_whoever_answers_them(db: Database, gateway: SmsGateway,
                                                                              emulator) -> None:
    emu, _ = emulator
    await seed(db)
    night, evening = local(2026, 11, 23, 23, 0), local(2026, 11, 24, 20, 0)

    def chased(at: datetime, note: str) -> Dict[str, Any]:
        return {"at": at, "actor": "contact:0000001-02", "action": "urged", "note": note}

    await db.tickets.create(complaint(
        category="manager", manager_id="AM-CZJ01", sla={"response_due": evening},
        history=[chased(night - timedelta(hours=2), "held until 08:00"), chased(night, "held until 08:00")]))
    await db.tickets.create(factories.ticket(  # chased again at 01:00 with one due, and paged then: not again
        sla={"response_due": evening}, history=[chased(night, "held until 08:00"),
                                                 chased(local(2026, 11, 24, 1, 0), "paged AM-CZJ01")]))
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 24, 7, 55))).planned == 0
    for at in (local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 5), local(2026, 11, 24, 10, 0)):
        await run(db, gateway, "sla_watch", at)
    [page] = to(emu, PROVINCE)
    assert page.startswith("【中国电信】客户催办：杭州华信物流有限公司（金卡）David Chen")  # who chased
    assert "CP-20261123-0001（涉及客户经理林海燕，答复时限：11月24日20:00）" in page and to(emu, CITY) == []
    ticket = await db.tickets.get("CP-20261123-0001")
    assert ticket is not None and [(e.action, e.note) for e in ticket.history][-1] == ("urge_paged", "paged AM-PZJ")


async def test_a_contacts_chases_held_overnight_go_out_in_one_sms(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    night, evening = local(2026, 11, 23, 23, 0), local(2026, 11, 24, 20, 0)
    for n, contact in ((1, "0000001-02"), (2, "0000001-02"), (3, "0000001-01")):
        await db.tickets.create(factories.ticket(
            _id=f"FT-20261123-000{n}", sla={"response_due": evening, "restore_due": evening + timedelta(hours=2)},
            history=[{"at": night, "actor": f"contact:{contact}", "action": "urged", "note": "held until 08:00"}]))
    for at in (local(2026, 11, 24, 8, 0), local(2026, 11, 24, 8, 5)):
        await run(db, gateway, "sla_watch", at)
    pages = to(emu, CITY)
    assert len(pages) == 2  # one for each contact who chased
    [both] = [p for p in pages if "David Chen" in p]
    assert "催办FT-20261123-0001（修复时限：11月24日22:00）、FT-20261123-0002（修复时限：11月24日22:00）。" in both
    for n in (1, 2, 3):
        ticket = await db.tickets.get(f"FT-20261123-000{n}")
        assert ticket is not None and [(e.action, e.note) for e in ticket.history][-1] == ("urge_paged",
                                                                                         "paged AM-CZJ01")


async def test_acknowledging_a_complaint_meets_its_reply_deadline(db: Database, gateway: SmsGateway, emulator) -> None:
    await seed(db)
    await db.tickets.create(complaint())
    await db.tickets.acknowledge("CP-20261123-0001", TicketEvent(at=local(2026, 11, 23, 13, 0), actor="AM-CZJ01",
                                                                 action="ack"))
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 23, 18, 0))).planned == 0
    ticket = await db.tickets.get("CP-20261123-0001")
    assert ticket is not None and ticket.sla is not None and ticket.sla.responded_at == local(2026, 11, 23, 13, 0)


async def escalation(db: Database, escalation_id: str, opened: datetime, contact_by: datetime) -> None:
    await db.escalations.create({
        "_id": escalation_id, "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
        "sender_id": f"sms:+8613800138000:{escalation_id}", "channel": "twilio_sms", "reason": "request_human",
        "summary": "转人工", "contact_by": contact_by, "created_at": opened, "updated_at": opened})


async def test_a_manager_hears_when_a_customer_waiting_for_their_call_writes_again(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    opened = local(2026, 11, 23, 10, 0)
    await escalation(db, "ES-20261123-0001", opened, local(2026, 11, 23, 12, 0))
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 23, 10, 5))).planned == 0  # nothing written since
    for minutes in (10, 20, 75):  # what the channel claims as the customer writes: at most once an hour
        at = opened + timedelta(minutes=minutes)
        await db.escalations.claim_waiting_notice("ES-20261123-0001", at, timedelta(hours=1))
        await run(db, gateway, "sla_watch", at + timedelta(minutes=1))
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 11, 20))
    first, second = to(emu, CITY)
    assert first == second and first.startswith("【中国电信】升级单ES-20261123-0001：杭州华信物流有限公司（钻石卡）王伟")
    assert "在等待您联系期间又发来消息，请于11月23日12:00前联系" in first and first.endswith("/escalations/ES-20261123-0001")
    await db.escalations.set_status("ES-20261123-0001", EscalationStatus.resolved)
    await db.escalations.claim_waiting_notice("ES-20261123-0001", local(2026, 11, 23, 12, 30), timedelta(hours=1))
    assert (await run(db, gateway, "sla_watch", local(2026, 11, 23, 12, 31))).planned == 0  # the pause is over


async def test_at_night_a_manager_hears_of_it_only_for_a_call_back_due_before_morning(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    opened, wrote = local(2026, 11, 23, 22, 0), local(2026, 11, 23, 23, 0)
    await escalation(db, "ES-20261123-0001", opened, local(2026, 11, 24, 10, 0))  # called back in the morning
    await escalation(db, "ES-20261123-0002", opened, local(2026, 11, 24, 0, 0))  # an urgent complaint's deadline
    for escalation_id in ("ES-20261123-0001", "ES-20261123-0002"):
        await db.escalations.claim_waiting_notice(escalation_id, wrote, timedelta(hours=1))
    await run(db, gateway, "sla_watch", local(2026, 11, 23, 23, 5))
    [night] = to(emu, CITY)
    assert "ES-20261123-0002" in night
    await run(db, gateway, "sla_watch", local(2026, 11, 24, 7, 55))
    assert len(to(emu, CITY)) == 1
    await run(db, gateway, "sla_watch", local(2026, 11, 24, 8, 0))
    assert "ES-20261123-0001" in to(emu, CITY)[-1] and len(to(emu, CITY)) == 2


def test_a_brief_names_companies_as_managers_call_them() -> None:
    assert short_company("无锡鼎盛证券股份有限公司") == "无锡鼎盛证券"
    assert short_company("深圳海纳银行深圳分行") == "深圳海纳银行深圳分行"  # 10 characters: whole
    assert short_company("中国石油天然气股份有限公司浙江销售分公司") == "中国石油天然气股份…"  # cut visibly
