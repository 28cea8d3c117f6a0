"""Headless Chromium: a customer answers the survey through the link in their SMS, and the account manager
sees the score and the follow-up it opened on the ticket page."""

from __future__ import annotations

import re
from datetime import timedelta

from playwright.async_api import async_playwright

from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import TicketEvent
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests.console_client import NOW, PASSWORD, seed
from tests.test_console_browser import CHROMIUM


async def test_answer_a_survey_by_its_link_and_see_it_on_the_ticket(db: Database, console: str,
                                                                    gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await db.tickets.resolve("FT-20261123-0001", TicketEvent(at=NOW - timedelta(hours=3), actor="AM-CZJ01",
                                                             action="resolve"))
    settings = Settings()  # the console's: the same PUBLIC_BASE_URL, the same link key
    assert (await CampaignRunner(db, gateway, settings, FixedClock(NOW)).run("survey")).outcomes == {"sent": 1}
    [sms] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    link = re.search(r"https?://\S+", sms).group(0).replace(settings.public_base_url, console)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = await browser.new_page(viewport={"width": 480, "height": 800}, locale="zh-CN",
                                          java_script_enabled=False)  # the page works without it
            await page.goto(link)
            assert "故障单 FT-20261123-0001" in await page.inner_text("main")
            await page.check("input[name=score][value='2']")
            await page.fill("#comment", "等了一天才修好")
            await page.click("button[type=submit]")
            await page.wait_for_selector("text=感谢您的评价")
            assert "客户经理将尽快与您联系" in await page.inner_text("main")

            staff = await browser.new_page(viewport={"width": 1280, "height": 800}, locale="zh-CN")
            await staff.goto(f"{console}/console/login")
            await staff.fill("#manager_id", "AM-CZJ01")
            await staff.fill("#password", PASSWORD)
            await staff.click("button[type=submit]")
            assert "等了一天才修好" in await staff.inner_text("main")  # the follow-up in the inbox
            await staff.goto(f"{console}/console/tickets/FT-20261123-0001")
            body = await staff.inner_text("main")
            assert "评分 2/5" in body and "评价链接" in body and "记录回访结果" in body
        finally:
            await browser.close()
