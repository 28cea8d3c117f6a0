"""The console's record gaps: accounts in scope whose records keep care from reaching them; CSV and XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from carecore.repository import Database
from tests.console_client import Browser, seed


async def test_gaps_in_scope_by_gap_with_downloads(db: Database, browser: Browser) -> None:
    await seed(db)  # both accounts complete: every contact has a birthday, each account a billing contact
    await db._db.customers.update_one({"_id": "KA0000001"}, {"$unset": {"contacts.1.birthday": ""}})
    await db._db.customers.update_one({"_id": "KA0000002"}, {"$set": {"contacts.0.sms_opt_out": True}})
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/gaps")
    assert status == 200 and "杭州华信物流有限公司" in page and "上海东方证券" not in page  # another's customer
    assert "联系人缺生日 1/2" in page and "联系人缺生日 1</a>" in page and "联系人均已退订 0</a>" in page
    _, page = await browser.get("/console/customers")
    assert 'href="/console/reports/gaps"' in page

    await browser.login("AM-G001")
    await db.managers.set_active("AM-CSH01", False)  # left: the customer page says who acts meanwhile
    _, page = await browser.get("/console/customers/KA0000002")
    assert "已停用，由陈静代管" in page
    _, page = await browser.get("/console/reports/gaps?gap=all_opted_out&lang=en")
    assert "上海东方证券" in page and "杭州华信物流" not in page and "All contacts opted out 1</a>" in page
    async with browser.http.get(browser.base + "/console/reports/gaps.csv?lang=zh") as resp:
        assert resp.status == 200 and 'filename="record-gaps-2026-11-23.csv"' in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines == ["客户编号,客户,客户经理,联系人数,缺生日人数,客户经理缺失或停用,无联系人,联系人均已退订,"
                     "联系人号码已失效（离职或易主）,未指定账单联系人,联系人缺生日",
                     "KA0000001,杭州华信物流有限公司,林海燕,2,1,,,,,,是",
                     "KA0000002,上海东方证券股份有限公司,吴斌,1,0,是,,是,,,"]
    async with browser.http.get(browser.base + "/console/reports/gaps.xlsx?gap=no_birthday&lang=en") as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert [[c.value for c in row][:2] for row in sheet.iter_rows()] == [["customer_id", "company"],
                                                                         ["KA0000001", "杭州华信物流有限公司"]]
