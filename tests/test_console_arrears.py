"""The console's arrears list: accounts in scope past their payment due date, why a reminder waits; CSV and XLSX."""

from __future__ import annotations

import io

from openpyxl import load_workbook

from carecore.repository import Database
from tests import factories
from tests.console_client import Browser, seed


async def test_accounts_past_their_due_date_in_scope_with_downloads(db: Database, browser: Browser) -> None:
    await seed(db)  # the console's clock: 2026-11-23; both customers' bill day is the 31st, bills due 20 days after
    await db.usage.upsert(factories.usage("KA0000001", "2026-09", amount_fen=100_000, paid_fen=25_000))  # due 11-20
    await db.usage.upsert(factories.usage("KA0000001", "2026-10", amount_fen=100_000, paid_fen=0))  # due 12-20
    await db.usage.upsert(factories.usage("KA0000002", "2026-08", amount_fen=300_000, paid_fen=0))  # due 10-20
    await db.claims.create({"_id": "BC-20261120-0001", "customer_id": "KA0000002", "contact_id": "0000002-01",
                            "month": "2026-08", "created_at": factories.ticket()["created_at"],
                            "updated_at": factories.ticket()["created_at"]})
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/arrears")
    assert status == 200 and "杭州华信物流有限公司" in page and "上海东方证券" not in page  # another's customer
    assert "2026-09</td><td>750.00</td>" in page and "王伟 138 0013 8000" in page and "合计欠费（元） 750.00" in page
    _, page = await browser.get("/console/customers/KA0000001")  # marked on the customer's own page
    assert "欠费催缴 750.00</a>" in page
    await browser.login("AM-G001")
    _, page = await browser.get("/console/reports/arrears?lang=en")
    assert page.index("上海东方证券") < page.index("杭州华信物流")  # the longest overdue first
    assert "Bill not received, being checked: no reminder" in page and "Found 2" in page
    async with browser.http.get(browser.base + "/console/reports/arrears.csv?lang=zh") as resp:
        assert resp.status == 200 and 'filename="arrears-2026-11-23.csv"' in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines[0] == "客户编号,客户,客户经理,账单联系人,手机号码,欠费账期,欠费金额（元）,最早缴费截止日,逾期天数,暂不催缴原因"
    assert lines[2] == "KA0000001,杭州华信物流有限公司,林海燕,王伟,138 0013 8000,2026-09,750.00,2026-11-20,3,"
    async with browser.http.get(browser.base + "/console/reports/arrears.xlsx?lang=en") as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][-1] == "reminder_held"
