"""Broadcasts: who a notice or a promotion reaches, in which language, once, and never an unhappy customer."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Dict

from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=timezone.utc)  # 10:00 Shanghai


def broadcast(purpose: str, **audience: Any) -> Dict[str, Any]:
    return {"_id": f"BN-20261205-000{1 if purpose == 'promotion' else 2}", "purpose": purpose, "audience": audience,
            "text_zh": "千兆专线新品上市，首年八折，详询客户经理。", "text_en": "1G leased lines now 20% off the first year.",
            "created_by": "AM-G001", "created_at": NOW}


async def seed(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # 王伟 diamond zh, David Chen gold en
    await db.customers.insert(factories.other_customer())  # 赵磊 gold, with an open complaint below
    await db.tickets.create(factories.ticket(_id="CP-20261204-0001", kind="complaint", customer_id="KA0000002",
                                             contact_id="0000002-01", circuit_id=None,
                                             sla={"response_due": NOW}))
    await db.customers.set_sms_opt_out("0000001-01", True, source="assistant", actor="contact:0000001-01", at=NOW)


def run(db: Database, gateway: SmsGateway, at: datetime = NOW) -> CampaignRunner:
    return CampaignRunner(db, gateway, Settings(), FixedClock(at))


async def test_a_promotion_spares_the_opted_out_and_the_unhappy_and_goes_once(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.broadcasts.create(broadcast("promotion", tiers=["diamond", "gold"]))
    dry = await run(db, gateway).run("broadcast", dry_run=True)
    assert dry.planned == 3 and (await db.broadcasts.get("BN-20261205-0001")).status == "queued"

    report = await run(db, gateway).run("broadcast")
    assert report.outcomes == {"sent": 1} and dict(report.suppressed) == {
        "opted_out": 1, "open_complaint": 1}
    [message] = emu.messages.values()
    assert message["to"] == "+8613900139000" and message["body"].startswith(
        "1G leased lines now 20% off the first year. Open http")
    done = await db.broadcasts.get("BN-20261205-0001")
    assert done.status == "planned" and done.planned_count == 3
    assert (await run(db, gateway).run("broadcast")).planned == 0


async def test_a_notice_reaches_every_contact_in_the_audience_in_daytime(
        db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    notice = broadcast("notice", customer_class="important")
    notice["text_en"] = None
    await db.broadcasts.create(notice)
    night = await run(db, gateway, datetime(2026, 12, 5, 14, 0, tzinfo=timezone.utc)).run("broadcast")
    assert night.planned == 0 and night.deferred_until is not None
    assert (await run(db, gateway).run("broadcast")).outcomes == {"sent": 2}  # the opted-out too: a notice
    bodies = sorted(m["body"] for m in emu.messages.values())
    assert bodies == ["【中国电信】千兆专线新品上市，首年八折，详询客户经理。"] * 2  # no English text: Chinese for all
