"""The campaigns page speaks the page's language: counts in a table, outcomes and statuses named."""

from __future__ import annotations

from carecore.repository import Database
from carecore.sms.message import Sms
from tests.console_client import Browser, seed


async def test_counts_are_a_table_not_python(db: Database, browser: Browser, gateway) -> None:  # type: ignore[no-untyped-def]
    await seed(db)
    await gateway.send(Sms.of(key="birthday:x:2026-11-23", kind="birthday", to="+8613800138000", body="生日快乐",
                              customer_id="KA0000001"))
    await browser.login("AM-G001")
    status, page = await browser.post("/console/campaigns/run", {"kind": "birthday", "date": "2026-11-23",
                                                                "dry_run": "1"})
    assert status == 200 and "计划" in page
    assert "{'" not in page and "生日祝福" in page and "合计" in page
    assert any(word in page for word in ("排队中", "已发送", "已送达"))
    status, page = await browser.get("/console/campaigns?kind=birthday&date=2026-11-23&lang=en")
    assert "{'" not in page and "Total" in page and "birthday" in page
