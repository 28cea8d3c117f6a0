"""What a customer or a manager reads of a ticket's deadline: the one still awaited, and whether it has passed."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from carecore.model import Billing, Circuit, Ticket
from carecore.texts import bill_terms, circuit_line, due_by, ticket_deadline, written_in_chinese
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
DUE = datetime(2026, 12, 31, 23, 30, tzinfo=SH)  # a year's last half hour


def _ticket(**overrides) -> Ticket:
    return Ticket.parse_obj({**factories.ticket(), **overrides})


@pytest.mark.parametrize(("sla", "status", "now", "zh", "en"), [
    ({"response_due": DUE - timedelta(hours=2), "restore_due": DUE}, "open", DUE,  # on the minute: not late yet
     "修复时限：12月31日23:30", "restore due by 31 Dec 23:30"),
    ({"response_due": DUE - timedelta(hours=2), "restore_due": DUE}, "acknowledged", DUE + timedelta(minutes=31),
     "修复时限：12月31日23:30，已超时", "restore was due by 31 Dec 23:30, overdue"),
    ({"response_due": DUE}, "open", DUE + timedelta(days=1), "答复时限：12月31日23:30，已超时",
     "reply was due by 31 Dec 23:30, overdue"),
    ({"response_due": DUE, "responded_at": DUE - timedelta(hours=1)}, "acknowledged", DUE, "", ""),  # replied
    ({"response_due": DUE}, "resolved", DUE + timedelta(days=1), "", ""),
])
def test_the_deadline_awaited_and_whether_it_passed(sla, status, now, zh, en) -> None:
    ticket = _ticket(sla=sla, status=status, kind="fault" if "restore_due" in sla else "complaint")
    assert (ticket_deadline(ticket, "zh", SH, now), ticket_deadline(ticket, "en", SH, now)) == (zh, en)


def test_a_deadline_told_a_customer_says_when_it_has_passed() -> None:
    """"修复时限12月31日23:30不变" of a deadline hours past misled; on the minute it is not past yet."""
    assert (due_by(DUE, DUE, "zh", SH), due_by(DUE, DUE, "en", SH)) == ("12月31日23:30", "31 Dec 23:30")
    later = DUE + timedelta(minutes=1)
    assert (due_by(DUE, later, "zh", SH), due_by(DUE, later, "en", SH)) == ("12月31日23:30（已超时）",
                                                                          "31 Dec 23:30 (overdue)")


@pytest.mark.parametrize(("ends", "zh", "en"), [
    ({}, "SH-155M-0000001-1 155M数字电路", "SH-155M-0000001-1 155M digital circuit"),
    ({"a_end": "上海金桥大厦", "z_end": "杭州数据中心"}, "SH-155M-0000001-1 155M数字电路（上海金桥大厦—杭州数据中心）",
     "SH-155M-0000001-1 155M digital circuit (上海金桥大厦 – 杭州数据中心)"),
    ({"z_end": "杭州数据中心"}, "SH-155M-0000001-1 155M数字电路（杭州数据中心）",
     "SH-155M-0000001-1 155M digital circuit (杭州数据中心)"),
])
def test_a_circuit_is_shown_with_the_ends_known(ends: dict, zh: str, en: str) -> None:
    circuit = Circuit(circuit_id="SH-155M-0000001-1", type="digital_155m", bandwidth="155M", sla_class="premium", **ends)
    assert (circuit_line(circuit, "zh"), circuit_line(circuit, "en")) == (zh, en)


@pytest.mark.parametrize(("billing", "zh", "en"), [
    ({"bill_day": 10, "delivery": "sms"}, "账单每月10日出账，通过短信发送。", "Bills are issued on day 10 of each month and sent by SMS."),
    ({"bill_day": 29, "delivery": "paper"}, "账单每月29日出账（当月没有该日则为月末），以纸质账单邮寄。",
     "Bills are issued on day 29 of each month (or its last day) and posted on paper."),
    ({"bill_day": 5, "delivery": "email", "email": "finance@example.cn"}, "账单每月5日出账，通过电子邮件发送至f***@example.cn。",
     "Bills are issued on day 5 of each month and sent by email to f***@example.cn."),
    ({"bill_day": 5, "delivery": "email"}, "账单每月5日出账，通过电子邮件发送。", "Bills are issued on day 5 of each month and sent by email."),
])
def test_the_bill_terms_say_when_and_how_and_the_address_in_part(billing: dict, zh: str, en: str) -> None:
    terms = Billing(**billing)
    assert (bill_terms(terms, "zh"), bill_terms(terms, "en")) == (zh, en)


@pytest.mark.parametrize("text, chinese", [
    ("Your circuits (3 in all):\n1. ZJ-ZX-0000007-1 leased line 100M (温州鼎盛大厦 – 南京数据中心): up\n"
     "2. ZJ-155M-0000007-2 155M digital circuit (温州长城大厦 – 武汉数据中心): up", False),  # had been signed as Chinese
    ("I've chased FT-20261205-0008 with your account manager 蔡然远, who will follow up.", False),
    ("您的电路（共2条）：\n1. ZJ-ZX-0000007-1 100M专线（温州鼎盛大厦—南京数据中心）：正常", True),
    ("电路SH-155M-0000001-1状态正常", True),
    ("（温州鼎盛大厦—南京数据中心）", True),  # nothing outside the brackets: all of it counts
])
def test_a_reply_is_chinese_by_its_own_words_not_the_names_in_brackets(text: str, chinese: bool) -> None:
    assert written_in_chinese(text) is chinese
