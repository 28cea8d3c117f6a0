"""Twilio's request rules as the emulator applies them, one by one."""

from __future__ import annotations

from datetime import date

import pytest

from localrun.twilio_emulator.resources import ListQuery, Senders, sent_date


@pytest.mark.parametrize(("value", "day"), [
    ("2008-01-02", date(2008, 1, 2)),
    ("06/11/2019 22:05:25 MST", date(2019, 6, 11)),  # a zone name the parser does not know: read as GMT
    ("2019-06-11 22:05:25.000", date(2019, 6, 11)),
    ("Wed, 19 Jun 2019 22:04:00 -0000", date(2019, 6, 19)),
    ("Wed, 19 Jun 2019 22:04:00 -0500", date(2019, 6, 20)),  # 03:04 GMT the next day
    ("2026-12-04T00:00:00Z", date(2026, 12, 4)),  # what twilio-python sends
    ("2024-02-29", date(2024, 2, 29)),
])
def test_date_filters_name_a_gmt_day(value: str, day: date) -> None:
    assert sent_date(value) == day


@pytest.mark.parametrize("value", ["yesterday-ish", "2023-02-29", ""])
def test_impossible_date_filters_are_refused(value: str) -> None:
    with pytest.raises(ValueError):
        ListQuery.parse({"DateSent>": value})


def test_list_filters_compare_as_twilio_does() -> None:
    message = {"to": "+8613800138000", "from": "+8610690000", "date_sent": "Fri, 04 Dec 2026 23:30:00 +0000"}
    assert ListQuery.parse({"To": "138 0013 8000", "DateSent": "2026-12-04"}).matches(message)
    assert ListQuery.parse({"DateSent>": "2026-12-04", "DateSent<": "2026-12-04"}).matches(message)
    assert not ListQuery.parse({"DateSent>": "2026-12-05"}).matches(message)
    assert not ListQuery.parse({"From": "+8610690001"}).matches(message)
    assert not ListQuery.parse({"To": "12"}).matches(message)


def test_a_service_sends_to_one_recipient_from_one_number() -> None:
    senders = Senders(("+8610690000", "+8610690001"), {"MG1": ("+8610690000", "+8610690001")})
    picks = {senders.pick("MG1", f"+861380013800{i}") for i in range(10)}
    assert picks == {"+8610690000", "+8610690001"}
    assert len({senders.pick("MG1", "+8613800138000") for _ in range(5)}) == 1
