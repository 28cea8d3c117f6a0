"""The time a customer asks to be called back at ("明天下午三点给我回电话", "call me tomorrow at 3pm"), read from
the message against the clock in the business timezone, so that the manager is paged with it and the customer is
promised it, instead of the default call-back deadline.

Read: a day (今天, 明天, 后天, 周三, 下周一, 12月15日, 25号, today, tomorrow, Friday, Dec 15, the 25th), a part of
the day (上午, 下午, 晚上, morning, afternoon, evening), a clock time (三点半, 15:00, 3pm, at 3), or a delay (一个小时后,
in 2 hours). A bare hour of 1 to 7 is in the afternoon: nobody asks for a call at 3 in the morning. Before 05:00,
"明天" is the day that dawns. A day alone, a time already past on the day named, more than two weeks ahead, with a
date written 12/15, or in a clause telling what went wrong ("从早上九点开始断了") is no time asked for.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from typing import Optional, Tuple

from carecore.months import EN_MONTHS

AHEAD = timedelta(days=14)
DAWN = 5  # before this hour, "tomorrow" is still the coming day
SOON = timedelta(minutes=5)

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
NUMBER = r"\d{1,2}|[零〇一二两三四五六七八九十]{1,3}"
WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "monday": 0, "tuesday": 1,
            "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
DAYS_AHEAD = {"今天": 0, "今日": 0, "今晚": 0, "today": 0, "tonight": 0, "明天": 1, "明日": 1, "明早": 1, "明晚": 1,
              "tomorrow": 1, "后天": 2, "大后天": 3}
# a part of the day: the hour it means alone, and whether an hour said in it is after noon
PERIODS = {"凌晨": (6, False), "早上": (9, False), "早晨": (9, False), "明早": (9, False), "上午": (10, False),
           "morning": (10, False), "中午": (12, None), "noon": (12, None), "midday": (12, None), "下午": (15, True),
           "afternoon": (15, True), "傍晚": (17, True), "晚上": (19, True), "今晚": (19, True), "明晚": (19, True),
           "evening": (19, True), "tonight": (19, True)}

DAY = re.compile(r"大后天|今天|今日|今晚|明天|明日|明早|明晚|后天|(下个?)?(?:周|星期|礼拜)([一二三四五六日天])|"
                 r"\b(today|tonight|tomorrow)\b|\b(next )?(monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b",
                 re.I)
PERIOD = re.compile(r"凌晨|早上|早晨|明早|上午|中午|下午|傍晚|晚上|今晚|明晚|\b(?:morning|noon|midday|afternoon|evening|"
                    r"tonight)\b", re.I)
CLOCK_ZH = re.compile(rf"({NUMBER})\s*[点點时:：](?![都也儿点])\s*(半|一刻|三刻|({NUMBER})分?)?")
A_BIT = "快早慢晚多少好差有"  # "快一点", "晚一点": "a bit", not one o'clock
DATE_ZH = re.compile(rf"(?:({NUMBER})\s*月\s*)?({NUMBER})\s*[日号號](?![子常])")
MONTH_EN = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
            r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
# "Dec 15", "15 December", "the 15th"
DATE_EN = re.compile(rf"\b{MONTH_EN}\s+(\d{{1,2}})(?:st|nd|rd|th)?\b"
                     rf"|\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTH_EN}(?![a-z])"
                     r"|\b(\d{1,2})(?:st|nd|rd|th)\b", re.I)
# "12/15" is December 15th or the 12th of the 15th month by where the writer learned dates: not guessed at
DATE_SLASHED = re.compile(r"\b\d{1,2}/\d{1,2}\b")
CLAUSE = re.compile(r"[，,。！!？?；;]|\.\s")
# a clause telling what went wrong and since when ("专线从早上九点断了"): its time is not the one to call at
WHAT_HAPPENED = re.compile(r"从|自从|开始|以来|起(?!来)|断|不通|掉线|故障|坏|\b(?:since|from|started|began|down|broke|"
                           r"broken|outage|failed)\b", re.I)
CLOCK_EN = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*([ap])\.?m\b\.?|\b(\d{1,2}):(\d{2})\b|\b(\d{1,2}) o'?clock\b|"
                      r"\bat (\d{1,2})\b(?![:\d])", re.I)
DELAY = re.compile(rf"({NUMBER}|半)\s*个?\s*(小时|钟头|分钟)\s*(?:以?后|之后)|\bin (an?|half an|\d{{1,2}}) "
                   r"(hours?|minutes?|mins?)\b", re.I)


def _number(text: str) -> int:
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (CN_DIGITS.get(tens, 1) if tens else 1) * 10 + (CN_DIGITS.get(ones, 0) if ones else 0)
    return CN_DIGITS.get(text, 0)


def _delay(found: re.Match) -> timedelta:
    zh_amount, zh_unit, en_amount, en_unit = found.groups()
    amount, unit = (zh_amount, zh_unit) if zh_amount else (en_amount.lower(), en_unit.lower())
    if amount in ("半", "half an"):
        hours = 0.5
    elif amount in ("a", "an"):
        hours = 1
    else:
        hours = _number(amount)
    return timedelta(hours=hours) if unit in ("小时", "钟头") or unit.startswith("hour") else timedelta(minutes=hours)


def _date_named(found: re.Match, today: date) -> Optional[date]:
    """12月25日, 25号, Dec 25, the 25th: the next such date from today (a day of the month alone: this month's, else
    next month's)."""
    if found.re is DATE_ZH:
        day, month = _number(found.group(2)), _number(found.group(1)) if found.group(1) else None
    else:
        month_en, day_a, day_b, month_b, day_c = found.groups()
        day = int(day_a or day_b or day_c)
        said = (month_en or month_b or "").lower()[:3]
        month = EN_MONTHS[said] if said else None
    if month:
        candidates = [(today.year, month), (today.year + 1, month)]
    else:
        following = today.month % 12 + 1
        candidates = [(today.year, today.month), (today.year + (following == 1), following)]
    for year, month in candidates:
        try:
            named = date(year, month, day)
        except ValueError:  # 2月30日, 31号 in a short month
            continue
        if named >= today:
            return named
    return None


def _day_ahead(found: re.Match, now: datetime) -> int:
    word, today = found.group(0).lower(), now.date()
    if word in DAYS_AHEAD:
        # awake at 3 a.m., "明天" is the day that is dawning
        return DAYS_AHEAD[word] - (now.hour < DAWN and DAYS_AHEAD[word] > 0)
    weekday = WEEKDAYS[(found.group(2) or found.group(5)).lower()]
    ahead = (weekday - today.weekday()) % 7
    if found.group(1) or found.group(4):  # 下周三, next Wednesday: in the week after this one
        return 7 - today.weekday() + weekday
    return ahead or 7  # 周三 said on a Wednesday: the next one


def _clock(text: str) -> Optional[Tuple[int, int, Optional[bool]]]:
    """The hour and minute said, and True/False when the words themselves say after or before noon."""
    zh = next((found for found in CLOCK_ZH.finditer(text)
               if not (found.group(1) == "一" and found.start() and text[found.start() - 1] in A_BIT)), None)
    if zh:
        minutes = {"半": 30, "一刻": 15, "三刻": 45}.get(zh.group(2) or "", None)
        return _number(zh.group(1)), minutes if minutes is not None else _number(zh.group(3) or "0"), None
    en = CLOCK_EN.search(text)
    if en is None:
        return None
    h12, m12, half, h24, m24, oclock, at = en.groups()
    if h12:
        return int(h12), int(m12 or 0), half.lower() == "p"
    if h24:
        return int(h24), int(m24), None
    return int(oclock or at), 0, None


def callback_time(text: str, now: datetime) -> Optional[datetime]:
    """The moment asked for in ``text``, in the timezone of ``now`` (the business's, as the clock gives it); None
    when the message asks for none we can keep."""
    text = " ".join(clause for clause in CLAUSE.split(text) if not WHAT_HAPPENED.search(clause))
    delay = DELAY.search(text)
    if delay:
        return now + _delay(delay)
    if DATE_SLASHED.search(text):
        return None
    day, period, clock = DAY.search(text), PERIOD.search(text), _clock(text)
    if clock is None and period is None:
        return None
    named = DATE_ZH.search(text) or DATE_EN.search(text)
    on = _date_named(named, now.date()) if named else None
    if named and on is None:
        return None  # a date that does not exist, or is past
    if clock is not None and day is None and period is None and re.search(r"(?<![\d十])一[点點](?![半\d一二三四五六七八九十])", text):
        return None  # "一点" with no day or part of the day around it is more likely "a bit" than one o'clock
    period_hour, after_noon = PERIODS[period.group(0).lower()] if period else (None, None)
    if clock is None:
        hour, minute = period_hour or 0, 0
    else:
        hour, minute, said_pm = clock
        if period_hour == 19 and (hour == 12 or hour <= 5):
            return None  # "晚上一点", "今晚十二点": the middle of the night, not 13:00 nor noon, and no time to call
        if said_pm is not None:
            after_noon = said_pm
        if after_noon is None and period_hour == 12:
            after_noon = hour <= 2  # 中午一点: 13:00; 中午十二点: noon
        if after_noon is None:
            after_noon = 1 <= hour <= 7
        if after_noon and hour < 12:
            hour += 12
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        return None
    when = datetime.combine(on or now.date(), time(hour, minute), tzinfo=now.tzinfo)
    if on is None and day is not None:
        when += timedelta(days=_day_ahead(day, now))
    elif on is None and when <= now:
        when += timedelta(days=1)  # "三点" said after three: tomorrow's
    if not now + SOON <= when <= now + AHEAD:
        return None
    return when
