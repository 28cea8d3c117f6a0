"""Cell values as operators write them, read into stored values and written back the same way.

One parser and one formatter per kind of value, so that an export re-imports unchanged: what
``format_*`` writes, ``parse_*`` reads back to the same stored value.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any, Dict, Mapping, Optional, Tuple
from zoneinfo import ZoneInfo

from carecore.model import ID_PATTERN
from carecore.texts import LABELS


class CellError(ValueError):
    """A cell that cannot be read; the message is the reason shown to the operator."""


TRUE_WORDS = {"yes", "y", "true", "t", "1", "是", "对"}
FALSE_WORDS = {"no", "n", "false", "f", "0", "否", "不", ""}
_ID = re.compile(ID_PATTERN)


def text(value: str) -> str:
    return value


def identifier(value: str) -> str:
    if not _ID.match(value):
        raise CellError("an id is 1 to 40 letters, digits, '-' or '_'")
    return value


def boolean(value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise CellError("expected yes/no, true/false, 1/0 or 是/否")


def format_boolean(value: Any) -> str:
    return "yes" if value else "no"


def whole_number(value: str, low: int, high: Optional[int] = None) -> int:
    try:
        number = Decimal(value.replace(",", ""))
    except InvalidOperation:
        raise CellError("not a number") from None
    if number != number.to_integral_value() or number < low or (high is not None and number > high):
        raise CellError(f"a whole number from {low}" + (f" to {high}" if high is not None else " up"))
    return int(number)


def yuan_to_fen(value: str) -> int:
    """An amount in yuan (``1,234.56``) as whole fen; more than two decimals is refused, not rounded."""
    try:
        amount = Decimal(value.replace(",", "").replace("¥", "").replace("元", "").strip())
    except InvalidOperation:
        raise CellError("not an amount in yuan") from None
    fen = amount * 100
    if amount < 0 or fen != fen.to_integral_value():
        raise CellError("an amount in yuan, at least 0, with at most two decimals")
    return int(fen)


def format_fen(fen: Any) -> str:
    return f"{Decimal(int(fen)) / 100:.2f}"


_MONTH = re.compile(r"^(\d{4})[-/.年]?(\d{1,2})月?$")


def month(value: str) -> str:
    """``2026-10``, ``2026/10``, ``202610`` or ``2026年10月`` as ``2026-10``."""
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise CellError("a month is YYYY-MM")
    return f"{int(match.group(1)):04d}-{int(match.group(2)):02d}"


_DAY = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")


def day(value: str) -> str:
    """``2026-11-20``, ``2026/11/20`` or ``2026年11月20日`` as ``2026-11-20``; an impossible day is refused."""
    match = _DAY.match(value.strip())
    if not match:
        raise CellError("a day is YYYY-MM-DD")
    try:
        return date(*(int(part) for part in match.groups())).isoformat()
    except ValueError:
        raise CellError("no such day") from None


def id_list(value: str) -> list:
    """Ids separated by commas, semicolons, 、 or spaces (``C-1、C-2``)."""
    return [identifier(part) for part in re.split(r"[\s,，;；、/]+", value.strip()) if part]


_BIRTHDAY = re.compile(r"^(?:(\d{4})[-/.])?(\d{1,2})[-/.](\d{1,2})$")


def birthday_date(value: str) -> Tuple[Optional[int], int, int]:
    """``YYYY-MM-DD``, or ``MM-DD`` when the year is unknown: (year or None, month, day), not yet checked."""
    match = _BIRTHDAY.match(value.strip())
    if not match:
        raise CellError("a birthday is YYYY-MM-DD, or MM-DD when the year is unknown")
    year = int(match.group(1)) if match.group(1) else None
    return year, int(match.group(2)), int(match.group(3))


CALENDARS = {"solar": ("solar", False), "lunar": ("lunar", False), "lunar-leap": ("lunar", True),
             "公历": ("solar", False), "阳历": ("solar", False), "新历": ("solar", False),
             "农历": ("lunar", False), "阴历": ("lunar", False), "农历闰月": ("lunar", True), "闰月": ("lunar", True)}


def calendar(value: str) -> Tuple[str, bool]:
    """The birthday's calendar and whether it is a leap (闰) month; empty means solar."""
    found = CALENDARS.get(value.strip().lower() or "solar")
    if found is None:
        raise CellError("birthday_calendar is solar, lunar or lunar-leap")
    return found


def format_birthday(birthday: Optional[Mapping[str, Any]]) -> Tuple[str, str]:
    """The birthday and birthday_calendar cells of a stored birthday."""
    if not birthday:
        return "", ""
    day = f"{birthday['month']:02d}-{birthday['day']:02d}"
    if birthday.get("year"):
        day = f"{birthday['year']:04d}-{day}"
    kind = "lunar-leap" if birthday.get("leap_month") else birthday.get("calendar", "solar")
    return day, kind


def choice(kind: str, extra: Optional[Dict[str, str]] = None) -> Any:
    """A parser for an enum: its value, or its Chinese or English label (``carecore.texts``), any case."""
    words: Dict[str, str] = {}
    for value, (zh, en) in LABELS[kind].items():
        words.update({value.lower(): value, zh.lower(): value, en.lower(): value})
    words.update(extra or {})
    allowed = ", ".join(f"{value}/{zh}" for value, (zh, _) in LABELS[kind].items())  # as either header set reads

    def parse(cell: str) -> str:
        found = words.get(cell.strip().lower())
        if found is None:
            raise CellError(f"unknown {kind.replace('_', ' ')} {cell[:40]!r}; one of {allowed}")
        return found
    return parse


def customer_class(cell: str) -> str:
    """重要客户, 战略客户 or 集团客户 (or their values); high value is not a class but the monthly job's flag."""
    if cell.strip().lower() in ("high_value", "high-value", "高值客户", "高值"):
        raise CellError("high value is not a class: it is set each month from billed revenue; "
                        "a class is important, strategic, group or empty")
    return _CLASS(cell)


_MOMENT = re.compile(r"^(\d{4})[-/](\d{1,2})[-/](\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
                     r"\s*(Z|[+-]\d{2}:?\d{2})?$")


def moment(value: str, tz: ZoneInfo) -> datetime:
    """``2026-11-01``, ``2026-11-01 09:30[:00]`` (business time) or ISO 8601 with an offset, as an aware time."""
    match = _MOMENT.match(value.strip())
    if not match:
        raise CellError("a time is YYYY-MM-DD HH:MM[:SS], in business time unless an offset is given")
    y, mo, d, hh, mm, ss, frac, offset = match.groups()
    try:
        # to the millisecond, as MongoDB keeps it: a re-import then finds the same value
        at = datetime(int(y), int(mo), int(d), int(hh or 0), int(mm or 0), int(ss or 0),
                      int((frac or "0")[:3].ljust(3, "0")) * 1000)
    except ValueError as exc:
        raise CellError(f"impossible time: {exc}") from None
    if offset is None:
        return at.replace(tzinfo=tz)
    if offset == "Z":
        return at.replace(tzinfo=timezone.utc)
    digits = offset[1:].replace(":", "")
    shift = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
    return at.replace(tzinfo=timezone(shift if offset[0] == "+" else -shift))


def format_moment(value: Optional[datetime], tz: ZoneInfo) -> str:
    """Business time with its offset, to the millisecond MongoDB keeps (seconds when there are none)."""
    if value is None:
        return ""
    local = value.astimezone(tz)
    spec = "seconds" if local.microsecond == 0 else "milliseconds"
    return local.isoformat(sep=" ", timespec=spec)


def end_of_day(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(23, 59, 59), tzinfo=tz)


_CLASS = choice("customer_class", {"重要": "important", "战略": "strategic", "集团": "group"})
