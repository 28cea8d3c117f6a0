"""Month expressions customers use, on fixed dates including year ends."""

from __future__ import annotations

from datetime import date

import pytest

from carecore.months import parse_month


@pytest.mark.parametrize(("text", "today", "expected"), [
    ("上个月", date(2026, 11, 23), "2026-10"),
    ("上月", date(2027, 1, 1), "2026-12"),
    ("last month", date(2027, 1, 31), "2026-12"),
    ("这个月", date(2026, 11, 23), "2026-11"),
    ("10月", date(2026, 11, 23), "2026-10"),
    ("十二月", date(2027, 1, 5), "2026-12"),
    ("十一月", date(2026, 11, 23), "2026-11"),
    ("7月份", date(2026, 3, 1), "2025-07"),
    ("October", date(2026, 11, 23), "2026-10"),
    ("Dec", date(2027, 1, 2), "2026-12"),
    ("in May", date(2026, 11, 23), "2026-05"),
    ("2025年2月", date(2026, 11, 23), "2025-02"),
    ("2024-02", date(2026, 11, 23), "2024-02"),
    ("账单", date(2026, 11, 23), None),
    (None, date(2026, 11, 23), None),
])
def test_parse_month(text, today, expected) -> None:
    assert parse_month(text, today) == expected
