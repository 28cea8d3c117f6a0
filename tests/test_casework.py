"""Closing cases on a real database, the emulator and a stand-in for Rasa's HTTP API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import AsyncIterator, Tuple

import aiohttp
import pytest

from care_scheduler.casework import AboutTheActor, CaseClosed, Casework, TicketRefused
from care_scheduler.rasa_client import HandBackFailed, RasaClient
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import TicketEvent, TicketKind
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories
from tests.conftest import RasaStub

NOW = datetime(2026, 11, 23, 2, 30, tzinfo=timezone.utc)  # 10:30 Shanghai
SENDER = "sms:+8613800138000:abc"


@pytest.fixture
async def casework(db: Database, gateway: SmsGateway, rasa: Tuple[RasaStub, str]) -> AsyncIterator[Casework]:
    _, url = rasa
    async with aiohttp.ClientSession() as http:
        yield Casework(db, gateway, Settings(), FixedClock(NOW), RasaClient(url, "rasa-token", http))


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    await db.tickets.create(factories.ticket(_id="FT-20261123-0001", customer_id="KA0000001",
                                             contact_id="0000001-01", circuit_id="ZJ-2M-0000001-1"))
    await db.escalations.create({
        "_id": "ES-20261123-0001", "customer_id": "KA0000001", "contact_id": "0000001-01",
        "manager_id": "AM-CZJ01", "ticket_id": "FT-20261123-0001", "sender_id": SENDER, "channel": "twilio_sms",
        "reason": "urgent_complaint", "summary": "专线中断", "contact_by": NOW + timedelta(hours=2), "created_at": NOW,
        "updated_at": NOW})


async def test_a_resolved_ticket_leaves_an_escalation_rasa_refused_open(db: Database, casework: Casework, rasa,
                                                                        emulator) -> None:
    stub, _ = rasa
    emu, _ = emulator
    await seed(db)
    stub.up = False
    ticket = await db.tickets.get("FT-20261123-0001")
    resolution = await casework.resolve_ticket(ticket, "AM-CZJ01", "已恢复")
    assert resolution.closed == [] and resolution.left_open == ["ES-20261123-0001"] and "503" in resolution.error
    assert (await db.tickets.get(ticket.id)).status == "resolved"
    assert (await db.escalations.get("ES-20261123-0001")).status == "open"
    assert [m["to"] for m in emu.messages.values()] == ["+8613800138000"]  # the customer is told all the same
    with pytest.raises(CaseClosed):
        await casework.resolve_ticket(await db.tickets.get(ticket.id), "AM-CZJ01")
    stub.up = True
    await casework.hand_back(await db.escalations.get("ES-20261123-0001"))
    assert (await db.escalations.get("ES-20261123-0001")).status == "handed_back"
    assert stub.events == [(SENDER, [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
                            "rasa-token")]


async def test_resolving_a_ticket_closes_its_escalations(db: Database, casework: Casework, rasa, emulator) -> None:
    await seed(db)
    resolution = await casework.resolve_ticket(await db.tickets.get("FT-20261123-0001"), "AM-CZJ01")
    assert resolution.closed == ["ES-20261123-0001"] and resolution.left_open == []
    assert (await db.escalations.get("ES-20261123-0001")).status == "resolved"


async def test_a_fault_reopened_and_resolved_again_is_told_again(db: Database, casework: Casework, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await casework.resolve_ticket(await db.tickets.get("FT-20261123-0001"), "AM-CZJ01", "已恢复")
    event = TicketEvent(at=NOW, actor="assistant:sms", action="reopened", note="还是不行")
    reopened = await db.tickets.reopen("FT-20261123-0001", event, resolved_since=NOW - timedelta(hours=24))
    assert reopened is not None
    await casework.resolve_ticket(reopened, "AM-CZJ01", "板卡已更换")
    told = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    assert len(told) == 2 and all("FT-20261123-0001" in body and "已处理完毕" in body for body in told)
    assert (await db.tickets.get("FT-20261123-0001")).customer_notified_at is not None


async def test_a_complaint_about_the_manager_is_handled_and_resolved_above_them(db: Database, casework: Casework,
                                                                                emulator) -> None:
    emu, _ = emulator
    await seed(db)
    customer = await db.customers.get("KA0000001")
    complaint = await casework.open_ticket(customer, kind="complaint", contact_id="0000001-01", category="manager",
                                           text="想换个客户经理", actor="AM-CZJ01")  # the customer phoned them
    to_customer = lambda: [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]  # noqa: E731
    [opened] = to_customer()
    assert "本单由您客户经理的上级主管周敏（139 1000 0001）处理" in opened and "林海燕" not in opened
    with pytest.raises(AboutTheActor):
        await casework.resolve_ticket(complaint, "AM-CZJ01")
    assert (await db.tickets.get(complaint.id)).status == "open"
    await casework.resolve_ticket(complaint, "AM-PZJ")
    assert (await db.tickets.get(complaint.id)).status == "resolved"
    assert "如仍有问题，请联系客户经理的上级主管周敏（139 1000 0001）" in to_customer()[-1]


async def test_an_escalation_rasa_refuses_stays_open_and_says_why(db: Database, casework: Casework, rasa,
                                                                  emulator) -> None:
    stub, _ = rasa
    emu, _ = emulator
    await seed(db)
    stub.up = False
    escalation = await db.escalations.get("ES-20261123-0001")
    for close in (casework.resolve_escalation, casework.hand_back):
        with pytest.raises(HandBackFailed, match="503"):
            await close(escalation)
    assert (await db.escalations.get(escalation.id)).status == "open" and emu.messages == {}
    stub.up = True
    await casework.resolve_escalation(escalation)
    assert (await db.escalations.get(escalation.id)).status == "resolved" and len(emu.messages) == 1
    with pytest.raises(CaseClosed):
        await casework.hand_back(await db.escalations.get(escalation.id))


async def test_a_second_fault_on_a_circuit_with_one_open_is_refused(db: Database, casework: Casework,
                                                                      emulator) -> None:
    """One outage has one ticket and one SLA clock, whoever takes the report: the manager adds a note instead."""
    emu, _ = emulator
    await seed(db)
    customer = await db.customers.get("KA0000001")
    with pytest.raises(TicketRefused) as refused:
        await casework.open_ticket(customer, kind="fault", contact_id="0000001-02", circuit_id="ZJ-2M-0000001-1",
                                   text="still down", actor="AM-CZJ01")
    assert (refused.value.field, refused.value.ticket_id) == ("circuit_id", "FT-20261123-0001")
    assert await db._db.tickets.count_documents({}) == 1 and emu.messages == {}


async def test_a_fault_phoned_in_soon_after_its_fix_reopens_the_ticket(db: Database, casework: Casework,
                                                                      emulator) -> None:
    """As when the customer tells the assistant: the same ticket open again, its contact told that the restore
    deadline stands. Resolved more than a day before, it is a new fault."""
    emu, _ = emulator
    await seed(db)
    customer = await db.customers.get("KA0000001")
    await casework.resolve_ticket(await db.tickets.get("FT-20261123-0001"), "AM-CZJ01")
    reopened = await casework.open_ticket(customer, kind="fault", contact_id="0000001-02",
                                          circuit_id="ZJ-2M-0000001-1", text="又断了，和上午一样", actor="AM-CZJ01")
    assert (reopened.id, reopened.status, reopened.times_reopened) == ("FT-20261123-0001", "open", 1)
    assert reopened.history[-1].note == "又断了，和上午一样" and await db._db.tickets.count_documents({}) == 1
    told = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    assert "您的故障单FT-20261123-0001（电路ZJ-2M-0000001-1）已重新打开" in told[-1] and "修复时限仍为" in told[-1]

    await casework.resolve_ticket(reopened, "AM-CZJ01")
    await db._db.tickets.update_one({"_id": reopened.id}, {"$set": {"resolved_at": NOW - timedelta(hours=25)}})
    await db.tickets.next_id(TicketKind.fault, NOW.date())  # the seeded ticket's number
    again = await casework.open_ticket(customer, kind="fault", contact_id="0000001-02",
                                       circuit_id="ZJ-2M-0000001-1", text="down again", actor="AM-CZJ01")
    assert again.id == "FT-20261123-0002" and again.times_reopened == 0
