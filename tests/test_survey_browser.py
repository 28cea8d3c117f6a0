"""Headless Chromium: a customer answers the survey through the link in their SMS; the account manager sees
the score and the follow-up it opened on the ticket page, and group sees it in the KPI dashboard (its
screenshot is the one in the README)."""

from __future__ import annotations

import re
from datetime import timedelta

from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import TicketEvent
from carecore.months import shift_month
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests.chromium import RESULTS, chromium
from tests.console_client import NOW, PASSWORD, seed


async def a_year_of_surveys(db: Database) -> None:
    """Resolved and surveyed tickets in the eleven months before November 2026, for a trend worth drawing."""
    for back in range(1, 12):
        month = shift_month("2026-11", -back)
        opened = NOW.replace(year=int(month[:4]), month=int(month[5:]), day=10)
        for n in range(6):
            customer, manager = (("KA0000001", "AM-CZJ01"), ("KA0000002", "AM-CSH01"))[n % 2]
            kind = "complaint" if n == 5 or (back % 4 == 0 and n == 4) else "fault"
            doc = {"_id": f"{'CP' if kind == 'complaint' else 'FT'}-{opened:%Y%m%d}-{n + 1:04d}", "kind": kind,
                   "customer_id": customer, "manager_id": manager, "text": "历史工单", "status": "closed",
                   "created_at": opened, "updated_at": opened, "resolved_at": opened + timedelta(hours=3),
                   "sla": {"response_due": opened + timedelta(hours=2), "responded_at": opened + timedelta(hours=1),
                           **({"restore_due": opened + timedelta(hours=4),
                               "restored_at": opened + timedelta(hours=3 + (n == back % 6) * 3)}
                              if kind == "fault" else {})},
                   "survey": {"contact_id": "x", "sent_at": opened + timedelta(hours=6), "outcome": "delivered",
                              "score": 5 if (n + back) % 7 else 3, "channel": "link"}}
            if kind == "fault":
                doc["circuit_id"] = "ZJ-2M-0000001-1" if customer == "KA0000001" else "SH-155M-0000002-1"
            await db.tickets.create(doc)


async def test_answer_a_survey_by_its_link_and_see_it_on_the_ticket(db: Database, console: str,
                                                                    gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    await a_year_of_surveys(db)
    await db.tickets.resolve("FT-20261123-0001", TicketEvent(at=NOW, actor="AM-CZJ01", action="resolve"))
    settings = Settings()  # the console's: the same PUBLIC_BASE_URL, the same link key
    later = FixedClock(NOW + timedelta(minutes=settings.survey_delay_minutes + 5))
    assert (await CampaignRunner(db, gateway, settings, later).run("survey")).outcomes == {"sent": 1}
    [sms] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    link = re.search(r"https?://\S+", sms).group(0).replace(settings.public_base_url, console)
    async with chromium() as browser:
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

        group = await browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        await group.goto(f"{console}/console/login")
        await group.fill("#manager_id", "AM-G001")
        await group.fill("#password", PASSWORD)
        await group.click("button[type=submit]")
        await group.click("header a:has-text('关键指标')")
        satisfaction = await group.inner_text("tr:has-text('满意度'):not(:has-text('回复'))")
        assert "0.0% ✗" in satisfaction  # November's one answer, a 2: off target, marked
        await group.goto(f"{console}/console/kpis?month=2026-10")
        assert "2026-10" in await group.inner_text("h1")
        await group.goto(f"{console}/console/kpis")
        await group.screenshot(path=str(RESULTS / "console-kpis.png"), full_page=True)
