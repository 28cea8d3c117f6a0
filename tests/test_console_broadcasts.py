"""Broadcasts in the console: preview before sending, the audience held to the sender's scope, cancel in time."""

from __future__ import annotations

import aiohttp

from carecore.repository import Database
from tests.console_client import Browser, seed

NOTICE = {"purpose": "notice", "text_zh": "春节期间营业厅营业时间调整为9:00–17:00。", "text_en": "", "customer_class": "",
          "circuit_type": "", "province": "", "city": ""}


async def test_a_province_manager_previews_sends_and_cancels_a_notice_to_their_scope(
        db: Database, browser: Browser) -> None:
    await seed(db)  # Zhejiang: 杭州华信 (2 contacts); Shanghai: 上海东方证券, another province's
    await browser.login("AM-CZJ01")
    assert (await browser.get("/console/broadcasts"))[0] == 404  # city managers do not broadcast
    await browser.login("AM-PZJ")
    status, page = await browser.get("/console/broadcasts")
    assert status == 200 and "确认发送" not in page  # only after a preview

    status, page = await browser.post("/console/broadcasts", {**NOTICE, "text_zh": "【联通】冒充签名", "action": "preview"})
    assert status == 400 and "内容或范围有误" in page and "text_zh" in page
    status, page = await browser.post("/console/broadcasts", {**NOTICE, "customer_class": "royal", "action": "send"})
    assert status == 400 and "customer_class" in page
    status, page = await browser.post("/console/broadcasts", {**NOTICE, "province": "上海市", "action": "send"})
    assert status == 400 and "no contact in the audience" in page  # outside the sender's scope: no one
    assert await db.broadcasts.recent() == []

    status, page = await browser.post("/console/broadcasts", {**NOTICE, "action": "preview"})
    assert status == 200 and "收件人 2 · 将发送 2" in page and "【中国电信】春节期间营业厅营业时间调整为9:00–17:00。" in page
    assert "确认发送" in page and await db.broadcasts.recent() == []  # a preview writes nothing
    status, page = await browser.post("/console/broadcasts", {**NOTICE, "action": "send"})
    assert status == 200 and "已提交" in page
    [sent] = await db.broadcasts.recent()
    assert sent.audience.manager_ids == ["AM-CZJ01", "AM-PZJ"] and sent.created_by == "AM-PZJ"

    form = aiohttp.FormData([("csrf", browser.csrf), ("tier", "diamond"), *[(k, v) for k, v in NOTICE.items()],
                             ("action", "preview")])
    async with browser.http.post(browser.base + "/console/broadcasts", data=form) as resp:
        assert "收件人 1 · 将发送 1" in await resp.text()  # 王伟 only: the diamond contact

    await browser.login("AM-PSH")  # another province: neither sees nor cancels it
    _, page = await browser.get("/console/broadcasts")
    assert sent.id not in page
    assert (await browser.post(f"/console/broadcasts/{sent.id}/cancel", {}))[0] == 404
    await browser.login("AM-PZJ")
    await browser.get("/console/broadcasts")
    status, page = await browser.post(f"/console/broadcasts/{sent.id}/cancel", {})
    assert status == 200 and (await db.broadcasts.get(sent.id)).status == "cancelled"
