"""The one clock of the product.

Birthdays, quiet hours, SLA deadlines and month ends all depend on "now" in the
business timezone. Everything that needs the time takes a ``Clock`` so tests can
pin it to fixed dates (Feb 29, lunar month ends, year ends).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Protocol
from zoneinfo import ZoneInfo

DEFAULT_TZ = "Asia/Shanghai"


class Clock(Protocol):
    tz: ZoneInfo

    def now(self) -> datetime:
        """Aware datetime in the clock's timezone."""

    def today(self) -> date:
        """Today's date in the clock's timezone."""


class SystemClock:
    def __init__(self, tz: str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz)

    def now(self) -> datetime:
        return datetime.now(self.tz)

    def today(self) -> date:
        return self.now().date()


class FixedClock:
    """A clock that stands still until moved; for tests and replays."""

    def __init__(self, at: datetime, tz: str = DEFAULT_TZ) -> None:
        self.tz = ZoneInfo(tz)
        self._now = at if at.tzinfo else at.replace(tzinfo=self.tz)

    def now(self) -> datetime:
        return self._now.astimezone(self.tz)

    def today(self) -> date:
        return self.now().date()

    def set(self, at: datetime) -> None:
        self._now = at if at.tzinfo else at.replace(tzinfo=self.tz)

    def advance(self, delta: timedelta) -> None:
        self._now = self._now + delta


_SUB_MILLISECOND = [timedelta(microseconds=n) for n in range(1000)]


def to_millisecond(moment: datetime) -> datetime:
    """``moment`` cut to the millisecond BSON dates keep.

    Subtracting a ready-made timedelta takes half the time of ``replace(microsecond=...)``,
    which parses its keyword each call; a campaign does this three times per message.
    """
    return moment - _SUB_MILLISECOND[moment.microsecond % 1000]


def utcnow() -> datetime:
    """Aware UTC now for audit timestamps, cut to the millisecond BSON dates keep."""
    return to_millisecond(datetime.now(timezone.utc))


def as_stored(moment: datetime) -> datetime:
    """``moment`` as the database keeps it (UTC, milliseconds), so deadlines counted from it match what is read back."""
    return to_millisecond(moment.astimezone(timezone.utc))
