"""Which day is whose: birthdays (solar and lunar) and festivals.

Pure functions of a date or an aware datetime, so every rule is tested on fixed
dates: Feb 29 in common years, lunar months of 29 days, leap months, year ends.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from functools import lru_cache
from typing import Dict, List, Mapping, Optional, Tuple

import holidays
from lunardate import LunarDate

from carecore.model import Birthday

# Festivals greeted, by the name the holidays package gives their first day.
FESTIVALS: Dict[str, str] = {
    "New Year's Day": "new_year",
    "Chinese New Year (Spring Festival)": "spring_festival",
    "Mid-Autumn Festival": "mid_autumn",
    "National Day": "national_day",
}


def _is_leap_year(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def solar_days(today: date) -> Tuple[int, List[int]]:
    """(month, days) of solar birthdays greeted today: Feb 29 births on Feb 28 in common years."""
    if (today.month, today.day) == (2, 28) and not _is_leap_year(today.year):
        return 2, [28, 29]
    return today.month, [today.day]


def lunar_days(today: date) -> Optional[Tuple[int, List[int]]]:
    """(lunar month, days) of lunar birthdays greeted today, or None.

    A 30th in a 29-day month is greeted on the 29th, the month's last day. In a
    leap month (闰月) nobody is greeted: birthdays are kept in the regular month
    of that number, leap-month births included.
    """
    lunar = LunarDate.from_solar_date(today.year, today.month, today.day)
    if lunar.isLeapMonth:
        return None
    tomorrow = today + timedelta(days=1)
    next_day = LunarDate.from_solar_date(tomorrow.year, tomorrow.month, tomorrow.day)
    if lunar.day == 29 and next_day.day == 1:
        return lunar.month, [29, 30]
    return lunar.month, [lunar.day]


@lru_cache(maxsize=64)
def birthdays_greeted(today: date) -> Tuple[Tuple[str, int, Tuple[int, ...]], ...]:
    """(calendar, month, days) of every birthday greeted today: the campaign's one selection.

    Cached (tuples, so nobody can change a shared answer): the campaign asks once per
    contact it checks, and each answer takes two lunar conversions.
    """
    month, days = solar_days(today)
    greeted = [("solar", month, tuple(days))]
    lunar = lunar_days(today)
    if lunar is not None:
        greeted.append(("lunar", lunar[0], tuple(lunar[1])))
    return tuple(greeted)


def is_birthday(birthday: Optional[Birthday], today: date) -> bool:
    return birthday is not None and any(birthday.calendar == calendar and birthday.month == month and birthday.day in days
               for calendar, month, days in birthdays_greeted(today))


@lru_cache(maxsize=16)
def _festival_days(year: int) -> Dict[date, str]:
    first: Dict[str, date] = {}
    for day, name in sorted(holidays.country_holidays("CN", years=[year]).items()):
        for label in str(name).split("; "):
            base = re.sub(r"\s*\((?:observed|substituted[^)]*)\)\s*$", "", label)
            if base in FESTIVALS and FESTIVALS[base] not in first:
                first[FESTIVALS[base]] = day
    return {day: key for key, day in first.items()}


def festival_on(today: date, extra: Optional[Mapping[date, str]] = None) -> Optional[str]:
    """The festival greeted today (its first day only), configured extra dates included."""
    if extra and today in extra:
        return extra[today]
    return _festival_days(today.year).get(today)
