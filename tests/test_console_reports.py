"""The birthday report: the campaign's own rules for Feb 29 and lunar birthdays, the scope, CSV and XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from carecore.repository import Database
from tests.console_client import Browser, seed


async def test_feb_29_is_listed_on_the_28th_in_a_common_year(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/birthdays?month=2027-02")
    assert status == 200 and "2027-02-28" in page and "王伟" in page and "1988-02-29（公历）" in page
    status, page = await browser.get("/console/reports/birthdays?month=2028-02")
    assert "2028-02-29" in page


async def test_lunar_birthdays_fall_on_that_years_date_and_scope_holds(db: Database, browser: Browser) -> None:
    await seed(db)  # David Chen: lunar 8/15, KA0000001; 赵磊 (KA0000002, another manager's): May 1
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/birthdays?month=2026-09")
    assert "2026-09-25" in page and "David Chen" in page and "08-15（农历）" in page
    status, page = await browser.get("/console/reports/birthdays?month=2026-05")
    assert "赵磊" not in page
    await browser.login("AM-G001")
    status, page = await browser.get("/console/reports/birthdays?month=2026-05")
    assert "赵磊" in page and "2026-05-01" in page


async def test_downloads_as_csv_and_xlsx(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    async with browser.http.get(browser.base + "/console/reports/birthdays.csv?month=2026-09") as resp:
        assert resp.status == 200 and "attachment" in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines[0] == "日期,姓名,公司,等级,职务,客户经理,生日,历法"
    assert lines[1] == "2026-09-25,David Chen,杭州华信物流有限公司,金卡,CIO,林海燕,08-15,农历"
    async with browser.http.get(browser.base + "/console/reports/birthdays.xlsx?month=2026-09&lang=en") as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows(min_row=2))] == [
        "2026-09-25", "David Chen", "杭州华信物流有限公司", "Gold", "CIO", "林海燕", "08-15", "lunar"]
