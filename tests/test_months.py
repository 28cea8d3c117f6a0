"""Month expressions customers use, and when a month's bill falls due, on fixed dates including year ends."""

from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from carecore.months import (
    after_bill_day,
    month_span,
    month_step,
    months_between,
    months_named,
    parse_month,
    parse_span,
    year_before,
)


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("上个月", date(2026, 11, 23), "2026-10"),
    ("上月", date(2027, 1, 1), "2026-12"),
    ("上上个月", date(2027, 1, 6), "2026-11"),  # the month before last, across the year end
    ("上上月", date(2026, 2, 1), "2025-12"),
    ("两个月前的账单", date(2026, 12, 6), "2026-10"),
    ("the month before last", date(2026, 12, 6), "2026-10"),
    ("last month", date(2027, 1, 31), "2026-12"),
    ("这个月", date(2026, 11, 23), "2026-11"),
    ("下个月账单大概多少", date(2026, 12, 6), "2027-01"), ("next month", date(2026, 12, 31), "2027-01"),  # to come
    ("10月", date(2026, 11, 23), "2026-10"),
    ("十二月", date(2027, 1, 5), "2026-12"),
    ("十一月", date(2026, 11, 23), "2026-11"),
    ("7月份", date(2026, 3, 1), "2025-07"),
    ("October", date(2026, 11, 23), "2026-10"),
    ("Dec", date(2027, 1, 2), "2026-12"),
    ("in May", date(2026, 11, 23), "2026-05"),
    ("2025年2月", date(2026, 11, 23), "2025-02"),
    ("2024-02", date(2026, 11, 23), "2024-02"),
    ("去年10月的账单", date(2026, 12, 6), "2025-10"),  # the year said, not the latest October
    ("前年十二月", date(2027, 1, 5), "2025-12"),
    ("今年2月", date(2026, 12, 6), "2026-02"),
    ("2030年1月的用量", date(2026, 12, 6), "2030-01"),  # a month to come: told when it will be billed
    ("2025年十月", date(2026, 12, 6), "2025-10"),
    ("2026年13月", date(2026, 12, 6), None),  # no such month: not January
    ("October 2025", date(2026, 12, 6), "2025-10"),
    ("our bill for oct. 2024", date(2026, 12, 6), "2024-10"),
    ("October last year", date(2026, 12, 6), "2025-10"),
    ("december this year", date(2026, 2, 1), "2026-12"),
    ("what was our bill last December", date(2026, 12, 6), "2025-12"),  # asked in December: a year ago
    ("last October", date(2026, 12, 6), "2026-10"),
    ("last January", date(2027, 1, 31), "2026-01"),  # across the year end
    ("去年这个月", date(2026, 12, 6), None),  # not this month: set beside a year back instead (year_before)
    ("账单", date(2026, 11, 23), None),
    (None, date(2026, 11, 23), None),
])
def test_parse_month(text, today, expected) -> None:
    assert parse_month(text, today) == expected


@pytest.mark.parametrize("text, step", [
    ("and the month before?", -1), ("the one before that", -1), ("what about the one prior", -1), ("what was it the previous month", -1),
    ("再往前一个月呢", -1), ("那之前一个月呢", -1), ("前一个月呢", -1),
    ("and the month after", 1), ("the following one?", 1), ("后一个月呢", 1), ("下一个月呢", 1),
    ("再往前两个月呢", -2), ("two months before that", -2), ("往后推3个月", 3),
    ("the month before last", 0), ("上个月", 0), ("前两个月", 0), ("last month", 0), ("10月", 0),
])
def test_a_step_from_the_month_just_answered(text: str, step: int) -> None:
    assert month_step(text) == step


@pytest.mark.parametrize("month, bill_day, days, due", [
    ("2026-10", 15, 20, date(2026, 12, 5)),
    ("2026-10", 31, 20, date(2026, 12, 20)),  # bill day 31 in November: the 30th
    ("2027-01", 31, 0, date(2027, 2, 28)),
    ("2028-01", 30, 0, date(2028, 2, 29)),  # a leap February
    ("2026-11", 25, 10, date(2027, 1, 4)),  # across the year end
])
def test_a_bill_is_due_days_after_the_next_months_bill_day(month: str, bill_day: int, days: int, due: date) -> None:
    assert after_bill_day(month, bill_day, days) == due


@pytest.mark.parametrize("month, start, end", [
    ("2026-12", datetime(2026, 11, 30, 16, 0), datetime(2026, 12, 31, 16, 0)),  # into the next year
    ("2028-02", datetime(2028, 1, 31, 16, 0), datetime(2028, 2, 29, 16, 0)),  # a leap February
])
def test_a_month_spans_its_days_in_the_business_timezone(month: str, start: datetime, end: datetime) -> None:
    span = month_span(month, ZoneInfo("Asia/Shanghai"))
    assert span == (start.replace(tzinfo=timezone.utc), end.replace(tzinfo=timezone.utc))


@pytest.mark.parametrize("text, today, span", [
    ("最近三个月的流量", date(2026, 12, 6), ("2026-09", "2026-11")),  # months that have ended
    ("近12个月", date(2026, 1, 15), ("2025-01", "2025-12")),
    ("last two months", date(2027, 1, 2), ("2026-11", "2026-12")),
    ("前两个月的账单", date(2026, 12, 6), ("2026-10", "2026-11")),
    ("上两个月用了多少流量", date(2026, 1, 6), ("2025-11", "2025-12")),
    ("今年的话费总共多少", date(2026, 12, 6), ("2026-01", "2026-11")),
    ("今年", date(2026, 1, 6), None),  # no month of this year has ended
    ("去年全年", date(2026, 12, 6), ("2025-01", "2025-12")),
    ("去年10月", date(2026, 12, 6), None),  # one month, with its year
    ("上个月", date(2026, 12, 6), None),
    ("跟去年同期比呢", date(2026, 12, 6), None),  # one month beside its year-earlier twin, not last year's twelve
    ("same month last year?", date(2026, 12, 6), None),
])
def test_several_months_asked_together(text, today, span) -> None:
    assert parse_span(text, today) == span


@pytest.mark.parametrize("text, today, span", [
    ("今年报了几次故障", date(2026, 12, 6), ("2026-01", "2026-12")),
    ("今年", date(2026, 1, 6), ("2026-01", "2026-01")),
    ("最近三个月断过几次", date(2026, 12, 6), ("2026-10", "2026-12")),
    ("去年全年", date(2026, 12, 6), ("2025-01", "2025-12")),
])
def test_several_months_to_date_take_this_month_so_far(text, today, span) -> None:
    assert parse_span(text, today, to_date=True) == span


@pytest.mark.parametrize("text, meant", [
    ("同比呢", True), ("跟去年同期比怎么样", True), ("去年这个月呢", True), ("how does that compare to the year before", True),
    ("year-on-year?", True), ("same month last year", True), ("跟去年比呢", True), ("compared with last year?", True),
    ("去年10月跟今年10月比", False),
    ("去年的账单", False), ("last year", False), ("the month before", False), ("上个月比上上个月贵多少", False),
])
def test_the_same_month_a_year_earlier(text: str, meant: bool) -> None:
    assert year_before(text) is meant


def test_months_between_cross_the_year_end() -> None:
    assert months_between("2025-11", "2026-02") == ["2025-11", "2025-12", "2026-01", "2026-02"]


@pytest.mark.parametrize("text, months", [
    ("10月和8月对比一下", ["2026-10", "2026-08"]),
    ("compare October with August", ["2026-10", "2026-08"]),
    ("去年10月跟今年10月比", ["2025-10", "2026-10"]),
    ("上个月比上上个月贵多少", ["2026-11", "2026-10"]),
    ("compare it with july", ["2026-07"]),
    ("和之前比怎么样", []),
])
def test_each_month_a_message_names_in_order(text, months) -> None:
    assert months_named(text, date(2026, 12, 6)) == months
