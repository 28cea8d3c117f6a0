"""The usage and bill answer: of the verified customer's own account, month by month."""

from __future__ import annotations

from typing import Any

import pytest

from actions import usage
from actions.services import Services
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker


async def test_usage_for_a_named_month_with_change(svc: Services, domain) -> None:
    messages, events = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "10月"}), domain)
    m = only(messages)
    assert m["response"] == "utter_usage_report" and m["amount"] == "12,888.00" and m["change"] == "较上月增加28.9%"
    assert m["voice_minutes"] == "3,200" and m["data_gb"] == "200.0"
    assert slots_of(events) == {"month": None}
    # no month given: the last complete month (Oct 2026 on 23 Nov); English variant
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["month"] == "October 2026" and only(messages)["change"] == "+28.9% vs the previous month"
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "March"}), domain)
    assert only(messages) == {**only(messages), "response": "utter_usage_missing", "month": "2026年3月"}


async def test_asked_why_a_bill_changed_each_item_is_compared_with_the_month_before(svc: Services, domain) -> None:
    await svc.db.usage.upsert(factories.usage(month="2026-09", voice_minutes=2000, data_mb=204800, sms_count=0,
                                              amount_fen=1000000))
    for slots, text, compared in (
            (VERIFIED_A, "上个月为什么这么贵", "通话+1,200分钟（+60.0%），流量持平，短信+812条"),
            (VERIFIED_A_EN, "why is our bill so high?", "voice +1,200 min (+60.0%), data unchanged, SMS +812"),
            (VERIFIED_A, "上个月账单太高了", "通话+1,200分钟（+60.0%），流量持平，短信+812条"),  # said, not asked
            (VERIFIED_A_EN, "last month's bill seems too high", "voice +1,200 min (+60.0%), data unchanged, SMS +812")):
        messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text), domain)
        assert [m["response"] for m in messages] == ["utter_usage_report", "utter_usage_compared"]
        assert messages[1]["changes"] == compared
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A, intent="ask_usage", text="上个月账单"),
                            domain)
    assert [m["response"] for m in messages] == ["utter_usage_report"]  # asked nothing of why: kept short
    # "why so high" of an amount that fell: said first, then what changed
    await svc.db.usage.upsert(factories.usage(month="2026-09", amount_fen=9000000))
    for slots, text, told in ((VERIFIED_A_EN, "why is it so high", ["utter_usage_not_higher"]),
                              (VERIFIED_A, "为什么少了这么多", [])):
        messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text), domain)
        assert [m["response"] for m in messages] == ["utter_usage_report", *told, "utter_usage_compared"]


@pytest.mark.parametrize("slots, text", [(VERIFIED_A, "上个月的账单发我邮箱"), (VERIFIED_A_EN, "email me last month's bill")])
async def test_a_bill_asked_for_by_email_is_shown_and_said_not_to_be_emailed(svc: Services, domain, slots,
                                                                              text: str) -> None:
    messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text), domain)
    assert [m["response"] for m in messages] == ["utter_usage_report", "utter_bill_not_emailed"]


@pytest.mark.parametrize("slots, text, offered", [
    (VERIFIED_A, "账单也不用发了", True), (VERIFIED_A, "以后发票寄到新地址", True),
    (VERIFIED_A_EN, "stop sending us paper bills", True),
    (VERIFIED_A, "账单什么时候寄到", False), (VERIFIED_A, "上个月的账单发我邮箱", False),  # emailed: see above
])
async def test_a_change_to_how_bills_arrive_is_the_managers(svc: Services, domain, slots, text: str,
                                                             offered: bool) -> None:
    messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text), domain)
    told = [m["response"] for m in messages]
    assert (told == ["utter_bill_delivery_to_manager"]) is offered and (offered or "utter_bill_delivery_to_manager"
                                                                       not in told)


@pytest.mark.parametrize("slots, text, told", [
    (VERIFIED_A, "上个月多收了我们钱", ["utter_answer_disputed"]),
    (VERIFIED_A_EN, "we were charged twice last month", ["utter_answer_disputed"]),
    (VERIFIED_A, "上个月收了多少钱", []),  # asked, not disputed
])
async def test_a_bill_said_to_be_wrong_is_shown_with_how_to_have_it_checked(svc: Services, domain, slots, text,
                                                                            told) -> None:
    messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text), domain)
    assert [m["response"] for m in messages] == ["utter_usage_report", *told]


async def test_two_months_compared_item_by_item_with_the_amount(svc: Services, domain) -> None:
    await svc.db.usage.upsert(factories.usage(month="2026-08", voice_minutes=3000, data_mb=102400, amount_fen=1500000))
    # both named, the earlier first: the later is reported, the earlier set beside it
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "8月"}, intent="ask_usage",
                                                           text="8月和10月对比一下"), domain)
    assert [(m["response"], m["month"]) for m in messages[:1]] == [("utter_usage_report", "2026年10月")]
    assert (messages[-1]["response"], messages[-1]["previous_month"], messages[-1]["changes"]) == (
        "utter_usage_compared", "2026年8月", "金额-2,112.00元（-14.1%），通话+200分钟（+6.7%），流量+100.0GB（+100.0%），短信持平")
    # "it": the month the assistant answered just before
    answered = [{"event": "bot", "text": "Usage for October 2026: 3,200 voice minutes …",
                 "metadata": {"utter_action": "utter_usage_report"}}]
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A_EN, "month": "August"},
                                                           intent="ask_usage", text="compare it with August",
                                                           events=answered), domain)
    assert messages[0]["month"] == "October 2026" and messages[-1]["previous_month"] == "August 2026"
    assert messages[-1]["changes"].startswith("amount -2,112.00 yuan (-14.1%), voice +200 min (+6.7%)")
    # one month named and nothing answered before: the month before it; a month billing never sent is said to be so
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "上个月"}, intent="ask_usage",
                                                           text="上个月和之前比怎么样"), domain)
    assert messages[-1]["previous_month"] == "2026年9月" and messages[-1]["changes"].startswith("通话")  # amount: said
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "10月"}, intent="ask_usage",
                                                           text="10月跟5月比"), domain)
    assert (messages[-1]["response"], messages[-1]["month"]) == ("utter_usage_missing", "2026年5月")


def usage_answered(month: str) -> list:
    """The answer as sent, its change said against "the previous month" ("较上月"), which names no month."""
    text = (f"{month}通信消费：…，费用合计12,888.00元（较上月增加28.9%）。" if "年" in month else
            f"Usage for {month}: 3,200 voice minutes …, amount billed 12,888.00 yuan (+28.9% vs the previous month).")
    return [{"event": "bot", "text": text, "metadata": {"utter_action": "utter_usage_report"}}]


@pytest.mark.parametrize("slots, text, answered, meant", [
    (VERIFIED_A_EN, "and the month before?", "October 2026", "September 2026"),
    ({**VERIFIED_A_EN, "month": "previous month"}, "what was it the previous month", "October 2026", "September 2026"),
    (VERIFIED_A, "后一个月呢", "2026年9月", "2026年10月"),
    (VERIFIED_A, "再往前两个月呢", "2026年10月", "2026年8月"),  # two months back from October, not the last two
    ({**VERIFIED_A_EN, "month": "previous month"}, "what was it the previous month", None, "October 2026"),
    (VERIFIED_A, "那短信呢", "2026年9月", "2026年9月"),  # another measure: that month, not the last
    (VERIFIED_A_EN, "and the data?", "September 2026", "September 2026"),
])
async def test_a_follow_up_steps_from_the_month_answered_just_before(svc: Services, domain, slots, text: str,
                                                                     answered, meant: str) -> None:
    await svc.db.usage.upsert(factories.usage(month="2026-08", amount_fen=900000))
    events = usage_answered(answered) if answered else []
    messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text, events=events),
                            domain)
    assert (messages[0]["response"], messages[0]["month"]) == ("utter_usage_report", meant)


async def test_asked_why_right_after_a_month_it_is_that_month_explained(svc: Services, domain) -> None:
    await svc.db.usage.upsert(factories.usage(month="2026-08", voice_minutes=3000, data_mb=102400, amount_fen=900000))
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN, intent="ask_usage",
                                                           text="why is it so high", events=usage_answered(
                                                               "September 2026")), domain)
    assert [(m["response"], m.get("month") or m["previous_month"]) for m in messages] == [
        ("utter_usage_report", "September 2026"), ("utter_usage_compared", "August 2026")]


@pytest.mark.parametrize("slots, text, events, month, against", [
    (VERIFIED_A_EN, "how does that compare to the year before", usage_answered("September 2026"), "September 2026",
     "September 2025"),  # the month just answered
    ({**VERIFIED_A, "month": "上个月"}, "上个月同比怎么样", [], "2026年10月", "2025年10月"),
    (VERIFIED_A, "跟去年同期比呢", [], "2026年10月", "2025年10月"),  # nothing answered: the last bill
])
async def test_a_month_set_beside_the_same_month_a_year_earlier(svc: Services, domain, slots, text, events, month,
                                                              against) -> None:
    await svc.db.usage.upsert(factories.usage(month="2025-09", amount_fen=900000))
    await svc.db.usage.upsert(factories.usage(month="2025-10", amount_fen=900000))
    messages, _ = await run(usage.ActionUsage(), tracker(slots=slots, intent="ask_usage", text=text, events=events),
                            domain)
    assert (messages[0]["response"], messages[0]["month"]) == ("utter_usage_report", month)
    assert (messages[-1]["response"], messages[-1]["previous_month"]) == ("utter_usage_compared", against)
    assert messages[-1]["changes"].startswith(("金额", "amount"))  # a year apart: the amount's change is not said yet


async def test_several_months_asked_together_are_listed_with_their_total(svc: Services, domain) -> None:
    # 23 November: the last three months that ended are August to October; billing has sent September and October
    messages, events = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A, intent="ask_usage",
                                                                text="最近三个月的话费"), domain)
    m = only(messages)
    assert (m["response"], m["span"], m["count"], m["expected"], m["total"]) == (
        "utter_usage_span", "2026年8月至2026年10月", 2, 3, "22,888.00")
    assert m["lines"].split("\n") == ["2026年9月：10,000.00元，通话3,200分钟，流量200.0GB",
                                       "2026年10月：12,888.00元，通话3,200分钟，流量200.0GB"]
    assert slots_of(events) == {"month": None}
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN, intent="ask_usage",
                                                           text="how much did we spend last year?"), domain)
    assert only(messages) == {**only(messages), "response": "utter_usage_span_missing",
                              "span": "January 2025 to December 2025"}


async def test_a_month_not_billed_yet_says_when_it_will_be_then_gives_the_latest(svc: Services, domain) -> None:
    # bill day 31, the clock 23 November: November's bill is issued on 31 December
    messages, events = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "本月"}), domain)
    assert [m["response"] for m in messages] == ["utter_usage_not_yet", "utter_usage_report"]
    assert (messages[0]["month"], messages[0]["issued_on"], messages[0]["due_on"]) == (
        "2026年11月", "2026年12月31日", "2027年1月20日")
    assert messages[1]["month"] == "2026年10月" and messages[1]["amount"] == "12,888.00"
    assert slots_of(events) == {"month": None}


@pytest.mark.parametrize("text", ["账单什么时候出？", "when will our bill be issued?"])
async def test_asked_when_with_no_month_the_bill_to_come_is_meant(svc: Services, domain, text: str) -> None:
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A, intent="ask_usage", text=text), domain)
    assert [m["response"] for m in messages] == ["utter_usage_not_yet", "utter_usage_report"]
    assert messages[0]["issued_on"] == "2026年12月31日"  # October's is in: November's is next


async def test_asked_when_the_next_bill_comes_last_months_is_meant_until_billing_has_it(svc: Services,
                                                                                      domain) -> None:
    """The 23rd, bill day 31: October's bill comes on 30 November, not November's on 31 December."""
    await svc.db.client[svc.db.name]["usage_monthly"].delete_one({"customer_id": "KA0000001", "month": "2026-10"})
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN, intent="ask_usage",
                                                           text="when is the next bill"), domain)
    assert (messages[0]["response"], messages[0]["month"], messages[0]["issued_on"]) == (
        "utter_usage_not_yet", "October 2026", "30 November 2026")


async def test_usage_says_whether_the_bill_is_paid_once_billing_has_said(svc: Services, domain) -> None:
    # bill day 31: October's bill was issued on 30 November and is due 20 days later (the clock: 23 November)
    await svc.db.usage.upsert(factories.usage("KA0000001", "2026-10", paid_fen=288800))
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "10月"}), domain)
    assert messages[1] == {**messages[1], "response": "utter_bill_due", "owed": "10,000.00", "due_on": "2026年12月20日"}
    await svc.db.usage.upsert(factories.usage("KA0000001", "2026-09", paid_fen=0))  # due 20 November
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A_EN, "month": "2026-09"}), domain)
    assert messages[1] == {**messages[1], "response": "utter_bill_overdue", "due_on": "20 November 2026"}
    # asked again of that month right after ("and the data?"), the bill's state is not said twice
    told = [*usage_answered("September 2026"),
            {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_bill_overdue"}}]
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN, intent="ask_usage",
                                                           text="and the data?", events=told), domain)
    assert [m["response"] for m in messages] == ["utter_usage_report"]
    await svc.db.usage.upsert(factories.usage("KA0000001", "2026-10", paid_fen=1288800))
    messages, _ = await run(usage.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "10月"}), domain)
    assert messages[1]["response"] == "utter_bill_paid"


async def test_asked_what_is_owed_every_bill_not_fully_paid_is_told(svc: Services, domain) -> None:
    def asked(slots: dict, text: str) -> Any:
        return tracker(slots=slots, intent="ask_usage", text=text)

    # billing has not said what was paid for the latest bill: the month's answer, nothing called paid
    messages, _ = await run(usage.ActionUsage(), asked(VERIFIED_A, "我们欠费了吗？"), domain)
    assert [m["response"] for m in messages] == ["utter_usage_report"]
    await svc.db.usage.upsert(factories.usage("KA0000001", "2026-10", paid_fen=288800))  # due 20 December
    await svc.db.usage.upsert(factories.usage("KA0000001", "2026-09", paid_fen=0))  # was due 20 November
    messages, _ = await run(usage.ActionUsage(), asked(VERIFIED_A, "还欠多少钱"), domain)
    assert only(messages) == {**only(messages), "response": "utter_bills_owed", "total": "22,888.00", "lines": (
        "1. 2026年9月：12,888.00元，缴费期已于2026年11月20日截止\n2. 2026年10月：10,000.00元，请于2026年12月20日前缴纳")}
    for text in ("do we owe anything?", "when is the payment due"):
        messages, _ = await run(usage.ActionUsage(), asked(VERIFIED_A_EN, text), domain)
        assert only(messages)["lines"].startswith("1. September 2026: 12,888.00 yuan, was due by 20 November 2026\n")
    messages, _ = await run(usage.ActionUsage(), asked(VERIFIED_A, "最晚什么时候交"), domain)  # by when: each bill's
    assert only(messages)["response"] == "utter_bills_owed"
    # a month named is answered as that month
    messages, _ = await run(usage.ActionUsage(), asked({**VERIFIED_A, "month": "10月"}, "10月的欠费交清了吗"), domain)
    assert [m["response"] for m in messages] == ["utter_usage_report", "utter_bill_due"]
    for month in ("2026-09", "2026-10"):
        await svc.db.usage.upsert(factories.usage("KA0000001", month, paid_fen=1288800))
    messages, _ = await run(usage.ActionUsage(), asked(VERIFIED_A_EN, "is our bill paid?"), domain)
    assert only(messages)["response"] == "utter_bills_all_paid"


async def test_usage_without_a_previous_month_reads_as_one_sentence(svc: Services, domain) -> None:
    for slots, expected in ((VERIFIED_A, "（无上月数据可比）。"), (VERIFIED_A_EN, "(no previous month to compare).")):
        messages, _ = await run(usage.ActionUsage(), tracker(slots={**slots, "month": "2026-09"}), domain)
        m = only(messages)
        [text] = [variant["text"] for variant in domain["responses"]["utter_usage_report"]  # en has a condition
                  if bool(variant.get("condition")) == (slots["language"] == "en")]
        rendered = text.format(**{k: v for k, v in m.items() if k != "response"})
        assert rendered.endswith(expected) and "较上月无" not in rendered and "vs the previous month)" not in rendered
