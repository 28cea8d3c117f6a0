"""What a customer's message already says: when a fault began, urgency said when opening a complaint, the month."""

from __future__ import annotations

from datetime import date

import pytest

from actions import message_reading
from tests.action_kit import tracker


@pytest.mark.parametrize("text, since", [
    ("专线从早上九点开始断了", "从早上九点开始"),
    ("昨晚十点半起一直掉线", "昨晚十点半起"),
    ("两个小时前开始不通", "两个小时前开始"),
    ("下午三点十五分开始丢包", "下午三点十五分开始"),
    ("10:30开始丢包", "10:30开始"),
    ("网速慢，3点以后更明显", "3点以后"),
    ("the line has been down since about 9:30 am", "since about 9:30 am"),
    ("down for the last 2 hours", "for the last 2 hours"),
    ("it dropped a few hours ago", "a few hours ago"),
    ("since this morning around 9", "since this morning around 9"),  # had lost "around 9"
    ("started around 9 this morning", "around 9 this morning"),
    ("since yesterday afternoon", "since yesterday afternoon"),
    ("专线时断时续", None),  # 时 without a number is no hour
    ("一时半会儿修不好吗", None),
    ("ZJ-2M-0000001-1 中断了", None),  # a circuit id holds digits, not a time
    ("155M电路中断", None),
])
def test_since_in_finds_when_a_fault_began(text: str, since: str) -> None:
    assert message_reading.since_in(text) == since


@pytest.mark.parametrize("text, more", [
    ("从今天早上八点开始完全不通", "完全不通"),
    ("早上开始的，现在网速特别慢", "现在网速特别慢"),
    ("since 9am, totally down", "totally down"),
    ("昨天下午三点左右", None),  # nothing but the time
    ("今天上午十点多，一直没恢复", None),  # the rest tells no symptom
    ("不清楚", None),
])
def test_what_an_answer_about_when_says_of_the_fault_besides(text: str, more: str) -> None:
    assert message_reading.symptom_after_since(text) == more


@pytest.mark.parametrize("text, alone", [
    ("上个月呢", True), ("那十月份的呢？", True), ("上个月", True), ("and last month?", True), ("what about October", True),
    ("上个月账单呢", False), ("and last month's bill?", False),  # names what it asks about
    ("好的呢", False), ("what about circuit 2?", False), ("was the line down last month", False),
])
def test_a_month_alone_is_a_follow_up(text: str, alone: bool) -> None:
    assert message_reading.month_alone(text, date(2026, 12, 7)) is alone


@pytest.mark.parametrize("text, says", [
    ("周一", True), ("好几天了", True), ("上周开始的", True), ("9am", True), ("this morning", True), ("不清楚", True),
    ("not sure", True), ("一直这样", True),
    ("网络质量", False), ("丢包很严重", False), ("the line is slow", False), ("对", False), ("1", False),
])
def test_an_answer_to_since_when_says_a_time_or_that_it_is_not_known(text: str, says: bool) -> None:
    assert message_reading.says_a_time(text) is says


@pytest.mark.parametrize("text, back", [
    ("网络恢复了", True), ("刚才不通，现在通了", True), ("it's working again", True), ("the outage is over", True),
    ("the problem is back", False), ("又不通了", False), ("网络不通了", False), ("still not working", False),
    ("it's down again", False), ("还是没恢复", False),
    ("我们下午有重要会议，网络必须恢复", False), ("请尽快恢复", False), ("we need it back up asap", False),  # wanted back
])
def test_service_said_back_is_told_from_service_said_out_again(text: str, back: bool) -> None:
    assert message_reading.says_restored(text) is back


def test_every_way_of_saying_service_is_back_the_model_learnt_says_so() -> None:
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [m.get("text") for m in load_data("data/nlu").intent_examples if m.get("intent") == "report_restored"]
    assert examples and [text for text in examples if not message_reading.says_restored(text)] == []


def test_urgency_said_when_opening_a_complaint_counts_until_the_form_ends() -> None:
    opening = {"event": "user", "text": "我要投诉，很紧急", "parse_data": {"intent": {"name": "file_complaint"}}}
    ended = {"event": "active_loop", "name": None}
    # at submission: this form has just ended, after the customer's last answer
    assert message_reading.asked_urgently(tracker(events=[opening, {"event": "active_loop", "name": "complaint_form"}],
                                        intent="affirm", text="确认", after_user=[ended]))
    # an earlier complaint's urgency does not carry over to the next one
    assert not message_reading.asked_urgently(tracker(events=[opening, ended], intent="file_complaint", text="我要投诉",
                                            after_user=[ended]))


def test_the_opening_message_is_read_without_the_courtesy_and_introduction_around_it() -> None:
    opened = tracker(intent="report_fault", text="你好，我是鼎盛物流的刘秀博，专线又断了，谢谢")
    assert message_reading.opening_message(opened, "report_fault") == "专线又断了"
    asked = tracker(slots={"requested_slot": "fault_symptom"}, intent="report_fault", text="专线又断了")
    assert message_reading.opening_message(asked, "report_fault") == ""  # an answer, read by the slot mapping


def test_the_month_named_is_read_from_the_whole_message_that_named_it() -> None:
    said = {"event": "user", "text": "去年10月的账单", "parse_data": {"entities": [{"entity": "month", "value": "10月"}]}}
    later = tracker(slots={"month": "10月"}, text="流量呢", events=[said])  # a follow-up keeps the month named
    assert message_reading.month_named(later, date(2026, 12, 6)) == "2025-10"
    assert message_reading.month_named(tracker(slots={"month": "10月"}, text="10月的"), date(2026, 12, 6)) == "2026-10"
    assert message_reading.month_named(tracker(text="去年10月"), date(2026, 12, 6)) is None  # no month slot: none named


@pytest.mark.parametrize("text, answered, others", [
    ("查一下上个月账单和客户经理电话", "ask_account_manager", ["ask_usage"]),
    ("what's our bill and who is our manager", "ask_account_manager", ["ask_usage"]),
    ("我们的专线状态和SLA", "ask_sla", ["ask_service_status"]),
    ("帮我查下账单，还有工单进度", "ask_ticket_status", ["ask_usage"]),
    ("上个月账单、SLA以及补偿", "ask_sla", ["ask_usage", "ask_compensation"]),  # three: the others as named
    ("hi, who is my account manager and what's our tier?", "ask_account_manager", ["ask_account_summary"]),
    ("客户经理是谁，我们是什么等级", "ask_account_manager", ["ask_account_summary"]),
    ("SLA保障等级和补偿标准", "ask_sla", ["ask_compensation"]),  # an SLA's grade is no card tier
    ("客户经理的电话和邮箱", "ask_account_manager", []),  # one question, joined parts
    ("工单状态和处理进度", "ask_ticket_status", []),  # a ticket's state is no circuit's
    ("上个月账单", "ask_usage", []), ("客户经理账单", "ask_account_manager", []),  # nothing joins them
    ("我要投诉账单和客户经理", "file_complaint", []),  # not a question of the account
])
def test_the_other_account_questions_are_found_by_their_words(text: str, answered: str, others: list) -> None:
    assert message_reading.also_asked(text, answered) == others


@pytest.mark.parametrize("text, leaving", [
    ("我们准备下个月退网", True),
    ("合同到期不续了", True),
    ("我们要拆掉一条专线", True),
    ("要不干脆换移动算了", True),
    ("we're thinking of switching to another provider", True),
    ("we won't renew the contract", True),
    ("cancel our leased line contract", True),
    ("我们要续约", False),
    ("我要新装一条专线", False),
    ("换个运营商的路由器", False),  # the operator's equipment, not the operator
    ("想换成移动办公", False),  # 移动 as "mobile"
    ("cancel the SMS notification service", False),  # an opt-out
    ("不续订短信通知了", False),
    ("can we upgrade our bandwidth to 1G", False),
])
def test_saying_the_account_will_leave(text: str, leaving: bool) -> None:
    assert bool(message_reading.LEAVING.search(text)) is leaving


@pytest.mark.parametrize("text, paid", [
    ("我已经交过了", True), ("我们上周就缴了费", True), ("钱早就打了", True), ("早就付过了啊", True),
    ("we already paid that", True), ("we paid it last week", True), ("我们交了吗", False), ("怎么交话费", False),
    ("how do we pay", False),
])
def test_saying_a_bill_was_paid(text: str, paid: bool) -> None:
    assert bool(message_reading.PAID.search(text)) is paid


@pytest.mark.parametrize("text, fault", [
    ("还是断的", True), ("怎么还没修好", True), ("the line is still down", True), ("网络还是很慢，丢包严重", True),
    ("你们处理太慢了", False), ("why so slow", False), ("催一下", False),
])
def test_a_chase_that_says_the_line_is_out(text: str, fault: bool) -> None:
    assert message_reading.fault_said(text) is fault


def test_every_way_of_cancelling_the_model_learnt_says_one() -> None:
    """A message read as a cancel that says none ("接下来会怎么处理") must not drop a report or withdraw a ticket."""
    from rasa.shared.nlu.training_data.loading import load_data

    examples = [m.get("text") for m in load_data("data/nlu").intent_examples if m.get("intent") == "cancel"]
    assert examples and [text for text in examples if not message_reading.CANCEL_WORDS.search(text)] == []
    assert not any(message_reading.CANCEL_WORDS.search(text) for text in (
        "接下来会怎么处理", "what happens now", "然后呢", "专线被停机了", "packets keep dropping?"))


@pytest.mark.parametrize("text, added", [
    ("加上：影响全公司", "影响全公司"), ("also he was rude on the phone", "he was rude on the phone"),
    ("还有，备用线也断了", "备用线也断了"), ("还有，我们的账单呢", ""), ("also, what's our SLA?", ""),
    ("also can you check the bill", ""), ("好的", ""),
])
def test_more_added_at_confirmation_is_a_statement_after_its_word(text: str, added: str) -> None:
    assert message_reading.added_to(text) == added
