"""The clock's UTC stamps: cut to the millisecond BSON keeps, whatever the moment."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from carecore.clock import to_millisecond, utcnow


@given(st.datetimes(timezones=st.just(timezone.utc)))
def test_to_millisecond_drops_only_the_microseconds_below_a_millisecond(moment: datetime) -> None:
    cut = to_millisecond(moment)
    assert cut == moment.replace(microsecond=moment.microsecond // 1000 * 1000)
    assert cut.tzinfo is moment.tzinfo


def test_utcnow_is_aware_utc_to_the_millisecond() -> None:
    now = utcnow()
    assert now.tzinfo is timezone.utc and now.microsecond % 1000 == 0
    assert abs(datetime.now(timezone.utc) - now) < timedelta(seconds=1)
