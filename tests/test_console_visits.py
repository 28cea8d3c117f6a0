"""Recording a visit from the customer page, and the accounts in scope due for one; CSV and XLSX."""

from __future__ import annotations

import io
from datetime import datetime, timezone

import aiohttp
from openpyxl import load_workbook

from carecore.repository import Database
from tests.console_client import Browser, seed


async def test_record_a_visit_and_the_visits_due_in_scope(db: Database, browser: Browser) -> None:
    await seed(db)  # the console's clock: 2026-11-23
    loaded = datetime(2026, 10, 1, tzinfo=timezone.utc)  # both accounts every 30 days: due 2026-10-31
    await db._db.customers.update_many({}, {"$set": {"created_at": loaded}})
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/visits")
    assert status == 200 and "杭州华信物流有限公司" in page and "上海东方证券" not in page  # another's customer
    assert "从未拜访" in page and "重要客户 30天" in page
    _, page = await browser.get("/console/customers/KA0000001")
    assert "应拜访 2026-10-31</a>" in page

    _, form = await browser.get("/console/customers/KA0000001/visits/new")
    assert 'value="2026-11-23"' in form and "王伟（信息中心主任）" in form
    for wrong, message in ((("visited_on", "2026-11-24"), "不晚于今天"), (("visited_on", "2026-02-30"), "不晚于今天"),
                           (("notes", "好"), "请填写拜访纪要"), (("contact_id", "0000002-01"), "请选择该客户的联系人")):
        visit = {"visited_on": "2026-11-20", "notes": "走访信息中心，确认专线扩容需求", wrong[0]: wrong[1]}
        status, page = await browser.post("/console/customers/KA0000001/visits/new", visit)
        assert status == 400 and message in page, wrong
    assert await db.visits.for_customer("KA0000001") == []  # nothing written

    form_data = aiohttp.FormData([("csrf", browser.csrf), ("visited_on", "2026-11-20"),
                                  ("contact_id", "0000001-01"), ("contact_id", "0000001-02"),
                                  ("notes", "走访信息中心，确认专线扩容需求"), ("next_step", "12月初报价")])
    async with browser.http.post(browser.base + "/console/customers/KA0000001/visits/new", data=form_data) as resp:
        page = await resp.text()
    assert resp.status == 200 and "拜访已记录" in page
    assert "2026-11-20</td><td>林海燕</td><td>王伟、David Chen</td><td>走访信息中心，确认专线扩容需求 → 12月初报价" in page
    assert "应拜访日期 2026-12-20" in page  # important: every 30 days
    [visit] = await db.visits.for_customer("KA0000001")
    assert visit.manager_id == "AM-CZJ01" and visit.contact_ids == ["0000001-01", "0000001-02"]
    status, page = await browser.post("/console/customers/KA0000001/visits/new",
                                      {"visited_on": "2026-11-20", "notes": "补记：走访信息中心"})
    assert status == 400 and "当天对该客户的拜访已有记录" in page
    assert "补记：走访信息中心" in page  # the form keeps what was typed
    _, page = await browser.get("/console/reports/visits")
    assert "杭州华信物流有限公司" not in page

    await browser.login("AM-G001")
    async with browser.http.get(browser.base + "/console/reports/visits.csv?lang=zh") as resp:
        assert resp.status == 200 and 'filename="visits-due-2026-11-23.csv"' in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines == ["客户编号,客户,客户经理,拜访周期（天）,上次拜访,应拜访日期,逾期天数",
                     "KA0000002,上海东方证券股份有限公司,吴斌,30,,2026-10-31,23"]
    async with browser.http.get(browser.base + "/console/reports/visits.xlsx?lang=en") as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    assert [c.value for c in next(sheet.iter_rows(max_row=1))][3] == "every_days"
