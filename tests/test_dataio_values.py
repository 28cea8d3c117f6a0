"""Cell values as operators write them: every form read, and written back so that it reads the same."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest

from care_scheduler.dataio import values as v

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("cell", ["yes", "Y", "true", "1", "是", "对"])
def test_true_words(cell: str) -> None:
    assert v.boolean(cell) is True


@pytest.mark.parametrize("cell", ["no", "N", "False", "0", "否"])
def test_false_words(cell: str) -> None:
    assert v.boolean(cell) is False


def test_a_boolean_that_is_neither_is_refused() -> None:
    with pytest.raises(v.CellError, match="yes/no"):
        v.boolean("maybe")


@pytest.mark.parametrize(("cell", "fen"), [("9036.05", 903605), ("1,234.5", 123450), ("0", 0), ("¥12", 1200)])
def test_yuan_become_whole_fen(cell: str, fen: int) -> None:
    assert v.yuan_to_fen(cell) == fen and v.yuan_to_fen(v.format_fen(fen)) == fen


@pytest.mark.parametrize("cell", ["1.005", "-1", "abc"])
def test_amounts_with_fractions_of_a_fen_or_below_zero_are_refused(cell: str) -> None:
    with pytest.raises(v.CellError):
        v.yuan_to_fen(cell)


@pytest.mark.parametrize(("cell", "month"), [("2026-10", "2026-10"), ("2026/1", "2026-01"), ("202612", "2026-12"),
                                             ("2026年3月", "2026-03")])
def test_months(cell: str, month: str) -> None:
    assert v.month(cell) == month


def test_a_thirteenth_month_is_refused() -> None:
    with pytest.raises(v.CellError):
        v.month("2026-13")


@pytest.mark.parametrize(("cell", "day"), [("2026-11-03", "2026-11-03"), ("2026/1/9", "2026-01-09"),
                                           ("2028年2月29日", "2028-02-29")])
def test_days(cell: str, day: str) -> None:
    assert v.day(cell) == day


@pytest.mark.parametrize("cell", ["2027-02-29", "2026-11", "11/03/2026"])
def test_an_impossible_or_unreadable_day_is_refused(cell: str) -> None:
    with pytest.raises(v.CellError):
        v.day(cell)


def test_id_lists_take_the_separators_people_type() -> None:
    assert v.id_list(" C-1、C-2，C-3; C-4 C-5 ") == ["C-1", "C-2", "C-3", "C-4", "C-5"]
    with pytest.raises(v.CellError):
        v.id_list("C-1、王伟")


@pytest.mark.parametrize(("cell", "parts"), [("1988-02-29", (1988, 2, 29)), ("08-15", (None, 8, 15)),
                                             ("1975/4/3", (1975, 4, 3))])
def test_birthdays_with_or_without_a_year(cell: str, parts: tuple) -> None:
    assert v.birthday_date(cell) == parts


def test_calendars_and_their_leap_month() -> None:
    assert v.calendar("") == ("solar", False) and v.calendar("农历") == ("lunar", False)
    assert v.calendar("lunar-leap") == ("lunar", True) and v.calendar("农历闰月") == ("lunar", True)
    with pytest.raises(v.CellError):
        v.calendar("julian")


def test_a_stored_birthday_is_written_as_it_is_read() -> None:
    assert v.format_birthday({"calendar": "lunar", "month": 4, "day": 15, "year": 2020, "leap_month": True}) == (
        "2020-04-15", "lunar-leap")
    assert v.format_birthday({"calendar": "solar", "month": 2, "day": 29}) == ("02-29", "solar")
    assert v.format_birthday(None) == ("", "")


def test_enum_cells_take_the_value_or_either_label() -> None:
    tier = v.choice("tier")
    assert tier("钻石卡") == tier("Diamond") == tier("diamond") == "diamond"
    with pytest.raises(v.CellError, match="diamond/钻石卡, gold/金卡, silver/银卡, vip/贵宾卡"):
        tier("platinum")


def test_times_are_business_time_unless_they_say_otherwise() -> None:
    assert v.moment("2026-11-01 09:30", SHANGHAI) == datetime(2026, 11, 1, 9, 30, tzinfo=SHANGHAI)
    assert v.moment("2026-11-01", SHANGHAI) == datetime(2026, 11, 1, tzinfo=SHANGHAI)
    assert v.moment("2026-11-01T01:30:00Z", SHANGHAI) == datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)
    assert v.moment("2026-11-01 09:30:00+0800", SHANGHAI) == datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc)
    with pytest.raises(v.CellError, match="impossible"):
        v.moment("2026-02-30", SHANGHAI)


def test_a_time_is_kept_to_the_millisecond_and_written_back_the_same() -> None:
    at = v.moment("2026-11-01 09:30:00.123456", SHANGHAI)
    assert at.microsecond == 123000
    assert v.moment(v.format_moment(at, SHANGHAI), SHANGHAI) == at
    assert v.format_moment(datetime(2026, 11, 1, 1, 30, tzinfo=timezone.utc), SHANGHAI) == "2026-11-01 09:30:00+08:00"
