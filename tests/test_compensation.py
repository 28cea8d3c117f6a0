"""Compensation notices: bill claims verified against the delivery record, SLA breaches credited by class."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

import pytest

from care_scheduler.compensation import bill_claim_outcome, plan_compensation
from care_scheduler.planning import PlanContext
from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import BillDeliveryRecord, ClaimStatus, Credit, Settlement, TicketEvent
from carecore.repository import Database, RecordValidationError
from carecore.sms.gateway import SmsGateway
from localrun.twilio_emulator import TwilioEmulator
from tests import factories

SHANGHAI = ZoneInfo("Asia/Shanghai")
SETTINGS = Settings()
UTC = timezone.utc


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # bill day 31, premium circuit, 王伟 zh + David Chen en
    await db.customers.insert(factories.other_customer())


async def claim(db: Database, *, month: str = "2026-10", contact_id: str = "0000001-01",
                customer_id: str = "KA0000001", seq: int = 1) -> str:
    claim_id = f"BC-20261201-{seq:04d}"
    now = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    await db.claims.create({"_id": claim_id, "customer_id": customer_id, "contact_id": contact_id, "month": month,
                            "created_at": now, "updated_at": now})
    return claim_id


async def delivery(db: Database, delivered_at: Optional[datetime], *, customer_id: str = "KA0000001",
                   month: str = "2026-10") -> None:
    # October's bill: issued on bill day 31 → Nov 30, stated time 7 days.
    await db.bill_deliveries.upsert({"customer_id": customer_id, "month": month, "channel": "email",
                                     "issued_at": local(2026, 11, 30, 9), "due_by": local(2026, 12, 7, 23, 59, 59),
                                     "delivered_at": delivered_at})


def run(db: Database, gateway: SmsGateway, at: datetime, settings: Settings = SETTINGS) -> Any:
    return CampaignRunner(db, gateway, settings, FixedClock(at)).run("compensation")


def messages(emu: TwilioEmulator) -> List[Dict[str, Any]]:
    return list(emu.messages.values())


def test_verification_rules_at_their_edges() -> None:
    due = local(2026, 12, 7, 23, 59, 59)
    record = BillDeliveryRecord(customer_id="KA0000001", month="2026-10", channel="paper",
                                issued_at=local(2026, 11, 30, 9), due_by=due, delivered_at=due)
    assert bill_claim_outcome(record, due, due + timedelta(days=3))[0] == ClaimStatus.rejected  # just in time
    late = record.copy(update={"delivered_at": due + timedelta(seconds=1)})
    assert bill_claim_outcome(late, due, due + timedelta(days=3))[0] == ClaimStatus.verified
    undelivered = record.copy(update={"delivered_at": None})
    assert bill_claim_outcome(undelivered, due, due) is None  # the stated time is not over yet
    assert bill_claim_outcome(undelivered, due, due + timedelta(seconds=1)) == (ClaimStatus.verified, "not delivered")
    assert bill_claim_outcome(None, due, due + timedelta(seconds=1)) == (ClaimStatus.verified, "no delivery recorded")


async def test_a_verified_claim_credits_five_minutes_once_and_notifies_at_any_hour(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)
    await delivery(db, local(2026, 12, 10, 15))  # three days late
    report = await run(db, gateway, local(2026, 12, 11, 3, 0))  # 03:00: service notices ignore quiet hours
    assert report.outcomes == {"sent": 1} and report.deferred_until is None
    [msg] = messages(emu)
    assert msg["to"] == "+8613800138000" and msg["body"].startswith("【中国电信】")
    assert "5分钟基本通话费（1.00元）" in msg["body"] and "2026年10月" in msg["body"] and "退订" not in msg["body"]
    credit = await db.credits.get(claim_id)
    assert credit.amount_fen == 100 and credit.minutes == 5 and credit.apply_to_month == "2027-01"
    assert credit.reason == "bill_not_received" and credit.customer_id == "KA0000001"
    settled = await db.claims.get(claim_id)
    assert settled.status == ClaimStatus.verified and settled.settlement.credit_id == claim_id
    assert settled.settlement.notified_at is not None and settled.settlement.notice_status == "queued"
    assert (await db.sends.get(f"comp:{claim_id}")).kind == "compensation"

    again = await run(db, gateway, local(2026, 12, 11, 9, 0))
    assert again.planned == 0 and emu.stats.create_requests == 1
    assert len(await db.credits.for_customer("KA0000001")) == 1


async def test_the_credit_told_is_the_one_configured(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)
    await delivery(db, local(2026, 12, 10, 15))
    await run(db, gateway, local(2026, 12, 11, 9, 0), Settings(bill_claim_credit_minutes=10))
    [msg] = messages(emu)
    assert "10分钟基本通话费（2.00元）" in msg["body"]
    assert (await db.credits.get(claim_id)).minutes == 10


async def test_a_claim_against_an_on_time_bill_gets_a_polite_no(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db, contact_id="0000001-02")  # David Chen, English
    await delivery(db, local(2026, 12, 2, 10, 30))
    report = await run(db, gateway, local(2026, 12, 3, 10, 0))
    assert report.outcomes == {"sent": 1}
    [msg] = messages(emu)
    assert msg["to"] == "+8613900139000" and "delivered on time on 02 Dec 10:30" in msg["body"]
    assert "林海燕" in msg["body"] and "credit" in msg["body"]
    assert await db.credits.get(claim_id) is None
    decided = await db.claims.get(claim_id)
    assert decided.status == ClaimStatus.rejected and decided.settlement.credit_fen == 0
    assert decided.settlement.notified_at is not None


async def test_with_nobody_on_duty_above_the_account_the_no_names_the_hotline(db: Database, gateway: SmsGateway,
                                                                              emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await claim(db)
    await delivery(db, local(2026, 12, 2, 10, 30))
    for manager_id in ("AM-CZJ01", "AM-PZJ", "AM-G001"):
        await db.managers.set_active(manager_id, False)
    await run(db, gateway, local(2026, 12, 3, 10, 0), Settings(hotline="10086"))
    [msg] = messages(emu)
    assert "（10086）" in msg["body"] and "林海燕" not in msg["body"]


async def test_a_claim_waits_until_the_stated_time_has_run_out(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)  # no delivery record at all
    early = await run(db, gateway, local(2026, 12, 7, 23, 0))
    assert early.planned == 0 and (await db.claims.get(claim_id)).status == ClaimStatus.pending_verification
    later = await run(db, gateway, local(2026, 12, 8, 0, 30))
    assert later.outcomes == {"sent": 1} and (await db.credits.get(claim_id)).amount_fen == 100
    assert (await db.claims.get(claim_id)).settlement.detail == "no delivery recorded"


async def test_the_credit_follows_the_configured_call_fee(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)
    settings = Settings(basic_call_fee_yuan_per_minute=0.36)
    await run(db, gateway, local(2026, 12, 20, 10), settings)
    assert (await db.credits.get(claim_id)).amount_fen == 180 and "（1.80元）" in messages(emu)[0]["body"]


async def resolved_fault(db: Database, *, late_by: timedelta, ticket_id: str = "FT-20261123-0001",
                         **overrides: Any) -> None:
    await db.tickets.create(factories.ticket(_id=ticket_id, **overrides))
    doc = factories.ticket(**overrides)
    restored = doc["sla"]["restore_due"] + late_by
    await db.tickets.resolve(ticket_id, TicketEvent(at=restored, actor="AM-CZJ01", action="resolve"))


async def test_an_sla_breach_earns_its_class_credit_once(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await resolved_fault(db, late_by=timedelta(hours=2, minutes=30))  # premium circuit
    await resolved_fault(db, late_by=-timedelta(minutes=5), ticket_id="FT-20261123-0002")  # in time
    await db.tickets.create(factories.ticket(_id="FT-20261123-0003"))  # still open: nothing yet
    report = await run(db, gateway, local(2026, 11, 23, 22, 15))
    assert report.outcomes == {"sent": 1}
    [msg] = messages(emu)
    assert "FT-20261123-0001" in msg["body"] and "2小时30分钟" in msg["body"] and "500.00元" in msg["body"]
    credit = await db.credits.get("FT-20261123-0001")
    assert credit.amount_fen == 50000 and credit.reason == "sla_breach" and credit.apply_to_month == "2026-12"
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket.compensation.notified_at is not None and ticket.sla.restored_at is not None
    assert await db.credits.get("FT-20261123-0002") is None
    again = await run(db, gateway, local(2026, 11, 24, 9))
    assert again.planned == 0 and emu.stats.create_requests == 1


@pytest.mark.parametrize("sla_class, fen", [("standard", 20000), ("basic", 5000)])
async def test_sla_credit_depends_on_the_circuit_class(db: Database, gateway: SmsGateway, emulator,
                                                       sla_class: str, fen: int) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    services = [{"circuit_id": "ZJ-2M-0000001-1", "type": "digital_2m", "bandwidth": "2M", "sla_class": sla_class}]
    await db.customers.insert(factories.customer(services=services))
    await resolved_fault(db, late_by=timedelta(minutes=1))
    await run(db, gateway, local(2026, 11, 24, 9))
    assert (await db.credits.get("FT-20261123-0001")).amount_fen == fen


async def test_a_crash_between_credit_and_notice_sends_once_and_credits_once(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)
    await resolved_fault(db, late_by=timedelta(hours=1))
    ctx = await PlanContext.load(db, SETTINGS, local(2026, 12, 20, 10).date(), now=local(2026, 12, 20, 10))
    plans = [plan async for plan in plan_compensation(ctx)]
    assert [p.key for p in plans] == [f"comp:{claim_id}", "comp:FT-20261123-0001"]
    for plan in plans:  # decided and credited, then the process dies before any notice
        await plan.settle()
    assert emu.stats.create_requests == 0
    report = await run(db, gateway, local(2026, 12, 20, 10, 5))
    assert report.outcomes == {"sent": 2} and emu.stats.create_requests == 2
    assert len(await db.credits.for_customer("KA0000001")) == 2
    assert (await run(db, gateway, local(2026, 12, 20, 11))).planned == 0


async def test_a_dry_run_decides_nothing(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    claim_id = await claim(db)
    report = await CampaignRunner(db, gateway, SETTINGS, FixedClock(local(2026, 12, 20, 10))).run(
        "compensation", dry_run=True)
    assert report.outcomes == {"would_send": 1} and emu.stats.create_requests == 0
    assert (await db.claims.get(claim_id)).status == ClaimStatus.pending_verification
    assert await db.credits.get(claim_id) is None and await db.sends.get(f"comp:{claim_id}") is None


async def test_settlement_and_credit_are_written_together_or_not_at_all(db: Database) -> None:
    await seed(db)
    claim_id = await claim(db)
    now = datetime(2026, 12, 20, 2, tzinfo=UTC)
    settlement = Settlement(decided_at=now, credit_fen=100, notice_key=f"comp:{claim_id}")
    bad_credit = Credit.construct(id=claim_id, customer_id="KA0000001", reason="bill_not_received",
                                  amount_fen=-5, apply_to_month="2027-01", created_at=now)  # the database refuses it
    with pytest.raises(RecordValidationError):
        await db.claims.decide(claim_id, ClaimStatus.verified, settlement, bad_credit)
    assert (await db.claims.get(claim_id)).status == ClaimStatus.pending_verification
    assert await db.credits.get(claim_id) is None
