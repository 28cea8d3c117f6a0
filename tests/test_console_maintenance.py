"""Announcing, changing and cancelling maintenance in the console, within the manager's scope."""

from __future__ import annotations

from carecore.repository import Database
from tests.console_client import Browser, seed

WINDOW = {"circuit_ids": "ZJ-2M-0000001-1", "start": "2026-11-25T01:00", "end": "2026-11-25T05:00",
          "impact": "interrupted", "description_zh": "核心网设备割接", "description_en": "Core network cutover"}


async def test_a_province_manager_announces_changes_and_cancels(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-PZJ")
    status, page = await browser.get("/console/maintenance")
    assert status == 200 and 'value="浙江省"' in page  # the province is filled in
    status, page = await browser.post("/console/maintenance", {**WINDOW, "end": "2026-11-25T00:00"})
    assert status == 400 and "end after it starts" in page and "核心网设备割接" in page  # kept to fix
    status, page = await browser.post("/console/maintenance", {**WINDOW, "circuit_ids": "SH-155M-0000002-1"})
    assert status == 400 and "not yours" in page  # a Shanghai customer's circuit
    status, page = await browser.post("/console/maintenance", WINDOW)
    assert status == 200 and "已发布MW-20261123-0001" in page and "2026-11-25 01:00 – 2026-11-25 05:00" in page
    status, page = await browser.post("/console/maintenance/MW-20261123-0001/change",
                                      {"start": "2026-11-25T02:00", "end": "2026-11-25T05:00"})
    assert status == 200 and "v2" in page and "2026-11-25 02:00" in page
    status, page = await browser.post("/console/maintenance/MW-20261123-0001/cancel", {})
    assert status == 200 and "已取消" in page
    window = await db.maintenance.get("MW-20261123-0001")
    assert window.version == 2 and window.cancelled_at is not None and window.announced_by == "AM-PZJ"


async def test_city_managers_and_other_provinces_see_nothing(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-PZJ")
    await browser.get("/console/maintenance")
    await browser.post("/console/maintenance", WINDOW)
    await browser.close()
    for manager in ("AM-CZJ01", "AM-PSH"):
        other = Browser(browser.base)
        await other.login(manager)
        status, _ = await other.get("/console/maintenance/MW-20261123-0001")
        assert status == 404
        if manager == "AM-PSH":
            _, page = await other.get("/console/maintenance")
            assert "MW-20261123-0001" not in page
        else:
            status, _ = await other.get("/console/maintenance")
            assert status == 404
        await other.close()
