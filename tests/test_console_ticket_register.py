"""The ticket register (工单台账): a month's tickets in scope with their deadlines' outcome; CSV and XLSX."""

from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

from openpyxl import load_workbook

from carecore.repository import Database
from tests import factories
from tests.console_client import Browser, seed

OPENED = datetime(2026, 11, 5, 2, 0, tzinfo=timezone.utc)  # 10:00 Shanghai


async def test_a_months_tickets_in_scope_with_their_deadlines(db: Database, browser: Browser) -> None:
    await seed(db)  # FT-20261123-0001 (KA0000001) and -0002 (another city's), deadlines still ahead
    await db.tickets.create(factories.ticket(
        _id="CP-20261105-0001", kind="complaint", circuit_id=None, category="billing", text="十月账单多扣费",
        status="resolved", manager_id="AM-CZJ01", created_at=OPENED, updated_at=OPENED,
        resolved_at=OPENED + timedelta(hours=6),
        sla={"response_due": OPENED + timedelta(hours=4), "responded_at": OPENED + timedelta(hours=5)},  # late
        survey={"contact_id": "0000001-01", "sent_at": OPENED + timedelta(hours=8), "outcome": "delivered",
                "score": 2, "channel": "sms", "answered_at": OPENED + timedelta(hours=9)},
        followup={"manager_id": "AM-CZJ01", "opened_at": OPENED + timedelta(hours=9),
                  "due": OPENED + timedelta(days=2)}))
    october = OPENED - timedelta(days=20)
    await db.tickets.create(factories.ticket(_id="FT-20261016-0001", created_at=october, updated_at=october))

    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/reports/tickets")  # this month by default
    assert status == 200 and "工单台账 · 2026-11" in page
    assert "CP-20261105-0001" in page and "FT-20261123-0001" in page
    assert "FT-20261123-0002" not in page and "FT-20261016-0001" not in page  # another's customer; October
    assert "达成 0 · 超时 1 · 未到期 1" in page and "账单费用" in page and "待回访" in page
    _, page = await browser.get("/console/reports/tickets?month=2026-10")
    assert "FT-20261016-0001" in page and "CP-20261105-0001" not in page
    _, page = await browser.get("/console/kpis?month=2026-11")
    assert 'href="/console/reports/tickets?month=2026-11"' in page

    async with browser.http.get(browser.base + "/console/reports/tickets.csv?month=2026-11&kind=complaint") as resp:
        assert 'filename="tickets-2026-11-complaint.csv"' in resp.headers["Content-Disposition"]
        lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines == ["工单号,类型,客户编号,客户,联系人,投诉类别,优先级,受理时间,响应/答复时限,修复时限,时限达成,状态,解决时间,"
                     "满意度评分,回访,客户经理",
                     "CP-20261105-0001,投诉,KA0000001,杭州华信物流有限公司,王伟,账单费用,高,2026-11-05 10:00,"
                     "2026-11-05 14:00,,超时,已解决,2026-11-05 16:00,2,待回访,林海燕"]

    await browser.login("AM-G001")  # group: every account
    xlsx = "/console/reports/tickets.xlsx?month=2026-11&kind=fault&lang=en"
    async with browser.http.get(browser.base + xlsx) as resp:
        sheet = load_workbook(io.BytesIO(await resp.read())).worksheets[0]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert [r[0] for r in rows] == ["ticket_id", "FT-20261123-0001", "FT-20261123-0002"]
    assert rows[1][10] == "pending" and rows[1][1] == "fault"
