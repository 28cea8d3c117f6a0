"""Birthdays and festivals on the fixed dates the issue names."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from care_scheduler.calendar import birthdays_greeted, festival_on, is_birthday, lunar_days, solar_days
from carecore.model import Birthday

SH = ZoneInfo("Asia/Shanghai")


def test_feb_29_birthdays_are_greeted_on_feb_28_in_common_years() -> None:
    leapling = Birthday(calendar="solar", month=2, day=29, year=1988)
    assert solar_days(date(2027, 2, 28)) == (2, [28, 29])
    assert is_birthday(leapling, date(2027, 2, 28))
    assert not is_birthday(leapling, date(2027, 3, 1))
    assert not is_birthday(leapling, date(2028, 2, 28))  # 2028 has a Feb 29
    assert is_birthday(leapling, date(2028, 2, 29))
    assert solar_days(date(2100, 2, 28)) == (2, [28, 29])  # 2100 is not a leap year


def test_lunar_30th_is_greeted_on_the_last_day_of_a_29_day_month() -> None:
    # 2026-04-16 is the 29th and last day of lunar month 2 (that month has no 30th).
    assert lunar_days(date(2026, 4, 16)) == (2, [29, 30])
    assert is_birthday(Birthday(calendar="lunar", month=2, day=30), date(2026, 4, 16))
    assert is_birthday(Birthday(calendar="lunar", month=2, day=29), date(2026, 4, 16))
    assert not is_birthday(Birthday(calendar="lunar", month=2, day=30), date(2026, 4, 17))


def test_lunar_birthday_moves_with_the_solar_calendar() -> None:
    mid_autumn_born = Birthday(calendar="lunar", month=8, day=15)
    assert is_birthday(mid_autumn_born, date(2026, 9, 25))
    assert is_birthday(mid_autumn_born, date(2027, 9, 15))
    assert not is_birthday(mid_autumn_born, date(2027, 9, 25))
    spring = Birthday(calendar="lunar", month=1, day=1)
    assert is_birthday(spring, date(2027, 2, 6))  # 正月初一 2027


@pytest.mark.parametrize(("day", "festival"), [
    (date(2027, 2, 6), "spring_festival"),
    (date(2027, 2, 7), None),                 # only the first day is greeted
    (date(2026, 9, 25), "mid_autumn"),
    (date(2026, 10, 1), "national_day"),
    (date(2027, 1, 1), "new_year"),
    (date(2026, 12, 31), None),
])
def test_festivals(day: date, festival) -> None:
    assert festival_on(day) == festival


def test_extra_festival_dates_from_configuration() -> None:
    assert festival_on(date(2026, 11, 23), {date(2026, 11, 23): "company_anniversary"}) == "company_anniversary"


def test_nobody_is_greeted_in_a_lunar_leap_month() -> None:
    # 2025-07-25 is the 1st of the leap 6th month (闰六月); the regular 6th month began 2025-06-25.
    assert lunar_days(date(2025, 7, 25)) is None
    born_6_1 = Birthday(calendar="lunar", month=6, day=1)
    assert is_birthday(born_6_1, date(2025, 6, 25))
    assert not is_birthday(born_6_1, date(2025, 7, 25))
    assert is_birthday(Birthday(calendar="lunar", month=6, day=1, leap_month=True), date(2025, 6, 25))


def test_one_selection_holds_every_birthday_greeted_that_day() -> None:
    # what the campaign asks the database for: solar and lunar together, month ends folded in
    assert birthdays_greeted(date(2027, 2, 28)) == (("solar", 2, (28, 29)), ("lunar", 1, (23,)))  # Spring Festival: Feb 6
    assert birthdays_greeted(date(2026, 4, 16)) == (("solar", 4, (16,)), ("lunar", 2, (29, 30)))
    assert birthdays_greeted(date(2025, 7, 25)) == (("solar", 7, (25,)),)  # leap month: no lunar birthdays
    assert birthdays_greeted(date(2026, 12, 31)) == (("solar", 12, (31,)), ("lunar", 11, (23,)))
