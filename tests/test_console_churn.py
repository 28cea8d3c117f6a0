"""The console's churn watch: the customers in scope whose billing fell, open complaints first; CSV and XLSX."""

from __future__ import annotations

import io
from datetime import datetime, timezone

from openpyxl import load_workbook

from carecore.repository import Database
from tests import factories
from tests.console_client import Browser, seed


async def test_falling_bills_in_scope_with_downloads(db: Database, browser: Browser) -> None:
    await seed(db)  # the console's clock: 2026-11-23, so October is the last complete month
    for customer_id, recent in (("KA0000001", 50_000), ("KA0000002", 10_000)):
        for month in ("2026-05", "2026-06", "2026-07"):
            await db.usage.upsert(factories.usage(customer_id, month, amount_fen=100_000))
        for month in ("2026-08", "2026-09", "2026-10"):
            await db.usage.upsert(factories.usage(customer_id, month, amount_fen=recent))
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/churn")
    assert status == 200 and "2026-08–2026-10 / 2026-05–2026-07" in page
    assert "杭州华信物流有限公司" in page and "-50%" in page and "上海东方证券" not in page  # another's customer
    _, page = await browser.get("/console/customers/KA0000001")  # marked on the customer's own page
    assert "离网预警 -50%</a>" in page
    await browser.login("AM-G001")
    _, page = await browser.get("/console/reports/churn?lang=en")
    assert page.index("-90%") < page.index("-50%") and "Found 2" in page
    async with browser.http.get(browser.base + "/console/reports/churn.csv?lang=zh") as resp:
        assert resp.status == 200 and 'filename="churn-2026-10.csv"' in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines[0] == "客户编号,客户,客户经理,前三个月月均（元）,近三个月月均（元）,下降（%）,有未结投诉,表示要离网日期"
    assert lines[2] == "KA0000001,杭州华信物流有限公司,林海燕,1000.00,500.00,50,,"
    async with browser.http.get(browser.base + "/console/reports/churn.xlsx?lang=en") as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][:3] == ["customer_id", "company", "manager"]

    said = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # "合同到期不续了", to the assistant
    await db.escalations.create(factories.escalation("ES-20261120-0001", said, reason="leaving",
                                                     summary="合同到期不续了"))
    _, page = await browser.get("/console/reports/churn?lang=zh")
    assert page.index("表示要离网 2026-11-20") < page.index("-90%")  # first, whatever the bills say
    _, page = await browser.get("/console/customers/KA0000001")
    assert "离网预警 表示要离网</a>" in page


async def test_a_customer_kept_after_saying_they_would_leave_comes_off_the_watch(db: Database, browser: Browser) -> None:
    await seed(db)
    said = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)  # steady bills: listed only for what they said
    await db.escalations.create(factories.escalation("ES-20261120-0001", said, reason="leaving",
                                                     summary="合同到期不续了"))
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/reports/churn")
    assert 'action="/console/reports/churn/KA0000001/kept"' in page
    assert (await browser.post("/console/reports/churn/KA0000002/kept", {}))[0] == 404  # another's customer
    assert (await browser.post("/console/reports/churn/KA0000001/kept", {}, csrf=False))[0] == 403
    status, page = await browser.post("/console/reports/churn/KA0000001/kept", {})
    assert status == 200 and "已完成" in page and "杭州华信物流有限公司" not in page
    _, page = await browser.post("/console/reports/churn/KA0000001/kept", {})
    assert "该客户没有待挽留的离网表示" in page
    [entry] = await db._db.audit_log.find({"action": "kept"}).to_list(None)
    assert (entry["entity_id"], entry["actor"], entry["source"]) == ("KA0000001", "AM-CZJ01", "console")
