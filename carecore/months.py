"""Which month a customer means: "上个月", "上上个月", "10月", "十月", "last month", "October", "2026-10",
"去年10月", "October 2025", "October last year".

Months without a year mean the latest such month that has ended or is running: asked in January, "December" is
last December; "last December", asked in December, is a year ago. "前两个月", like "前3个月", is the two months
before this one; "两个月前" is one month, the month before last. "The month before" and "再往前一个月" step from
the month just answered instead, and "同比" / "the year before" sets a month beside the same month a year earlier.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, time, timedelta, tzinfo
from typing import List, Optional, Tuple

from carecore.model import month_key

# month numbers by the first three letters of their English names
EN_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}
_ZH_NUM = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
           "十": 10, "十一": 11, "十二": 12}


def _shift(today: date, months_back: int) -> str:
    index = today.year * 12 + (today.month - 1) - months_back
    return month_key(date(index // 12, index % 12 + 1, 1))


def shift_month(month: str, delta: int) -> str:
    """'2026-01' shifted by -1 is '2025-12'."""
    year, mon = (int(part) for part in month.split("-"))
    return _shift(date(year, mon, 1), -delta)


def day_of_month(month: str, day: int) -> date:
    """Day ``day`` of ``month``, or its last day when the month is shorter (bill day 31 in April)."""
    year, mon = (int(part) for part in month.split("-"))
    return date(year, mon, min(day, calendar.monthrange(year, mon)[1]))


def month_span(month: str, tz: tzinfo) -> Tuple[datetime, datetime]:
    """[first instant, first instant of the next month) of ``month`` in the timezone ``tz``."""
    return (datetime.combine(day_of_month(month, 1), time(0), tzinfo=tz),
            datetime.combine(day_of_month(shift_month(month, 1), 1), time(0), tzinfo=tz))


def after_bill_day(month: str, bill_day: int, days: int) -> date:
    """``days`` after ``month``'s bill is issued, on the bill day of the next month (the last day of a
    shorter month): when the bill must have reached the customer, or must be paid."""
    return day_of_month(shift_month(month, 1), bill_day) + timedelta(days=days)


_YEARS_BACK = {"今年": 0, "去年": 1, "前年": 2}


def _month_number(said: str) -> int:
    return int(said) if said.isdigit() else _ZH_NUM[said]


def _latest(today: date, month: int) -> str:
    year = today.year if month <= today.month else today.year - 1
    return month_key(date(year, month, 1))


def parse_month(text: Optional[str], today: date) -> Optional[str]:
    """'YYYY-MM' for what the customer wrote, or None if it names no month."""
    if not text:
        return None
    t = text.strip().lower()
    if re.search(r"上上个?月|两个月前|month before last|two months ago", t):
        return _shift(today, 2)
    if re.search(r"上个?月|上一个月|last month|previous month", t):
        return _shift(today, 1)
    if re.search(r"下个?月|下一个月|next month", t):  # not billed yet: told when it will be
        return _shift(today, -1)
    if re.search(r"(?<!去年)(?<!去年的)(?:本月|这个月|当月)|this month", t):  # "去年这个月": a year back, not this month
        return _shift(today, 0)
    explicit = re.search(r"(20[0-9]{2})\s*(?:年|-|/|\.)\s*(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])(?![0-9])", t)
    if explicit:
        return f"{int(explicit.group(1)):04d}-{_month_number(explicit.group(2)):02d}"
    relative = re.search(r"(今年|去年|前年)\s*的?\s*(1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])\s*月", t)
    if relative:
        return f"{today.year - _YEARS_BACK[relative.group(1)]:04d}-{_month_number(relative.group(2)):02d}"
    named_year = re.search(r"(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+(20[0-9]{2})", t)
    if named_year:
        return f"{int(named_year.group(2)):04d}-{EN_MONTHS[named_year.group(1)]:02d}"
    english = re.search(r"(?<![a-z])(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*", t)
    year_said = re.search(r"\b(this|last) year", t)
    if english and year_said:  # "October last year"
        return f"{today.year - (year_said.group(1) == 'last'):04d}-{EN_MONTHS[english.group(1)]:02d}"
    if english and re.search(r"\blast\s+$", t[:english.start()]):  # "last December", asked in December: a year ago
        month = EN_MONTHS[english.group(1)]
        return f"{today.year - (month >= today.month):04d}-{month:02d}"
    digits = re.search(r"(?<![0-9])(1[0-2]|0?[1-9])\s*月", t)
    if digits:
        return _latest(today, int(digits.group(1)))
    chinese = re.search(r"(十[一二]?|[一二三四五六七八九])月", t)
    if chinese:
        return _latest(today, _ZH_NUM[chinese.group(1)])
    if english:
        return _latest(today, EN_MONTHS[english.group(1)])
    return None


# A month said as a step from the one just answered: "and the month before?", "再往前一个月呢", "后一个月呢".
_STEP_BACK = re.compile(r"(?:the|a) month (?:before|prior|earlier)(?! last)|\bone (?:before|prior)\b|before that|"
                        r"month prior|previous (?:month|one)|再往前|再前一个?月|前一个月|之前(?:那|一)个?月|那之前")
_STEP_ON = re.compile(r"(?:the|a) month after|\bone after\b|after that|(?:next|following) (?:month|one)|再往后|"
                      r"后一个月|下一个月|之后(?:那|一)个?月")
# A step of several months: "再往前两个月", "two months before that".
_STEPS = re.compile(r"再?往(前|后)推?\s*(两|二|三|四|五|六|[2-6])\s*个?月|\b(two|three|four|five|six|[2-6]) months "
                    r"(before|earlier|after|later)")


def month_step(text: Optional[str]) -> int:
    """How many months before (negative) or after the one just answered the message asks for, else 0: a follow-up
    ("the month before?", "再往前两个月") counts from that month, not from today."""
    t = (text or "").lower()
    counted = _STEPS.search(t)
    if counted:
        back = (counted.group(1) or counted.group(4)) in ("前", "before", "earlier")
        return _COUNTS[counted.group(2) or counted.group(3)] * (-1 if back else 1)
    return -1 if _STEP_BACK.search(t) else 1 if _STEP_ON.search(t) else 0


# The same month a year earlier, set beside the one asked about: "同比", "跟去年同期比", "vs the year before".
_YEAR_BEFORE = re.compile(r"同比|去年同期|去年同一?个?月|去年的?这个月|去年这时候|(?:和|跟|与|同)去年(?:相?比|对比)|"
                          r"same (?:month|time|period) (?:last|a|the previous) year|(?:the|a) year (?:before|earlier|ago|"
                          r"prior)|year[- ](?:on|over)[- ]year|\byoy\b|(?:compared? (?:to|with)|vs\.?|versus|than) last year")


def year_before(text: Optional[str]) -> bool:
    """Whether the message sets its month beside the same month a year earlier: "去年同期" is one month, not last
    year's twelve."""
    return bool(_YEAR_BEFORE.search((text or "").lower()))


# What joins two months set side by side: "10月和8月", "October with August", "上个月比上上个月".
_BETWEEN = re.compile(r"和|跟|与|同|比|、|,|，|\b(?:and|with|to|than|against|versus|vs)\b\.?")


def months_named(text: Optional[str], today: date) -> List[str]:
    """Each month a message names, in the order named ("10月和8月比一下", "compare October with August")."""
    found: List[str] = []
    for part in _BETWEEN.split((text or "").lower()):
        month = parse_month(part, today)
        if month and month not in found:
            found.append(month)
    return found


_COUNTS = {**{str(n): n for n in range(1, 13)}, "两": 2, **_ZH_NUM,
           **{w: n for n, w in enumerate(("one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                                          "ten", "eleven", "twelve"), start=1)}}
_RECENT = re.compile(r"(?:最近|近|过去|前|上)\s*(1[0-2]|[1-9]|十[一二]?|[两二三四五六七八九])\s*个?月"
                     r"|(?:last|past|previous)\s+(1[0-2]|[1-9]|one|two|three|four|five|six|seven|eight|nine|ten|eleven"
                     r"|twelve)\s+months")
_THIS_YEAR = re.compile(r"今年|本年|this year|year to date|so far this year")
_LAST_YEAR = re.compile(r"去年|上一年|last year|previous year")


def parse_span(text: Optional[str], today: date, *, to_date: bool = False) -> Optional[Tuple[str, str]]:
    """(first, last) 'YYYY-MM' of several months the customer asked about together ("最近三个月", "今年",
    "last year"), counting only months that have ended, as bills do; ``to_date``, this month so far too, as a
    record of faults does. None if the message asks about one month or none."""
    t = (text or "").strip().lower()
    if parse_month(t, today) is not None or year_before(t):  # "去年10月", "去年同期": one month, with its year
        return None
    recent = _RECENT.search(t)
    last = _shift(today, 0 if to_date else 1)
    if recent:
        count = _COUNTS[recent.group(1) or recent.group(2)]
        return shift_month(last, 1 - count), last
    if _LAST_YEAR.search(t):
        return f"{today.year - 1:04d}-01", f"{today.year - 1:04d}-12"
    if _THIS_YEAR.search(t) and (to_date or today.month > 1):
        return f"{today.year:04d}-01", last
    return None


def months_between(first: str, last: str) -> List[str]:
    """Every month from ``first`` to ``last``, both included."""
    months = [first]
    while months[-1] < last:
        months.append(shift_month(months[-1], 1))
    return months
