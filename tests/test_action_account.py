"""Account questions, answered only to the verified customer and only of their own account."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from actions import account, escalation, usage
from actions.services import Services
from carecore.model import TicketEvent, TicketStatus
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker

# --- account questions -------------------------------------------------------------------

async def test_account_summary_and_manager(svc: Services, domain) -> None:
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert m["response"] == "utter_account_summary"
    assert (m["company_name"], m["customer_id"], m["customer_class"], m["tier"], m["manager_name"]) == (
        "杭州华信物流有限公司", "KA0000001", "重要客户、高值客户", "钻石卡", "林海燕")
    assert "2M数字电路" in m["services"]
    assert m["billing"] == "账单每月31日出账（当月没有该日则为月末），通过电子邮件发送至f***@example.cn。"
    messages, _ = await run(account.ActionAccountManager(), tracker(slots=VERIFIED_A_EN), domain)
    m = only(messages)
    assert (m["manager_name"], m["manager_mobile"]) == ("林海燕", "+86 139 2000 0001")


async def test_asked_what_a_tier_gives_the_terms_come_from_the_deadline_settings(svc: Services, domain) -> None:
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A, intent="ask_account_summary",
                                                                    text="钻石卡有哪些特权"), domain)
    m = only(messages)
    assert (m["response"], m["tier"], m["manager_name"]) == ("utter_tier_benefits", "钻石卡", "林海燕")
    assert m["lines"] == ("1. 故障报修：2小时响应、4小时修复（电路的SLA合同更快时按合同）\n2. 投诉：4小时内答复\n"
                          "3. 绿色通道：故障优先处理，报修即通知客户经理\n4. 专属客户经理林海燕一对一服务\n"
                          "5. 生日、节日问候由客户经理亲自送上")  # the customer's own tier named: no comparison
    # another tier named, or a difference asked: each tier beside; an important customer's complaints wait gold's 8 h
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A_EN, intent="ask_account_summary",
                                                                    text="what do diamond members get?"), domain)
    m = only(messages)
    assert m["tier"] == "Gold" and m["lines"].startswith("1. faults: a response within 4 h and the service restored "
                                                         "within 8 h")
    assert m["lines"].endswith("6. each tier (fault response/restore): Diamond 2/4 h, complaints 4 h; Gold 4/8 h, "
                               "complaints 8 h; Silver 8/24 h, complaints 8 h; VIP 24/48 h, complaints 8 h")
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A, intent="ask_account_summary",
                                                                    text="我们是什么等级"), domain)
    assert only(messages)["response"] == "utter_account_summary"
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A_EN, intent="ask_account_summary",
                                                                    text="what does it give me"), domain)
    assert only(messages)["response"] == "utter_tier_benefits"  # after the tier was told: what it gives


async def test_how_to_move_up_a_tier_asked_right_after_its_terms_is_the_managers(svc: Services, domain,
                                                                              emulator) -> None:
    """"how do we get upgraded to diamond?" right after the terms had told them all again."""
    told = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_tier_benefits"}}]
    asked = tracker(slots=VERIFIED_A_EN, intent="ask_account_summary", text="how do we get upgraded to diamond?")
    messages, _ = await run(account.ActionAccountSummary(), asked, domain)
    assert only(messages)["response"] == "utter_tier_benefits"  # asked first: the tiers side by side
    asked = tracker(slots=VERIFIED_A_EN, intent="ask_account_summary", text="how do we get upgraded to diamond?",
                    events=told)
    messages, _ = await run(account.ActionAccountSummary(), asked, domain)
    assert (only(messages)["response"], only(messages)["manager_name"]) == ("utter_tier_review_to_manager", "林海燕")
    reviewed = [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_tier_review_to_manager"}}]
    messages, _ = await run(escalation.ActionYesOrNo(), tracker(slots=VERIFIED_A_EN, intent="affirm", text="yes",
                                                                events=reviewed), domain)
    assert only(messages)["response"] == "utter_escalated"  # the call offered, made


async def test_service_status_sla_and_tickets(svc: Services, domain) -> None:
    messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A), domain)
    assert "ZJ-2M-0000001-1" in only(messages)["lines"] and "正常" in only(messages)["lines"]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert (m["lines"], m["tier"]) == ("1. ZJ-2M-0000001-1 2M数字电路：金牌保障，2小时响应、4小时修复，超时补偿500.00元",
                                       "钻石卡")
    assert m["record"] == "本月暂无故障报修。"
    messages, _ = await run(account.ActionSla(), tracker(slots={**VERIFIED_A, "contact_id": "0000001-02",
                                                                "language": "en"}), domain)
    assert only(messages)["lines"] == "1. ZJ-2M-0000001-1 2M digital circuit: premium, respond within 2 h, restore " \
                                      "within 4 h, 500.00 yuan credit if late"  # gold card, premium circuit
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_no_open_tickets"
    await svc.db.tickets.create(factories.ticket())
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots={**VERIFIED_A, "ticket_id": "ft-20261123-0001"}),
                            domain)
    m = only(messages)
    assert m["response"] == "utter_ticket_status" and m["status"] == "已受理" and "修复时限" in m["deadline"]
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["lines"].startswith("1. FT-20261123-0001 fault: open (restore due by ")  # what they wait for
    for n in range(2, 8):  # seven open: the newest five listed, the other two counted
        await svc.db.tickets.create(factories.ticket(_id=f"FT-20261123-{n:04d}",
                                                     created_at=datetime(2026, 11, 23, 2, n, tzinfo=timezone.utc)))
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A), domain)
    lines = only(messages)["lines"].split("\n")
    assert lines[0].startswith("1. FT-20261123-0007") and lines[4].startswith("5. FT-20261123-0003")
    assert lines[5:] == ["另有2张未结工单，可报工单号查询。"]


async def test_a_status_question_naming_a_kind_of_ticket_lists_that_kind_alone(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket())
    for text, kind in (("投诉处理到哪了", "投诉"), ("what's happening with our complaint?", "complaint")):
        messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A if kind == "投诉" else
                                                                      VERIFIED_A_EN, intent="ask_ticket_status",
                                                                      text=text), domain)
        assert (only(messages)["response"], only(messages)["kind"]) == ("utter_no_open_tickets_of_kind", kind)
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0002", kind="complaint", circuit_id=None,
                                                 created_at=datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)))
    for text, listed in (("我的投诉单号是多少", "1. CP-20261123-0002 投诉：已受理"), ("报修的进度怎么样", "1. FT-20261123-0001 故障：已受理"),
                         ("专线什么时候能修好", "1. FT-20261123-0001 故障：已受理"),  # asks after the repair
                         ("我们的工单处理得怎么样了", "1. CP-20261123-0002 投诉：已受理")):
        messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A, intent="ask_ticket_status",
                                                                      text=text), domain)
        lines = only(messages)["lines"].split("\n")
        assert lines[0].startswith(listed) and len(lines) == (2 if "工单" in text else 1), text


async def test_the_latest_ticket_asked_of_is_told_resolved_or_not(svc: Services, domain) -> None:
    """"上次报的故障修好了吗" after it was resolved had been told no fault is open; "上次的投诉" is the latest complaint."""
    older = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261120-0001", created_at=older, updated_at=older))
    await svc.db.tickets.create(factories.ticket(status="resolved", resolved_at=datetime(2026, 11, 23, 1, 0,
                                                                                        tzinfo=timezone.utc)))
    await svc.db.tickets.create(factories.ticket(_id="CP-20261121-0001", kind="complaint", circuit_id=None,
                                                 created_at=older, updated_at=older))
    for text, ticket_id, status in (("上次报的故障修好了吗", "FT-20261123-0001", "已解决"),
                                    ("上次的投诉处理好了没", "CP-20261121-0001", "已受理")):
        messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A, intent="ask_ticket_status",
                                                                      text=text), domain)
        assert (only(messages)["response"], only(messages)["ticket_id"], only(messages)["status"]) == (
            "utter_ticket_status", ticket_id, status)
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A, intent="ask_ticket_status",
                                                                  text="报修的进度怎么样"), domain)
    assert only(messages)["lines"] == "1. FT-20261120-0001 故障：已受理（修复时限：11月23日14:00）"  # the open ones


async def test_right_after_a_report_a_status_question_is_about_its_ticket(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket())
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0002", kind="complaint", circuit_id=None,
                                                 created_at=datetime(2026, 11, 23, 3, 0, tzinfo=timezone.utc)))
    logged = [{"event": "user", "text": "yes"},
              {"event": "bot", "text": "Your complaint is logged as ticket CP-20261123-0002. We will reply by …",
               "metadata": {"utter_action": "utter_complaint_created"}}]
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_ticket_status",
                                                                  text="how long until I hear back", events=logged),
                            domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_ticket_status", "CP-20261123-0002")
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_ticket_status",
                                                                  text="and our fault tickets?", events=logged), domain)
    assert only(messages)["lines"].startswith("1. FT-20261123-0001")  # a kind named: that kind, as any time
    # while a complaint is being made, "多久能处理" asks when it will be answered (diamond: 4 hours from 10:00)
    making = tracker(slots={**VERIFIED_A, "requested_slot": "complaint_description"}, intent="ask_sla",
                     text="多久能处理", active_loop="complaint_form")
    messages, _ = await run(account.ActionSla(), making, domain)
    assert (only(messages)["response"], only(messages)["deadline"]) == ("utter_complaint_answered_by", "11月23日14:00")
    # a fault's, on the circuit chosen: its deadlines if submitted now, or the ticket's it would go on
    reporting = tracker(slots={**VERIFIED_A, "requested_slot": "fault_symptom", "fault_circuit": "ZJ-2M-0000001-1"},
                        intent="ask_sla", text="多久能修好", active_loop="fault_form")
    messages, _ = await run(account.ActionSla(), reporting, domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_fault_goes_on_ticket", "FT-20261123-0001")
    await svc.db.tickets.set_status("FT-20261123-0001", TicketStatus.closed,
                                    TicketEvent(at=svc.clock.now(), actor="test", action="close"))
    messages, _ = await run(account.ActionSla(), reporting, domain)
    assert {k: only(messages)[k] for k in ("response", "response_due", "restore_due")} == {
        "response": "utter_fault_answered_by", "response_due": "11月23日12:00", "restore_due": "11月23日14:00"}
    for text, answer in (("how long will this take", "utter_complaint_answered_by"), ("我的工单进度", "utter_open_tickets")):
        asked = tracker(slots={**VERIFIED_A, "requested_slot": "complaint_confirm"}, intent="ask_ticket_status",
                        text=text, active_loop="complaint_form")
        messages, _ = await run(account.ActionTicketStatus(), asked, domain)
        assert only(messages)["response"] == answer, text
    # right after a chase of one ticket, "多久能修好" asks of it
    chased = [{"event": "user", "text": "还没修好"},
              {"event": "bot", "text": "已为您催办FT-20261123-0001，并通知客户经理林海燕尽快处理。",
               "metadata": {"utter_action": "utter_tickets_urged"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="多久能修好",
                                                         events=chased), domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_ticket_status", "FT-20261123-0001")
    # "多久能处理", read as the SLA, asks of the ticket too; the contract asked as such is the contract
    for text, answer in (("多久能处理", "utter_ticket_status"), ("你们的SLA是多少", "utter_sla")):
        messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text=text,
                                                             events=logged), domain)
        assert only(messages)["response"] == answer, text


async def test_asked_who_each_open_ticket_is_followed_up_by_whoever_a_chase_would_page(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket())
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None,
                                                 category="manager", manager_id="AM-CZJ01"))
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0004", status="resolved"))

    async def heard(text: str, **slots) -> list:
        messages, _ = await run(account.ActionTicketStatus(), tracker(slots={**VERIFIED_A, **slots},
                                                                      intent="ask_ticket_status", text=text), domain)
        return [(m["response"], m.get("ticket_ids"), m.get("manager_name")) for m in messages]

    assert await heard("谁在处理我们的工单") == [("utter_open_tickets", None, None),
                                         ("utter_tickets_answered_by", "FT-20261123-0001", "林海燕"),
                                         ("utter_tickets_answered_above", "CP-20261123-0003", "周敏")]
    assert await heard("工单进度怎么样") == [("utter_open_tickets", None, None)]
    assert await heard("这张单谁在跟", ticket_id="FT-20261123-0004") == [("utter_ticket_status", None, None)]  # closed
    for manager_id in ("AM-CZJ01", "AM-PZJ", "AM-G001"):  # nobody left above the account
        await svc.db.managers.set_active(manager_id, False)
    assert (await heard("who is handling it", ticket_id="FT-20261123-0001"))[1:] == [
        ("utter_tickets_answered_by_hotline", "FT-20261123-0001", None)]


async def test_maintenance_with_no_announced_window_says_no_end_is_known(svc: Services, domain) -> None:
    held = factories.customer()
    held["services"][0]["status"] = "maintenance"  # as network management reported it
    await svc.db.customers.replace(held)
    messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_service_status",
                                                                   text="when will the maintenance end"), domain)
    assert only(messages)["lines"] == ("1. ZJ-2M-0000001-1 2M digital circuit: in maintenance (no announced window, so "
                                       "no end time yet: your account manager can find out)")


async def test_a_status_question_naming_one_circuit_answers_for_it_alone(svc: Services, domain) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits("down"))
    # one circuit keeps its number in the list, the number the customer may name it by
    for text, shown in (("is circuit 2 ok", ["2. ZJ-LL-0000001-2 leased line 100M: down"]),
                        ("is the 2M circuit up", ["1. ZJ-2M-0000001-1 2M digital circuit: up"]),
                        ("are our lines working", ["1. ZJ-2M-0000001-1 2M digital circuit: up",
                                                   "2. ZJ-LL-0000001-2 leased line 100M: down"])):
        messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_service_status",
                                                                       text=text), domain)
        assert messages[0]["lines"].split("\n") == shown, text
        assert messages[0]["total"] == 2, text  # the account's count: "how many lines do we have"
        # down with no fault ticket open on it: the customer is offered to report it
        assert [(m["response"], m["circuit_ids"]) for m in messages[1:]] == (
            [("utter_down_unreported", "ZJ-LL-0000001-2")] if "down" in "".join(shown) else []), text
    await svc.db.tickets.create(factories.ticket(circuit_id="ZJ-LL-0000001-2"))
    messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_service_status",
                                                                   text="is circuit 2 ok"), domain)
    assert only(messages)["lines"] == "2. ZJ-LL-0000001-2 leased line 100M: down (open fault ticket)"
    # "it": the circuit the reply just before named alone; after a list of both, every circuit
    for replied, lines in (("2. ZJ-LL-0000001-2 leased line 100M: down", 1), ("1. ZJ-2M-0000001-1 …\n2. ZJ-LL-0000001-2 …", 2)):
        before = [{"event": "user", "text": "is circuit 2 ok"}, {"event": "bot", "text": f"Your circuits (2 in all):\n{replied}"}]
        messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A_EN, intent="ask_sla",
                                                             text="what's the SLA on it", events=before), domain)
        assert len(only(messages)["lines"].split("\n")) == lines
    assert only(messages)["lines"].startswith("1. ZJ-2M")
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="第二条专线的SLA是什么"),
                            domain)
    assert only(messages)["lines"] == "2. ZJ-LL-0000001-2 专线 100M：标准保障，2小时响应、4小时修复，超时补偿200.00元"


async def test_sla_answer_tells_how_the_months_faults_fared(svc: Services, domain) -> None:
    # The clock: 23 Nov 2026 10:00 in Shanghai, so November began at 16:00 UTC on 31 October.
    at = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    sla = {"response_due": at + timedelta(hours=2), "restore_due": at + timedelta(hours=4)}
    late = {**sla, "responded_at": at, "restored_at": at + timedelta(hours=6)}
    for ticket_id, created, fields in (
            ("FT-20261031-0001", datetime(2026, 10, 31, 15, 59, tzinfo=timezone.utc), {"sla": late}),  # October
            ("FT-20261101-0001", datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc),
             {"sla": {**sla, "restored_at": at + timedelta(hours=1)}}),
            ("FT-20261110-0001", at, {"sla": late, "compensation": {
                "decided_at": at + timedelta(hours=7), "credit_fen": 50000, "notice_key": "comp:FT-20261110-0001"}}),
            ("FT-20261110-0002", at, {"sla": late, "maintenance_id": "MW-20261110-0001"}),
            ("FT-20261123-0001", datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc), {}),  # opened now, on time
            ("CP-20261110-0001", at, {"kind": "complaint", "circuit_id": None}),
            ("FT-20261110-0003", at, {"customer_id": "KA0000002", "sla": late})):
        await svc.db.tickets.create(factories.ticket(_id=ticket_id, created_at=created, updated_at=created, **fields))
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["record"] == ("本月报障4次（按时1次，超时1次，处理中未超时1次，计划维护期间1次）。"
                                        "已补偿500.00元，在下期账单中体现。")
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["record"] == (
        "This month: 4 faults reported (1 within the deadlines, 1 late, 1 still open and on time, 1 during planned "
        "maintenance). Credited 500.00 yuan on the next bill.")
    # "上个月断过几次": the month named, up to 16:00 UTC on 31 October
    messages, events = await run(account.ActionSla(), tracker(slots={**VERIFIED_A, "month": "上个月"}), domain)
    assert only(messages)["record"] == "2026年10月报障1次（超时1次）。" and slots_of(events) == {"month": None}
    messages, _ = await run(account.ActionSla(), tracker(slots={**VERIFIED_A_EN, "month": "September"}), domain)
    assert only(messages)["record"] == "No fault reported in September 2026."
    # "今年报了几次故障": this year to date, October's and November's together
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="今年报了几次故障"),
                            domain)
    assert only(messages)["record"] == ("2026年1月至2026年11月报障5次（按时1次，超时2次，处理中未超时1次，计划维护期间1次）。"
                                        "已补偿500.00元，在下期账单中体现。")


async def test_sla_answer_tells_each_circuits_availability_when_down_or_asked(svc: Services, domain) -> None:
    # 23 Nov 2026 10:00 in Shanghai: 538 hours of November so far, 2 of them down
    at = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261110-0001", created_at=at, updated_at=at, sla={
        "response_due": at + timedelta(hours=2), "restore_due": at + timedelta(hours=4),
        "restored_at": at + timedelta(hours=2)}))
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="SLA是什么"), domain)
    assert only(messages)["availability"] == "本月可用率（按报障至修复计，计划维护除外）：99.62%（中断2小时）。"
    messages, _ = await run(account.ActionSla(), tracker(slots={**VERIFIED_A_EN, "month": "October"}, intent="ask_sla",
                                                         text="what was our availability in october"), domain)
    assert only(messages)["availability"] == (
        " Availability in October 2026 (from each fault's report to its restore, planned maintenance aside): 100 %.")
    messages, _ = await run(account.ActionSla(), tracker(slots={**VERIFIED_A, "month": "十月"}, intent="ask_sla",
                                                         text="十月份断过吗"), domain)
    assert only(messages)["availability"] == ""  # "no fault" says it
    # how the line has run, even right after a reply naming one ticket: the record and its availability alone
    told = [{"event": "bot", "text": "Ticket FT-20261110-0001 …", "metadata": {"utter_action": "utter_ticket_status"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A_EN, intent="ask_sla", events=told,
                                                         text="has our line been stable lately?"), domain)
    assert only(messages) == {**only(messages), "response": "utter_sla_record", "availability": (
        " Availability this month (from each fault's report to its restore, planned maintenance aside): 99.62 % "
        "(down 2 h)."), "record": "This month: 1 fault reported (1 within the deadlines)."}


@pytest.mark.parametrize("text, month, response", [
    ("上个月呢", "上个月", "utter_sla_record"),  # right after the SLA: that month's record
    ("and last month?", "last month", "utter_sla_record"),
    ("上个月账单呢", "上个月", "utter_usage_report"),  # names the bill
])
async def test_a_month_alone_after_the_sla_asks_for_that_months_sla(svc: Services, domain, text, month,
                                                                   response) -> None:
    before = [{"event": "user", "text": "SLA是什么", "parse_data": {"intent": {"name": "ask_sla"}}},
              {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_sla"}}]
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": month}, intent="ask_usage",
                                                           text=text, events=before), domain)
    assert messages[0]["response"] == response
    if response == "utter_sla_record":
        assert messages[0]["record"] == "2026年10月暂无故障报修。"


@pytest.mark.parametrize("text, told, response", [
    ("上个月的可用率达标了吗", True, "utter_sla_record"),  # the terms had come again, with the record at their end
    ("上个月的可用率达标了吗", False, "utter_sla_record"),
    ("did we have any downtime last month?", False, "utter_sla_record"),
    ("上个月可用率多少，SLA标准是什么", True, "utter_sla"),  # the terms asked for
    ("上个月SLA达标了吗", False, "utter_sla"),
])
async def test_a_record_asked_without_the_terms_is_told_alone(svc: Services, domain, text, told, response) -> None:
    before = [{"event": "user", "text": "我们的SLA", "parse_data": {"intent": {"name": "ask_sla"}}},
              {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_sla"}}] if told else []
    messages, _ = await run(account.ActionSla(), tracker(slots={**VERIFIED_A, "month": "上个月"}, intent="ask_sla",
                                                         text=text, events=before), domain)
    assert only(messages)["response"] == response


async def test_a_question_right_after_a_months_record_is_of_that_month(svc: Services, domain) -> None:
    """"那可用率呢" right after "2026年10月暂无故障报修" had been answered of this month, with the terms again."""
    before = [{"event": "user", "text": "上个月有几次故障", "parse_data": {"intent": {"name": "ask_sla"}}},
              {"event": "bot", "text": "2026年10月暂无故障报修。", "metadata": {"utter_action": "utter_sla_record"}}]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="那可用率呢",
                                                         events=before), domain)
    assert (only(messages)["response"], only(messages)["record"]) == ("utter_sla_record", "2026年10月暂无故障报修。")
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A, intent="ask_sla", text="我们的SLA是什么",
                                                         events=before), domain)
    assert only(messages)["response"] == "utter_sla"  # the terms asked for


# --- nobody sees another customer's data ------------------------------------------------------

async def test_foreign_ticket_circuit_and_usage_are_never_disclosed(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0002", customer_id="KA0000002",
                                                 circuit_id="SH-155M-0000002-1"))
    messages, _ = await run(account.ActionTicketStatus(),
                            tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261123-0002"}), domain)
    assert only(messages)["response"] == "utter_ticket_not_found"
    messages, _ = await run(account.ActionServiceStatus(),
                            tracker(slots={**VERIFIED_A, "circuit_id": "SH-155M-0000002-1"}), domain)
    assert only(messages)["response"] == "utter_circuit_not_found"
    # Naming the other company changes nothing: answers come from the verified identity only.
    messages, _ = await run(usage.ActionUsage(),
                            tracker(slots=VERIFIED_A, text="上海东方证券上个月账单多少", intent="ask_usage"), domain)
    assert only(messages)["amount"] == "12,888.00"
    # Slots that do not belong together (a contact of another customer) are not an identity.
    forged = {**VERIFIED_A, "contact_id": "0000002-01"}
    messages, events = await run(usage.ActionUsage(), tracker(slots=forged), domain)
    assert only(messages)["response"] == "utter_need_verification" and slots_of(events) == {"verified": False}
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots={"verified": False}), domain)
    assert only(messages)["response"] == "utter_need_verification"
