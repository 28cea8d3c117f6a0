"""The managers' console over HTTP: login, CSRF, rate limit, scope isolation on every page and action."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest

from carecore.model import Credit, TicketEvent, TicketKind
from carecore.passwords import WeakPassword, hash_password, verify_password
from carecore.repository import Database
from tests import factories
from tests.console_client import NOW, PASSWORD, Browser, seed


def test_passwords_are_slow_salted_hashes() -> None:
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first != second and first.startswith("scrypt$16384$8$1$") and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password("wrong password!", first)
    assert not verify_password(PASSWORD, None) and not verify_password(PASSWORD, "md5$abc")
    with pytest.raises(WeakPassword):
        hash_password("short")


async def test_login_logout_and_session_cookie_flags(db: Database, browser: Browser) -> None:
    await seed(db)
    status, page = await browser.get("/console/")
    assert status == 200 and 'action="/console/login"' in page  # redirected to the login page
    status, page = await browser.login("AM-CZJ01")
    assert status == 200 and "林海燕" in page and "FT-20261123-0001" in page
    cookie = next(c for c in browser.http.cookie_jar if c.key == "keycare_console")
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/console"
    status, page = await browser.post("/console/logout", {})
    assert 'action="/console/login"' in page
    status, page = await browser.get("/console/tickets/FT-20261123-0001")
    assert 'action="/console/login"' in page and "专线中断" not in page


async def test_csrf_is_required_on_every_form(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.get("/console/login")
    status, _ = await browser.post("/console/login", {"manager_id": "AM-CZJ01", "password": PASSWORD}, csrf=False)
    assert status == 403
    await browser.login("AM-CZJ01")
    for path in ("/console/tickets/FT-20261123-0001/ack", "/console/tickets/FT-20261123-0001/resolve",
                 "/console/tickets/FT-20261123-0001/note", "/console/escalations/ES-20261123-0001/resolve",
                 "/console/logout"):
        status, _ = await browser.post(path, {"note": "x"}, csrf=False)
        assert status == 403, path
        browser_csrf, browser.csrf = browser.csrf, "forged-" + browser.csrf[:10]
        status, _ = await browser.post(path, {"note": "x"})
        assert status == 403, path
        browser.csrf = browser_csrf
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket.status == "open" and ticket.history == []


async def test_failed_logins_are_rate_limited(db: Database, browser: Browser) -> None:
    await seed(db)
    for _ in range(3):
        status, page = await browser.login("AM-CZJ01", "wrong password")
        assert status == 401 and "工号或密码错误" in page
    status, page = await browser.login("AM-CZJ01")  # even the right password is refused now
    assert status == 429 and "15分钟" in page
    other = Browser(browser.base)
    try:
        status, _ = await other.login("AM-CSH01")  # another account from the same address: blocked too
        assert status == 429
    finally:
        await other.close()


@pytest.mark.parametrize("console_settings", [{"trusted_proxies": ["127.0.0.1"]}])
async def test_behind_a_trusted_balancer_failed_logins_count_per_client(db: Database, console: str) -> None:
    """Every request comes from the balancer: a stranger's wrong passwords must not lock out the managers."""
    await seed(db)
    stranger = Browser(console, {"X-Forwarded-For": "203.0.113.7"})
    disguised = Browser(console, {"X-Forwarded-For": "198.51.100.20, 203.0.113.7"})  # a made-up first hop
    manager = Browser(console, {"X-Forwarded-For": "198.51.100.20"})
    try:
        for n in range(3):
            status, _ = await stranger.login(f"AM-GUESS{n}", "wrong password")
            assert status == 401
        status, _ = await stranger.login("AM-GUESS9", "wrong password")
        assert status == 429
        status, _ = await disguised.login("AM-CZJ01")
        assert status == 429  # the balancer vouches only for the hop it saw: the same stranger
        status, page = await manager.login("AM-CZJ01")
        assert status == 200 and "待办" in page
    finally:
        for client in (stranger, disguised, manager):
            await client.close()


SCOPED_PAGES = ["/console/tickets/{ticket}", "/console/escalations/{escalation}", "/console/customers/{customer}",
                "/console/customers/{customer}/tickets/new", "/console/customers/{customer}/visits/new"]
SCOPED_ACTIONS = ["/console/customers/{customer}/tickets/new", "/console/customers/{customer}/visits/new",
                  "/console/tickets/{ticket}/ack",
                  "/console/tickets/{ticket}/note", "/console/tickets/{ticket}/resolve",
                  "/console/escalations/{escalation}/ack", "/console/escalations/{escalation}/resolve",
                  "/console/escalations/{escalation}/handback"]
ZJ = {"ticket": "FT-20261123-0001", "escalation": "ES-20261123-0001", "customer": "KA0000001"}
SH = {"ticket": "FT-20261123-0002", "escalation": "ES-20261123-0002", "customer": "KA0000002"}


@pytest.mark.parametrize("manager, visible, hidden", [
    ("AM-CZJ01", [ZJ], [SH]),   # city: own customers only
    ("AM-PZJ", [ZJ], [SH]),     # province: its cities' customers
    ("AM-CSH01", [SH], [ZJ]),
    ("AM-G001", [ZJ, SH], []),  # group: everyone
])
async def test_scope_isolation_on_every_page_and_action(db: Database, browser: Browser, rasa, manager: str,
                                                         visible: list, hidden: list) -> None:
    stub, _ = rasa
    await seed(db)
    await browser.login(manager)
    _, inbox = await browser.get("/console/")
    for ids in visible:
        assert ids["ticket"] in inbox and ids["escalation"] in inbox
        for page in SCOPED_PAGES:
            status, _ = await browser.get(page.format(**ids))
            assert status == 200, page
    for ids in hidden:
        assert ids["ticket"] not in inbox and ids["escalation"] not in inbox
        for page in SCOPED_PAGES:
            status, text = await browser.get(page.format(**ids))
            assert status == 404 and "上海东方证券" not in text and "杭州华信物流" not in text, page
        for action in SCOPED_ACTIONS:
            status, _ = await browser.post(action.format(**ids), {"note": "intrusion"})
            assert status == 404, action
        ticket = await db.tickets.get(ids["ticket"])
        escalation = await db.escalations.get(ids["escalation"])
        assert ticket.status == "open" and ticket.history == [] and escalation.status == "open"
    assert stub.events == []
    status, _ = await browser.get("/console/tickets/FT-20991231-9999")  # absent looks the same as hidden
    assert status == 404
    status, _ = await browser.get("/console/campaigns")
    assert status == (200 if manager == "AM-G001" else 404)
    async with browser.http.get(browser.base + "/console/campaigns/chart.png") as resp:
        assert resp.status == (200 if manager == "AM-G001" else 404)


async def test_ticket_actions_notice_and_history(db: Database, browser: Browser, emulator, rasa) -> None:
    emu, _ = emulator
    stub, _ = rasa
    await seed(db)
    await browser.login("AM-CZJ01")
    status, page = await browser.post("/console/tickets/FT-20261123-0001/ack", {})
    assert status == 200 and "已完成" in page
    await browser.post("/console/tickets/FT-20261123-0001/note", {"note": "已派维护人员<script>x</script>"})
    status, page = await browser.post("/console/tickets/FT-20261123-0001/resolve", {})
    assert "已通知客户" in page and "<script>x</script>" not in page and "&lt;script&gt;" in page
    assert "<td>受理</td>" in page and "<td>备注</td>" in page and "<td>解决</td>" in page  # the history, in words
    ticket = await db.tickets.get("FT-20261123-0001")
    assert ticket.status == "resolved" and [e.action for e in ticket.history] == ["ack", "note", "resolve"]
    assert ticket.sla.responded_at is not None and ticket.sla.restored_at is not None
    [notice] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    assert "FT-20261123-0001" in notice and "已处理完毕" in notice
    assert (await db.tickets.get("FT-20261123-0001")).customer_notified_at is not None
    await browser.post("/console/tickets/FT-20261123-0001/resolve", {})  # a second click sends nothing
    assert emu.stats.create_requests == 1


async def test_what_the_customer_said_of_an_open_ticket_is_marked_in_the_inbox(db: Database, browser: Browser) -> None:
    await seed(db)
    await db.tickets.add_event("FT-20261123-0001", TicketEvent(at=NOW, actor="contact:0000001-01",
                                                               action="customer_restored", note="网络恢复了"))
    await db.tickets.add_event("FT-20261123-0001", TicketEvent(at=NOW, actor="contact:0000001-01",
                                                               action="customer_withdraw", note="误报了，撤销吧"))
    await browser.login("AM-CZJ01")
    _, inbox = await browser.get("/console/")
    row = next(line for line in inbox.split("</tr>") if "FT-20261123-0001" in line)
    assert "客户告知已恢复" in row and "客户要求撤销" in row
    _, page = await browser.get("/console/tickets/FT-20261123-0001")
    assert "<td>客户告知已恢复</td>" in page and "网络恢复了" in page


async def test_a_complaint_about_the_manager_is_answered_above_them(db: Database, browser: Browser, emulator,
                                                                    rasa) -> None:
    await seed(db)
    await db.tickets.create(factories.ticket(_id="CP-20261123-0001", kind="complaint", circuit_id=None,
                                             category="manager", manager_id="AM-CZJ01", text="我想换个客户经理"))
    await browser.login("AM-CZJ01")  # the manager it is about
    status, page = await browser.get("/console/tickets/CP-20261123-0001")
    assert status == 200 and "这张投诉涉及您本人" in page and "/tickets/CP-20261123-0001/resolve" not in page
    for action in ("ack", "resolve", "followup"):
        status, page = await browser.post(f"/console/tickets/CP-20261123-0001/{action}", {})
        assert status == 200 and "由您的上级主管受理、解决和回访" in page
    assert (await db.tickets.get("CP-20261123-0001")).history == []
    await browser.login("AM-PZJ")
    status, page = await browser.post("/console/tickets/CP-20261123-0001/resolve", {})
    assert "已通知客户" in page and (await db.tickets.get("CP-20261123-0001")).status == "resolved"


async def test_a_manager_opens_a_ticket_the_customer_phoned_in(db: Database, browser: Browser, emulator) -> None:
    emu, _ = emulator
    await seed(db)
    for _ in range(2):  # the seeded tickets hold the day's first two fault numbers
        await db.tickets.next_id(TicketKind.fault, NOW.date())
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/customers/KA0000001/tickets/new")
    assert status == 200 and "王伟（138 0013 8000，钻石卡）" in page and "ZJ-2M-0000001-1" in page
    fault = {"kind": "fault", "contact_id": "0000001-01", "circuit_id": "ZJ-2M-0000001-1", "text": "专线中断，无法上网"}
    for wrong, message in (({"circuit_id": ""}, "故障须选择该客户的电路"),
                           ({"circuit_id": "SH-155M-0000002-1"}, "故障须选择该客户的电路"),  # another customer's
                           ({"contact_id": "0000002-01"}, "请选择该客户的联系人"),
                           ({"kind": "other"}, "请选择故障或投诉"),
                           ({"text": "断了"}, "请描述问题"),
                           ({"kind": "complaint", "category": "weather"}, "请选择投诉类别")):
        status, page = await browser.post("/console/customers/KA0000001/tickets/new", {**fault, **wrong})
        assert status == 400 and message in page, wrong
    # one outage, one ticket: the seeded fault is still open on that circuit
    status, page = await browser.post("/console/customers/KA0000001/tickets/new", fault)
    assert status == 409 and "该电路的故障单FT-20261123-0001仍在处理中" in page
    assert await db._db.tickets.count_documents({}) == 2 and emu.messages == {}  # nothing written or sent

    await db._db.tickets.update_one({"_id": "FT-20261123-0001"}, {"$set": {"status": "closed"}})
    status, page = await browser.post("/console/customers/KA0000001/tickets/new", fault)
    assert status == 200 and "已建单" in page and "FT-20261123-0003" in page
    ticket = await db.tickets.get("FT-20261123-0003")
    assert ticket is not None and ticket.priority == "urgent" and ticket.manager_id == "AM-CZJ01"  # diamond
    assert ticket.sla.response_due == ticket.created_at + timedelta(hours=2) and ticket.sender_id is None
    assert [(e.actor, e.action) for e in ticket.history] == [("AM-CZJ01", "created")]
    [note] = [m["body"] for m in emu.messages.values()]
    assert note.startswith("【中国电信】尊敬的王伟：您的故障已受理，单号FT-20261123-0003（电路ZJ-2M-0000001-1）")
    assert "我们将在11月23日12:30前响应" in note

    complaint = {"kind": "complaint", "contact_id": "0000001-02", "category": "billing", "urgent": "yes",
                 "text": "Billed twice for October"}
    status, page = await browser.post("/console/customers/KA0000001/tickets/new?lang=en", complaint)
    ticket = await db.tickets.get("CP-20261123-0001")
    assert ticket is not None and ticket.category == "billing" and ticket.priority == "urgent"
    assert ticket.circuit_id is None and ticket.sla.restore_due is None
    [note] = [m["body"] for m in emu.messages.values() if m["to"] != "+8613800138000"]
    assert "your complaint is logged as ticket CP-20261123-0001" in note


async def test_escalation_resolve_resumes_the_conversation_and_tells_the_customer(
        db: Database, browser: Browser, emulator, rasa) -> None:
    emu, _ = emulator
    stub, _ = rasa
    await seed(db)
    await browser.login("AM-CZJ01", PASSWORD)
    _, page = await browser.get("/console/escalations/ES-20261123-0001?lang=en")
    assert "Resolve" in page and "Hand back to the bot" in page and "Call back by" in page
    await db._db.escalations.update_one({"_id": "ES-20261123-0001"}, {"$set": {"callback_asked": True}})
    assert "Call back at (as the customer asked)" in (await browser.get("/console/escalations/ES-20261123-0001?lang=en"))[1]
    stub.up = False
    status, page = await browser.post("/console/escalations/ES-20261123-0001/resolve", {})
    assert "Rasa unreachable" in page and (await db.escalations.get("ES-20261123-0001")).status == "open"
    stub.up = True
    status, page = await browser.post("/console/escalations/ES-20261123-0001/resolve", {})
    assert status == 200 and "The customer has been notified" in page
    assert stub.events == [("sms:+861380001:abc", [{"event": "resume"}, {"event": "action", "name": "action_listen"}],
                            "rasa-token")]
    assert stub.paths == ["/conversations/sms:+861380001:abc/tracker/events"]  # the id as Rasa reads it
    assert (await db.escalations.get("ES-20261123-0001")).status == "resolved"
    [notice] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613800138000"]
    assert "ES-20261123-0001" in notice and "林海燕" in notice


async def test_the_inbox_names_todays_birthdays_in_scope(db: Database, browser: Browser) -> None:
    await seed(db)  # the clock: 2026-11-23
    for customer_id, contact_id in (("KA0000001", "0000001-02"), ("KA0000002", "0000002-01")):
        await db._db.customers.update_one({"_id": customer_id, "contacts.contact_id": contact_id},
                                          {"$set": {"contacts.$.birthday": {"calendar": "solar", "month": 11, "day": 23}}})
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/")
    assert "今日生日（1）" in page and "David Chen</a>（杭州华信物流有限公司，金卡）" in page and "赵磊" not in page
    await browser.login("AM-G001")  # group level: both
    _, page = await browser.get("/console/?lang=en")
    assert "Birthdays today (2)" in page and "赵磊" in page


async def test_a_city_managers_inbox_names_visits_due_today_and_bills_overdue_since_today(
        db: Database, browser: Browser) -> None:
    await seed(db)  # the clock: 2026-11-23
    # loaded 24 October (important: every 30 days, so due today); bill day 2: October's bill was due 22 November
    await db._db.customers.update_one({"_id": "KA0000001"}, {"$set": {
        "created_at": datetime(2026, 10, 24, 2, 0, tzinfo=timezone.utc), "billing.bill_day": 2}})
    await db.usage.upsert(factories.usage("KA0000001", "2026-10", amount_fen=50_000, paid_fen=0))
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/")
    assert "拜访计划（1）</strong>：今日到期" in page and ">杭州华信物流有限公司</a>" in page
    assert "今日起逾期欠费（1）</strong>：" in page and "杭州华信物流有限公司（500.00）" in page
    await browser.login("AM-PZJ")  # province: in the reports, not on every page view
    _, page = await browser.get("/console/")
    assert "拜访计划（" not in page and "今日起逾期欠费" not in page


async def test_escalations_and_tickets_show_their_conversation(db: Database, browser: Browser) -> None:
    await seed(db)
    at = NOW.timestamp()
    await db.client[db.name]["conversations"].insert_one({"sender_id": "sms:+861380001:abc", "events": [
        {"event": "user", "timestamp": at - 7200, "text": "上个月账单多少"},  # an earlier session
        {"event": "session_started", "timestamp": at - 3000},
        {"event": "user", "timestamp": at - 300, "text": "催一下"},
        {"event": "bot", "timestamp": at - 299, "text": "已为您催办FT-20261123-0001"},  # another ticket's matter
        {"event": "user", "timestamp": at - 60, "text": "专线断了 <b>急</b>"},
        {"event": "action", "timestamp": at - 59, "name": "action_escalate"},
        {"event": "bot", "timestamp": at - 58, "text": "已转给您的客户经理林海燕"},
        {"event": "bot", "timestamp": at - 57, "text": "故障已受理，工单号FT-20261123-0003。"},
        {"event": "user", "timestamp": at - 40, "text": "SLA是怎么规定的"},  # within the minute, after it
        {"event": "user", "timestamp": at + 3600, "text": "还没修好吗"}]})
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/escalations/ES-20261123-0001")
    assert "对话记录" in page and "2026-11-23 10:29 客户：</span>专线断了 &lt;b&gt;急&lt;/b&gt;" in page
    assert page.index("专线断了") < page.index("已转给您的客户经理林海燕") < page.index("还没修好吗")
    assert "action_escalate" not in page
    # a ticket the assistant opened shows what led to it, up to its confirmation; one opened elsewhere, none
    await db.tickets.create(factories.ticket(_id="FT-20261123-0003", sender_id="sms:+861380001:abc",
                                             created_at=NOW - timedelta(seconds=59), maintenance_id="MW-20261123-0001"))
    _, page = await browser.get("/console/tickets/FT-20261123-0003")
    assert "建单前的对话" in page and "已转给您的客户经理林海燕" in page and "工单号FT-20261123-0003" in page
    assert "SLA是怎么规定的" not in page and "还没修好吗" not in page
    assert "上个月账单多少" not in page and "催一下" not in page and "专线断了" in page
    assert "不计SLA补偿： MW-20261123-0001" in page
    assert "响应时限 2026-11-23 12:00 · 修复时限 2026-11-23 14:00" in page and "超时已通报" not in page  # none met yet
    await db.client[db.name]["tickets"].update_one({"_id": "FT-20261123-0003"}, {"$set": {
        "escalation_level": 2, "sla.responded_at": datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)}})
    _, page = await browser.get("/console/tickets/FT-20261123-0003")
    assert "响应时限 2026-11-23 12:00（完成于 2026-11-23 09:30）" in page and "超时已通报 省" in page
    _, page = await browser.get("/console/tickets/FT-20261123-0001")
    assert "建单前的对话" not in page
    await db.escalations.create({**(await db.escalations.get("ES-20261123-0001")).to_mongo(),
                                 "_id": "ES-20261123-0003", "sender_id": "erased:ES-20261123-0003"})
    _, page = await browser.get("/console/escalations/ES-20261123-0003?lang=en")
    assert "No conversation on record" in page


async def test_a_fault_reported_again_shows_the_conversation_that_did(db: Database, browser: Browser) -> None:
    """After the opening conversation, the one in which the customer last told the assistant of the fault again:
    what they said after the ticket's event before it, through the confirmation."""
    await seed(db)
    at = NOW.timestamp()
    resolved, reopened = NOW - timedelta(hours=1), NOW - timedelta(seconds=61)
    await db.client[db.name]["conversations"].insert_one({"sender_id": "web:again", "events": [
        {"event": "session_started", "timestamp": at - 7000},
        {"event": "user", "timestamp": at - 5000, "text": "账单多少"},  # before the fix: another matter
        {"event": "user", "timestamp": at - 120, "text": "还是不行啊，网速还是很慢"},
        {"event": "bot", "timestamp": at - 119, "text": "FT-20261123-0003已于09:30修复；继续报告将重新打开该工单。"},
        {"event": "user", "timestamp": at - 90, "text": "从早上开始"},
        {"event": "bot", "timestamp": at - 61, "text": "工单FT-20261123-0003已重新打开，修复时限不变。"},
        {"event": "user", "timestamp": at - 30, "text": "谢谢"}]})
    await db.tickets.create(factories.ticket(_id="FT-20261123-0003", status="in_progress", history=[
        TicketEvent(at=NOW - timedelta(hours=3), actor="assistant", action="created").to_mongo(),
        TicketEvent(at=resolved, actor="AM-CZJ01", action="resolved").to_mongo(),
        TicketEvent(at=reopened, actor="assistant", action="reopened", note="网速还是很慢（从早上开始）",
                    sender_id="web:again").to_mongo()]))
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/tickets/FT-20261123-0003")
    assert "重新打开工单的对话" in page and "建单前的对话" not in page  # opened by phone: no opening conversation
    assert page.index("还是不行啊") < page.index("从早上开始") < page.index("已重新打开，修复时限不变")
    assert "账单多少" not in page and "谢谢" not in page


async def test_customer_360_and_english_switch(db: Database, browser: Browser) -> None:
    await seed(db)
    for month in ("2026-08", "2026-09", "2026-10"):
        await db.usage.upsert(factories.usage("KA0000001", month))
    sited = factories.customer()
    sited["services"][0].update(a_end="杭州华信大厦", z_end="上海数据中心")
    await db.customers.replace(sited)
    await db.customers.set_sms_opt_out("0000001-02", True, source="assistant")
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/customers/KA0000001")
    assert status == 200 and "杭州华信物流有限公司" in page and "ZJ-2M-0000001-1" in page
    assert "<td>杭州华信大厦—上海数据中心</td>" in page  # the ends, as the customer names the line
    assert page.count('class="bar"') == 3 and "12,888.00" in page and "已退订" in page and "assistant" in page
    status, page = await browser.get("/console/customers/KA0000001?lang=en")
    assert "Usage, last 12 months" in page and "opted out" in page and "Diamond" in page
    assert '<a href="tel:+8613800138000">+86 138 0013 8000</a>' in page  # read as dialled, one tap to call
    _, page = await browser.get("/console/")  # the choice sticks
    assert "Inbox" in page


async def test_the_customer_page_shows_what_the_customer_is_owed_back(db: Database, browser: Browser) -> None:
    await seed(db)
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/customers/KA0000001?lang=en")
    assert re.search(r"<h2>Compensation</h2>\s*<table>\s*<tr><td>None</td></tr>", page)
    for customer_id, credit_id in (("KA0000001", "BC-20261105-0001"), ("KA0000002", "BC-20261105-0002")):
        await db.credits.add(Credit(_id=credit_id, customer_id=customer_id, reason="bill_not_received", amount_fen=100,
                                    minutes=5, apply_to_month="2026-12", created_at=NOW))
    await db.claims.create({"_id": "BC-20261121-0001", "customer_id": "KA0000001", "contact_id": "0000001-01",
                            "month": "2026-10", "created_at": NOW, "updated_at": NOW})
    late = {"response_due": NOW - timedelta(hours=3), "restore_due": NOW - timedelta(hours=1)}
    await db.tickets.create(factories.ticket(_id="FT-20261123-0005", sla=late))
    _, page = await browser.get("/console/customers/KA0000001?lang=zh")
    assert "<td>BC-20261105-0001</td><td>账单未按时送达（5分钟基本通话费）</td><td class=\"nowrap\">1.00</td>" in page
    assert "BC-20261105-0002" not in page  # another customer's
    assert "<td>BC-20261121-0001</td><td>账单未收到，核实中</td>" in page
    assert ">FT-20261123-0005</a></td><td>已超过修复时限，修复后补偿</td><td class=\"nowrap\">500.00</td>" in page


async def test_compliments_on_the_inbox_the_customer_page_and_the_team_page(db: Database, browser: Browser) -> None:
    await seed(db)  # the clock: 2026-11-23
    given = ((1, "KA0000001", "0000001-01", "AM-CZJ01", "表扬林经理，响应很快", NOW - timedelta(days=2)),
             (2, "KA0000001", "0000001-02", "AM-CZJ01", "great engineers", NOW - timedelta(days=30)),
             (3, "KA0000002", "0000002-01", "AM-CSH01", "吴经理很专业", NOW - timedelta(days=1)))
    for n, customer_id, contact_id, manager_id, text, at in given:
        await db.compliments.create({"_id": f"PR-20261120-000{n}", "customer_id": customer_id,
                                     "contact_id": contact_id, "manager_id": manager_id, "text": text,
                                     "created_at": at})
    await browser.login("AM-CZJ01")
    _, page = await browser.get("/console/")  # the last 7 days in scope
    assert "近7天客户表扬</strong>：" in page and "杭州华信物流有限公司</a>：“表扬林经理，响应很快”" in page
    assert "great engineers" not in page and "吴经理" not in page
    _, page = await browser.get("/console/customers/KA0000001")
    assert re.search(r"<h2>客户表扬</h2>\s*<table>\s*<tr><td class=\"nowrap\">[^<]+</td><td>王伟</td>"
                     r"<td>表扬林经理，响应很快</td></tr>\s*<tr><td class=\"nowrap\">[^<]+</td><td>David Chen</td>", page)
    await browser.login("AM-PZJ")
    _, page = await browser.get("/console/team?lang=en")
    assert re.search(r"<td>AM-CZJ01</td>.*?<td>1</td><td>2</td>", page, re.S)  # one customer, two compliments


async def test_a_complaints_reply_deadline_and_time_left_on_its_page(db: Database, browser: Browser) -> None:
    await seed(db)  # the clock: 10:30 Shanghai
    await db.tickets.create(factories.ticket(_id="CP-20261123-0009", kind="complaint", circuit_id=None,
                                             text="账单金额有误", sla={"response_due": NOW + timedelta(hours=2)}))
    await browser.login("AM-CZJ01")
    status, page = await browser.get("/console/tickets/CP-20261123-0009")
    assert status == 200 and "答复时限 2026-11-23 12:30" in page and "剩余 2小时" in page and "修复时限" not in page
    status, page = await browser.post("/console/tickets/CP-20261123-0009/ack", {})
    assert "剩余" not in page and "完成于 2026-11-23 10:30" in page  # acknowledging meets it
