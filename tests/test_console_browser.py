"""Headless Chromium on the console: find a customer by mobile, change a contact's consent with a reason,
open a ticket they phoned in, then read and download the birthday report (its screenshot is the one in
the README); record a visit, and preview and send a promotion."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from openpyxl import load_workbook

from carecore.repository import Database
from tests.chromium import RESULTS, chromium
from tests.console_client import PASSWORD, seed

FEBRUARY = [  # more of KA0000001's contacts born in February, for a report worth a screenshot
    ("0000001-03", "李娜", "财务经理", "+8613700000103", {"calendar": "solar", "month": 2, "day": 14}, "gold"),
    ("0000001-04", "张强", "网络管理员", "+8613700000104", {"calendar": "lunar", "month": 1, "day": 15}, "silver"),
    ("0000001-05", "Emily Zhou", "Office Manager", "+8613700000105", {"calendar": "solar", "month": 2, "day": 3,
                                                                      "year": 1990}, "vip"),
    ("0000001-06", "刘洋", "采购经理", "+8613700000106", {"calendar": "lunar", "month": 1, "day": 8}, "gold"),
]


async def login(page, console: str, manager_id: str) -> None:  # type: ignore[no-untyped-def]
    await page.goto(f"{console}/console/login")
    await page.fill("#manager_id", manager_id)
    await page.fill("#password", PASSWORD)
    await page.click("button[type=submit]")


async def test_search_edit_consent_open_a_ticket_and_download_the_birthday_report(db: Database, console: str) -> None:
    await seed(db)
    customer = await db.customers.get("KA0000001")
    assert customer is not None
    doc = customer.to_mongo()
    doc["contacts"] += [{"contact_id": cid, "name": name, "role": role, "mobile": mobile, "birthday": birthday,
                         "language": "en" if name.isascii() else "zh", "tier": tier}
                        for cid, name, role, mobile, birthday, tier in FEBRUARY]
    await db.customers.replace(doc)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN",
                                      accept_downloads=True)
        await login(page, console, "AM-CZJ01")
        await page.click("header a:has-text('客户')")
        await page.fill("input[name=q]", "+86 138-0013-8000")
        await page.click("form.search button")
        await page.click("a:has-text('杭州华信物流有限公司')")
        await page.click("tr:has-text('王伟') a:has-text('编辑')")
        await page.select_option("#f-consent", "yes")
        await page.click("button:has-text('保存')")
        assert "a reason is needed" in await page.inner_text(".error")
        await page.select_option("#f-consent", "yes")
        await page.fill("#f-reason", "客户来电要求不再接收关怀短信")
        await page.click("button:has-text('保存')")
        await page.wait_for_selector("text=已保存")
        assert "已退订（console）" in await page.inner_text("body")
        assert "客户来电要求不再接收关怀短信" in await page.inner_text("body")

        await page.click("a:has-text('新建工单')")  # a complaint David Chen phoned in
        await page.select_option("#f-kind", "complaint")
        await page.select_option("#f-contact", "0000001-02")
        await page.select_option("#f-category", "billing")
        await page.fill("#f-text", "十月账单重复扣费")
        await page.click("button:has-text('建单')")
        await page.wait_for_selector("text=已建单")
        assert "投诉 CP-20261123-0001" in await page.inner_text("h1")
        assert "联系人：David Chen（139 0013 9000，金卡） · 账单费用" in await page.inner_text(".card")
        await page.screenshot(path=str(RESULTS / "console-new-ticket.png"), full_page=True)

        await page.goto(f"{console}/console/reports/birthdays?month=2027-02")
        await page.wait_for_selector("td:has-text('2027-02-28')")
        assert "2027-02-20" in await page.inner_text("body")  # 张强, lunar 1/15 of the year of the goat
        await page.screenshot(path=str(RESULTS / "console-birthdays.png"), full_page=True)
        async with page.expect_download() as download_info:
            await page.click("a:has-text('XLSX')")
        download = await download_info.value
        assert download.suggested_filename == "birthdays-2027-02.xlsx"
        data = await asyncio.to_thread(Path(await download.path()).read_bytes)
        sheet = load_workbook(io.BytesIO(data)).worksheets[0]
        rows = [[c.value for c in row] for row in sheet.iter_rows()]
        assert rows[0][:3] == ["日期", "姓名", "公司"] and rows[1][:2] == ["2027-02-03", "Emily Zhou"]
        assert ["2027-02-28", "王伟", "杭州华信物流有限公司"] in [r[:3] for r in rows] and len(rows) == 6
    contact = (await db.customers.find_by_contact("0000001-01"))[1]  # type: ignore[index]
    assert contact.sms_opt_out and contact.opt_out_source == "console"


async def test_record_a_visit_then_preview_and_send_a_promotion(db: Database, console: str) -> None:
    await seed(db)
    async with chromium() as browser:
        city = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
        await login(city, console, "AM-CZJ01")
        await city.goto(f"{console}/console/customers/KA0000001")
        await city.click("a:has-text('记录拜访')")
        await city.check("input[value='0000001-01']")
        await city.check("input[value='0000001-02']")
        await city.fill("#f-notes", "走访信息中心，确认专线扩容需求")
        await city.fill("#f-next", "12月初报价")
        await city.click("button:has-text('保存')")
        await city.wait_for_selector("text=拜访已记录")
        assert "王伟、David Chen" in await city.inner_text("body")

        other = await browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})  # its own login
        province = await other.new_page()
        await login(province, console, "AM-PZJ")
        await province.click("header a:has-text('群发短信')")
        await province.select_option("#b-purpose", "promotion")
        await province.check("input[name=tier][value=diamond]")
        await province.fill("#b-zh", "千兆专线新品上市，首年八折，详询客户经理。")
        await province.click("button:has-text('预览')")
        await province.wait_for_selector("#preview")
        preview = await province.inner_text("#preview")
        assert "收件人 1 · 将发送 1" in preview and "【中国电信】千兆专线新品上市" in preview and "退订" in preview
        await province.screenshot(path=str(RESULTS / "console-broadcast-preview.png"), full_page=True)
        await province.click("button:has-text('确认发送')")
        await province.wait_for_selector("text=已提交")
    [queued] = await db.broadcasts.recent()
    assert queued.purpose == "promotion" and queued.audience.tiers == ["diamond"]
    [visit] = await db.visits.for_customer("KA0000001")
    assert visit.contact_ids == ["0000001-01", "0000001-02"] and visit.next_step == "12月初报价"
