"""The KPI dashboard in the console: the viewer's scope and its parts, targets marked, trends, downloads."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from carecore.passwords import hash_password
from carecore.repository import Database
from tests.console_client import PASSWORD, Browser
from tests.test_kpis import seed


async def test_a_province_sees_its_cities_and_the_figures_off_target(db: Database, browser: Browser) -> None:
    await seed(db)
    for manager in ("AM-PZJ", "AM-CZJ01"):
        await db.managers.set_password_hash(manager, hash_password(PASSWORD))
    await browser.login("AM-PZJ")
    status, page = await browser.get("/console/kpis?month=2026-11")
    assert status == 200 and "关键指标 · 周敏 · 2026-11（本月至今）" in page
    assert "<th>林海燕</th><th>韩梅</th>" in page
    assert '<td class="overdue">150.0% ✗</td>' in page and '<td class="overdue">50.0% ✗</td>' in page
    assert page.count('<svg class="trend"') == 3 and 'class="target"' in page
    counted = (await db.kpis.stored(["2026-11"]))["2026-11"]["computed_at"].astimezone(ZoneInfo("Asia/Shanghai"))
    assert f"统计于 {counted:%Y-%m-%d %H:%M}<" in page  # in the business timezone, like every time on the console
    async with browser.http.get(browser.base + "/console/kpis.csv?month=2026-11") as resp:
        text = (await resp.read()).decode("utf-8-sig")
    assert text.splitlines()[0] == "指标,周敏,林海燕,韩梅" and "投诉率,150.0%,200.0%,100.0%" in text
    await browser.close()

    city = Browser(browser.base)
    await city.login("AM-CZJ01")
    _, page = await city.get("/console/kpis?month=2026-11")
    assert "关键指标 · 林海燕" in page and "韩梅" not in page
    await city.close()
