"""Opening a ticket: priority by tier, deadlines from the moment it is opened, and who is paged."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict
from zoneinfo import ZoneInfo

import pytest

from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import Customer, Ticket
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.texts import LABELS
from carecore.ticket_opening import category_of, held_overnight, open_complaint, open_fault, page_manager
from tests import factories

CLOCK = FixedClock(datetime(2026, 12, 31, 23, 59, 30, 123456, tzinfo=timezone.utc))  # the year's last minute
MORNING = FixedClock(datetime(2027, 1, 1, 2, 0, tzinfo=timezone.utc))  # 10:00 in Shanghai
SH = ZoneInfo("Asia/Shanghai")


async def seed(db: Database) -> Customer:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    return await db.customers.insert(factories.customer())


async def test_priority_deadlines_and_the_page_for_the_green_channel(db: Database, gateway: SmsGateway,
                                                                     emulator) -> None:
    emu, _ = emulator
    customer = await seed(db)
    diamond, gold = customer.contacts[0], customer.contacts[1]
    silver = gold.copy(update={"contact_id": "0000001-09", "tier": "silver"})
    circuit, settings = customer.services[0], Settings()
    basic = circuit.copy(update={"sla_class": "basic"})

    fault = await open_fault(db, settings, CLOCK, customer, silver, basic, text="丢包严重", actor="AM-PZJ")
    assert fault.id == "FT-20270101-0001" and fault.priority == "high"  # numbered by the business day: Shanghai's
    assert fault.created_at == datetime(2026, 12, 31, 23, 59, 30, 123000, tzinfo=timezone.utc)  # as stored
    assert fault.sla.response_due == fault.created_at + timedelta(hours=8)  # silver on basic: 8 h / 24 h
    await page_manager(db, gateway, settings, CLOCK, fault, customer, silver)
    assert emu.messages == {}  # not urgent: the SLA watch warns before its deadline
    premium = await open_fault(db, settings, CLOCK, customer, silver, circuit, text="丢包严重", actor="AM-PZJ")
    assert premium.priority == "urgent" and premium.sla.restore_due == premium.created_at + timedelta(hours=4)

    urgent = await open_fault(db, settings, CLOCK, customer, diamond, circuit, text="全部中断", actor="AM-PZJ")
    complaint = await open_complaint(db, settings, CLOCK, customer, gold, category="billing", text="多扣费",
                                     urgent=False, actor="AM-PZJ")
    assert urgent.priority == "urgent" and complaint.priority == "normal"
    for ticket in (urgent, urgent, complaint):  # paged once, however often asked
        await page_manager(db, gateway, settings, CLOCK, ticket, customer, diamond)
    [page] = [m["body"] for m in emu.messages.values()]
    assert "紧急故障单FT-20270101-0003" in page and "请于1月1日09:59前响应" in page

    # a manager gone: logged, nobody paged
    await db._db.account_managers.delete_one({"_id": customer.account_manager_id})
    again = await open_fault(db, settings, CLOCK, customer, diamond, circuit, text="又断了", actor="AM-PZJ")
    await page_manager(db, gateway, settings, CLOCK, again, customer, diamond)
    assert len(emu.messages) == 1


def test_a_category_is_stored_by_key_and_read_from_either_label() -> None:
    for key, labels in LABELS["complaint_category"].items():
        assert [category_of(text) for text in labels] == [key, key]  # the assistant's slot holds a label
    assert category_of("上个月多扣了钱") == category_of("你们多收了我们5000块钱") == category_of("话费不对") == "billing"
    assert category_of("we were charged twice") == category_of("I want a refund") == "billing"
    assert category_of("白天老是掉线") == category_of("latency is terrible") == "network"
    assert category_of("服务这么差") == category_of("客服态度不好") == category_of("热线一直打不通") == "attitude"
    assert category_of("我想说点别的") == "other"
    assert category_of("约好的师傅没来") == category_of("the technician never turned up") == "timeliness"


async def test_a_complaint_about_the_manager_pages_the_supervisor_not_the_manager(db: Database, gateway: SmsGateway,
                                                                                  emulator) -> None:
    emu, _ = emulator
    customer = await seed(db)
    gold, settings = customer.contacts[1], Settings()

    async def complaint_paged(opened_by=None, clock=MORNING, urgent=False) -> list:
        ticket = await open_complaint(db, settings, clock, customer, gold, category="我想换个客户经理",
                                      text="我想换个客户经理", urgent=urgent, actor="assistant:twilio")
        assert ticket.category == "manager"
        before = set(emu.messages)
        await page_manager(db, gateway, settings, clock, ticket, customer, gold, opened_by=opened_by)
        return [(m["to"], m["body"]) for sid, m in emu.messages.items() if sid not in before]

    [(to, body)] = await complaint_paged()
    assert to == "+8613910000001"  # the province supervisor (AM-PZJ), not the city manager the complaint is about
    assert "投诉单CP-20270101-0001（涉及客户经理林海燕）" in body and "紧急" not in body
    assert await complaint_paged(clock=CLOCK) == []  # 07:59, its reply due at 15:59: the page waits for 08:00
    [(to, body)] = await complaint_paged(clock=CLOCK, urgent=True)
    assert to == "+8613910000001" and "紧急投诉单" in body
    assert await complaint_paged(opened_by="AM-PZJ") == []  # the supervisor took it by phone: nobody paged
    await db.managers.set_active("AM-PZJ", False)
    [(to, _)] = await complaint_paged()
    assert to == "+8613900000001"  # the nearest active one above
    await db.managers.set_active("AM-G001", False)
    [(to, _)] = await complaint_paged()
    assert to == "+8613920000001"  # nobody active above: the manager


def manager_complaint(opened: datetime, reply_hours: int, **fields: Any) -> Ticket:
    doc: Dict[str, Any] = factories.ticket(_id="CP-20261123-0001", kind="complaint", circuit_id=None,
                                           category="manager", manager_id="AM-CZJ01", priority="normal",
                                           created_at=opened, updated_at=opened,
                                           sla={"response_due": opened + timedelta(hours=reply_hours)})
    return Ticket.parse_obj({**doc, **fields})


@pytest.mark.parametrize(("hour", "reply_hours", "fields", "held"), [
    (21, 24, {}, True),  # at night, its reply due the next evening: paged at 08:00
    (21, 8, {}, False),  # at night, its reply due at 05:00: paged at once (the window's edges: test_deadlines)
    (21, 24, {"priority": "urgent"}, False),
    (21, 24, {"category": "billing"}, False),  # not about the manager: no page to hold
])
def test_which_pages_wait_for_the_morning(hour: int, reply_hours: int, fields: Dict[str, Any], held: bool) -> None:
    opened = datetime(2026, 11, 23, hour, 0, tzinfo=SH).astimezone(timezone.utc)
    assert held_overnight(manager_complaint(opened, reply_hours, **fields), SH) is held
