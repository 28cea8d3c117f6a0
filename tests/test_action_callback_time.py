"""The call-back time a customer asks for, read on fixed dates in Asia/Shanghai: month, year and leap-day edges,
weekdays, parts of the day, and the words that are no time to call at."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

import pytest

from actions.callback_time import callback_time
from carecore.clock import FixedClock

MONDAY = FixedClock(datetime(2026, 12, 7, 10, 20)).now()  # Monday 7 December 2026, 10:20 in Shanghai


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=MONDAY.tzinfo)


@pytest.mark.parametrize("text, expected", [
    ("请让客户经理明天下午三点给我回个电话", at(2026, 12, 8, 15, 0)),
    ("下午三点半打给我", at(2026, 12, 7, 15, 30)),
    ("三点以后给我回电", at(2026, 12, 7, 15, 0)),         # a bare 3 is in the afternoon
    ("十点", at(2026, 12, 8, 10, 0)),                   # past today: tomorrow's
    ("中午一点", at(2026, 12, 7, 13, 0)), ("一点半", at(2026, 12, 7, 13, 30)), ("今晚八点", at(2026, 12, 7, 20, 0)),
    ("明天上午", at(2026, 12, 8, 10, 0)),                # a part of the day alone: its usual hour
    ("周三上午十点", at(2026, 12, 9, 10, 0)), ("周一下午", at(2026, 12, 14, 15, 0)),  # said on a Monday: the next
    ("下周一早上9点", at(2026, 12, 14, 9, 0)),
    ("一个小时后再打给我", at(2026, 12, 7, 11, 20)), ("半小时后打过来", at(2026, 12, 7, 10, 50)),
    ("call me tomorrow at 3pm", at(2026, 12, 8, 15, 0)), ("call me back at 4:30", at(2026, 12, 7, 16, 30)),
    ("at 3 please", at(2026, 12, 7, 15, 0)), ("call me at 3 p.m. please", at(2026, 12, 7, 15, 0)),
    ("friday morning", at(2026, 12, 11, 10, 0)), ("next monday 10am", at(2026, 12, 14, 10, 0)),
    ("in 2 hours", at(2026, 12, 7, 12, 20)),
    ("明天下午三点给我回电话，专线断了", at(2026, 12, 8, 15, 0)),  # the fault's clause is set aside, not the request
    # no time to call at
    ("转人工", None), ("明天", None),                    # a day alone keeps the usual promise
    ("快一点给我回电话", None), ("麻烦早一点回电话", None), ("你们一点都不靠谱，让经理打给我", None),  # "a bit"
    ("专线从早上九点断了，叫客户经理打给我", None), ("早上九点开始就断了，找经理", None),  # when it began
    ("down since 9am, get me a person", None),
    ("今天上午九点给我打", None),                         # already past on the day named
    ("晚上一点打给我", None), ("今晚十二点", None), ("tonight at 1", None),  # the middle of the night
    ("下下周", None), ("in 20 hours", at(2026, 12, 8, 6, 20)),
    ("call me on the 15th at 3pm", at(2026, 12, 15, 15, 0)), ("Dec 9, 10am", at(2026, 12, 9, 10, 0)),
    ("on 10 December in the afternoon", at(2026, 12, 10, 15, 0)),
    ("2月30日下午三点", None), ("February 30 at 3pm", None),  # no such date
    ("call me on 12/9 at 3pm", None),  # December 9th or September 12th: not guessed at
    ("may I get a call at 3", at(2026, 12, 7, 15, 0)),  # "may" is no month without a day
])
def test_a_time_asked_for_on_a_monday_morning(text: str, expected: Optional[datetime]) -> None:
    assert callback_time(text, MONDAY) == expected


@pytest.mark.parametrize("now, text, expected", [
    (datetime(2026, 12, 31, 16, 0), "明天上午十点", datetime(2027, 1, 1, 10, 0)),    # the year's end
    (datetime(2026, 11, 30, 18, 0), "tomorrow at 9am", datetime(2026, 12, 1, 9, 0)),  # the month's end
    (datetime(2028, 2, 28, 17, 0), "明天下午两点", datetime(2028, 2, 29, 14, 0)),   # a leap day
    (datetime(2027, 2, 28, 17, 0), "后天上午", datetime(2027, 3, 2, 10, 0)),        # no leap day
    (datetime(2026, 12, 27, 21, 0), "周一早上", datetime(2026, 12, 28, 9, 0)),      # said on a Sunday evening
    (datetime(2026, 12, 7, 2, 57), "明天下午三点", datetime(2026, 12, 7, 15, 0)),   # said before dawn: the day dawning
    (datetime(2026, 12, 7, 2, 57), "后天上午", datetime(2026, 12, 8, 10, 0)),
    (datetime(2026, 12, 7, 10, 20), "12月15日下午三点", datetime(2026, 12, 15, 15, 0)),
    (datetime(2026, 12, 28, 10, 0), "3号上午十点", datetime(2027, 1, 3, 10, 0)),  # past this month: next month's
    (datetime(2026, 12, 28, 10, 0), "1月2日下午", datetime(2027, 1, 2, 15, 0)),   # across the year
])
def test_a_time_across_month_year_and_leap_day_edges(now: datetime, text: str, expected: datetime) -> None:
    clock = FixedClock(now)
    assert callback_time(text, clock.now()) == expected.replace(tzinfo=clock.tz)


def test_a_time_more_than_two_weeks_ahead_is_none() -> None:
    assert callback_time("12月21日上午十点", MONDAY) == at(2026, 12, 21, 10, 0)
    assert callback_time("12月22日上午十点", MONDAY) is None
    assert callback_time("in 99 hours", MONDAY) is not None and callback_time("in 400 hours", MONDAY) is None
