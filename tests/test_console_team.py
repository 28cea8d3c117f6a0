"""Managers' own accounts: set-password links, leavers deactivated, their book handed to a successor."""

from __future__ import annotations

import re

from carecore.repository import Database
from tests.console_client import Browser, seed


async def test_an_imported_manager_sets_a_password_from_a_one_time_link(db: Database, browser: Browser) -> None:
    await seed(db)
    await db.managers.insert({"_id": "ZJ-NEW", "name": "新经理", "mobile": "+8613920000009", "email": "n@kam.example.cn",
                              "region": {"province": "浙江省", "city": "宁波"}, "level": "city",
                              "supervisor_id": "AM-PZJ"})
    await browser.login("AM-PZJ")
    status, page = await browser.get("/console/team")
    assert status == 200 and "ZJ-NEW" in page and "未设密码" in page and "AM-CSH01" not in page  # another province
    status, page = await browser.post("/console/team/ZJ-NEW/password-link", {})
    link = re.search(r"set-password\?token=([\w-]+)", page)
    assert status == 200 and link is not None
    stored = await db.managers.get("ZJ-NEW")
    assert stored is not None and stored.reset_token_hash and link.group(1) not in stored.reset_token_hash
    await browser.post("/console/logout", {})
    status, page = await browser.get(f"/console/set-password?token={link.group(1)}")
    assert status == 200
    status, page = await browser.post("/console/set-password", {"token": link.group(1), "password": "short",
                                                                "again": "short"})
    assert status == 400 and "at least 10" in page
    new = "a long enough secret"
    status, page = await browser.post("/console/set-password", {"token": link.group(1), "password": new, "again": new})
    assert status == 200 and "密码已设置" in page
    status, page = await browser.post("/console/set-password", {"token": link.group(1), "password": new, "again": new})
    assert status == 400 and "unknown, used or expired" in page  # one time only
    status, page = await browser.login("ZJ-NEW", new)
    assert status == 200 and "新经理" in page


async def test_a_leaver_is_deactivated_and_their_book_reassigned(db: Database, browser: Browser, console: str) -> None:
    await seed(db)
    await db.managers.insert({"_id": "AM-CZJ02", "name": "宋明", "mobile": "+8613920000003", "email": "c2@kam.example.cn",
                              "region": {"province": "浙江省", "city": "宁波"}, "level": "city",
                              "supervisor_id": "AM-PZJ", "password_hash": (await db.managers.get("AM-CZJ01")).password_hash})  # type: ignore[union-attr]
    leaver = Browser(console)
    try:
        await leaver.login("AM-CZJ01")
        assert "FT-20261123-0001" in (await leaver.get("/console/"))[1]
        await browser.login("AM-PZJ")
        status, page = await browser.post("/console/team/AM-CZJ01/reassign", {"to": "AM-CZJ02"})
        assert status == 200 and "客户1个，未结工单1个，升级1个" in page
        customer = await db.customers.get("KA0000001")
        assert customer is not None and customer.account_manager_id == "AM-CZJ02"
        assert (await db.escalations.get("ES-20261123-0001")).manager_id == "AM-CZJ02"  # type: ignore[union-attr]
        ticket = await db.tickets.get("FT-20261123-0001")
        assert ticket is not None and ticket.history[-1].action == "reassigned"
        [moved] = [e for e in await db.audit.for_customer("KA0000001") if e.action == "reassigned"]
        assert moved.changes == {"account_manager_id": ["AM-CZJ01", "AM-CZJ02"]} and moved.actor == "AM-PZJ"
        status, page = await browser.post("/console/team/AM-CZJ01/deactivate", {})
        assert status == 200 and "已停用" in page
        status, page = await leaver.get("/console/")  # the leaver's open session ends at once
        assert 'action="/console/login"' in page
        status, _ = await leaver.login("AM-CZJ01")
        assert status == 401
    finally:
        await leaver.close()


async def test_only_ones_own_team_and_every_action_needs_csrf(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-PZJ")
    for path in ("/console/team/AM-CSH01/deactivate", "/console/team/AM-PZJ/password-link",
                 "/console/team/AM-G001/deactivate", "/console/team/AM-CZJ01/reassign"):
        assert (await browser.post(path, {"to": "AM-CSH01"}))[0] == 404, path  # not theirs, or themselves
    assert (await browser.post("/console/team/AM-CZJ01/deactivate", {}, csrf=False))[0] == 403
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/team")
    assert status == 200 and "AM-" not in page.split("<table>")[1].split("</table>")[0]  # a city manager keeps nobody
