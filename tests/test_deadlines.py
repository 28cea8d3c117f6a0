"""Business-time arithmetic on fixed dates (Asia/Shanghai)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from carecore.config import Settings
from carecore.deadlines import (
    callback_deadline,
    complaint_deadline,
    fault_deadlines,
    fault_hours,
    in_send_window,
    is_business_day,
    next_send_window,
    waits_for_morning,
)
from carecore.model.tickets import SlaDeadlines

SH = ZoneInfo("Asia/Shanghai")
HOURS = (9, 18)


def at(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)


@pytest.mark.parametrize(("now", "expected"), [
    (at(2026, 11, 23, 10, 0), at(2026, 11, 23, 12, 0)),      # Monday morning: within 2 h
    (at(2026, 11, 23, 7, 59), at(2026, 11, 23, 9, 30)),      # before opening: same morning
    (at(2026, 11, 23, 16, 30), at(2026, 11, 24, 9, 30)),     # would run past closing
    (at(2026, 11, 27, 20, 30), at(2026, 11, 30, 9, 30)),     # Friday evening: Monday
    (at(2026, 11, 28, 11, 0), at(2026, 11, 30, 9, 30)),      # Saturday
    (at(2026, 12, 31, 19, 0), at(2027, 1, 4, 9, 30)),        # New Year's Eve: past New Year's Day and the weekend
    (at(2026, 2, 28, 23, 0), at(2026, 3, 2, 9, 30)),         # month end on a weekend
    # 调休: Saturday 14 Feb 2026 is a working day before the Spring Festival break (15-23 Feb),
    # as are Saturday 28 Feb and Sunday 20 Sep; Friday 20 Feb and Monday 23 Feb are days off in lieu.
    (at(2026, 2, 14, 10, 0), at(2026, 2, 14, 12, 0)),       # the make-up Saturday: within 2 h
    (at(2026, 2, 13, 20, 0), at(2026, 2, 14, 9, 30)),        # Friday evening: the make-up Saturday morning
    (at(2026, 2, 14, 17, 0), at(2026, 2, 24, 9, 30)),        # past closing then: after the break
    (at(2026, 2, 27, 19, 0), at(2026, 2, 28, 9, 30)),        # Friday evening: the make-up Saturday
    (at(2026, 9, 19, 11, 0), at(2026, 9, 20, 9, 30)),        # an ordinary Saturday: the make-up Sunday
])
def test_callback_deadline(now: datetime, expected: datetime) -> None:
    assert callback_deadline(now, HOURS, 2) == expected


def test_spring_festival_is_not_a_business_day() -> None:
    spring_festival_2027 = at(2027, 2, 6, 10, 0)  # 正月初一
    assert not is_business_day(spring_festival_2027.date())
    due = callback_deadline(spring_festival_2027, HOURS, 2)
    assert due.date() > spring_festival_2027.date() and is_business_day(due.date())


def test_fault_deadlines_are_the_faster_of_tier_and_circuit_class_and_configurable() -> None:
    settings = Settings()
    by_tier, by_class = settings.fault_sla_hours, settings.circuit_sla_hours
    opened = at(2027, 2, 28, 23, 30)
    diamond = fault_deadlines("diamond", "basic", opened, by_tier, by_class)
    assert (diamond.response_due, diamond.restore_due) == (at(2027, 3, 1, 1, 30), at(2027, 3, 1, 3, 30))
    vip = fault_deadlines("vip", "basic", opened, by_tier, by_class)
    assert (vip.response_due, vip.restore_due) == (at(2027, 3, 1, 7, 30), at(2027, 3, 1, 23, 30))  # basic: 8 h / 24 h
    assert fault_hours("diamond", "basic", by_tier, by_class)[2] == "tier"
    assert fault_hours("vip", "premium", by_tier, by_class) == (2, 4, "circuit")  # the contract holds for anyone
    assert fault_hours("gold", "standard", by_tier, by_class) == (4, 8, "tier")  # a tie is the card's
    custom = Settings(fault_sla_hours={"diamond": (1, 2), "gold": (4, 8), "silver": (8, 24), "vip": (24, 48)})
    assert fault_deadlines("diamond", "premium", opened, custom.fault_sla_hours, by_class).restore_due == at(
        2027, 3, 1, 1, 30)
    with pytest.raises(ValueError, match="unknown tier"):
        fault_hours("platinum", "basic", by_tier, by_class)
    with pytest.raises(ValueError, match="unknown SLA class"):
        fault_hours("gold", "bronze", by_tier, by_class)
    with pytest.raises(ValueError):
        Settings(fault_sla_hours={"diamond": (4, 2), "gold": (4, 8), "silver": (8, 24), "vip": (24, 48)})
    with pytest.raises(ValueError, match="lacks SLA classes"):
        Settings(circuit_sla_hours={"premium": (2, 4), "standard": (4, 8)})
    with pytest.raises(ValueError, match="response <= restore"):
        Settings(circuit_sla_hours={"premium": (2, 4), "standard": (4, 8), "basic": (0, 24)})


def test_fault_sla_hours_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAULT_SLA_HOURS", '{"diamond": [1, 3], "gold": [4, 8], "silver": [8, 24], "vip": [24, 48]}')
    assert Settings().fault_sla_hours["diamond"] == (1, 3)


def test_complaint_reply_deadlines_by_tier_with_gold_at_most_for_important_and_group() -> None:
    hours = Settings().complaint_reply_hours
    opened = at(2026, 12, 31, 20, 0)  # over the year end
    assert complaint_deadline("diamond", None, opened, hours) == at(2027, 1, 1, 0, 0)
    assert complaint_deadline("vip", "strategic", opened, hours) == at(2027, 1, 2, 20, 0)
    assert complaint_deadline("vip", "important", opened, hours) == at(2027, 1, 1, 4, 0)  # gold's 8 h
    assert complaint_deadline("silver", "group", opened, hours) == at(2027, 1, 1, 4, 0)
    assert complaint_deadline("diamond", "group", opened, hours) == at(2027, 1, 1, 0, 0)  # already sooner
    with pytest.raises(ValueError):
        complaint_deadline("platinum", None, opened, hours)


def test_complaint_reply_hours_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLAINT_REPLY_HOURS", "24")  # one number, as before: every tier
    assert set(Settings().complaint_reply_hours.values()) == {24.0}
    monkeypatch.setenv("COMPLAINT_REPLY_HOURS", '{"diamond": 2, "gold": 4, "silver": 12, "vip": 24}')
    assert Settings().complaint_reply_hours["diamond"] == 2
    monkeypatch.setenv("COMPLAINT_REPLY_HOURS", '{"diamond": 2}')
    with pytest.raises(ValueError):
        Settings()


def test_a_tickets_deadlines_are_met_missed_or_pending_as_the_kpis_count_them() -> None:
    t0 = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    due = {"response_due": t0 + timedelta(hours=2), "restore_due": t0 + timedelta(hours=4)}
    restored_in_time = SlaDeadlines(**due, restored_at=t0 + timedelta(hours=1))  # a restore answers the response too
    assert restored_in_time.outcome(t0 + timedelta(days=1)) == "met"
    assert SlaDeadlines(**due).outcome(t0 + timedelta(hours=1)) == "pending"
    assert SlaDeadlines(**due).outcome(t0 + timedelta(hours=3)) == "missed"  # the response deadline passed unmet
    late = SlaDeadlines(response_due=t0, responded_at=t0 + timedelta(minutes=1))  # a complaint answered late
    assert late.outcome(t0) == "missed"


def test_the_unmet_deadlines_soonest_first() -> None:
    t0 = datetime(2026, 11, 23, 10, 0, tzinfo=SH)
    fault = SlaDeadlines(response_due=t0 + timedelta(hours=2), restore_due=t0 + timedelta(hours=1))
    assert fault.unmet() == [t0 + timedelta(hours=1), t0 + timedelta(hours=2)]
    assert fault.copy(update={"responded_at": t0}).unmet() == [t0 + timedelta(hours=1)]
    assert fault.copy(update={"restored_at": t0}).deadline("restore") == (t0 + timedelta(hours=1), t0)
    assert SlaDeadlines(response_due=t0, responded_at=t0).unmet() == []  # a complaint answered


@pytest.mark.parametrize(("hh", "mm", "inside"), [(7, 59, False), (8, 0, True), (20, 59, True), (21, 0, False)])
def test_send_window_edges(hh: int, mm: int, inside: bool) -> None:
    assert in_send_window(datetime(2026, 11, 23, hh, mm, tzinfo=SH)) is inside


def test_outside_the_window_waits_for_the_next_morning() -> None:
    assert next_send_window(datetime(2026, 11, 23, 21, 0, tzinfo=SH)) == datetime(2026, 11, 24, 8, 0, tzinfo=SH)
    assert next_send_window(datetime(2026, 12, 31, 23, 30, tzinfo=SH)) == datetime(2027, 1, 1, 8, 0, tzinfo=SH)
    assert next_send_window(datetime(2026, 11, 23, 7, 59, tzinfo=SH)) == datetime(2026, 11, 23, 8, 0, tzinfo=SH)
    now = datetime(2026, 11, 23, 12, 0, tzinfo=SH)
    assert next_send_window(now) == now


@pytest.mark.parametrize(("now", "due", "waits"), [
    (at(2026, 11, 23, 20, 59), at(2026, 11, 24, 12, 0), False),  # inside the send window: at once
    (at(2026, 11, 23, 21, 0), at(2026, 11, 24, 12, 0), True),  # at night, due after the window opens
    (at(2026, 11, 23, 21, 0), at(2026, 11, 24, 7, 59), False),  # due before it opens: at once
    (at(2026, 11, 23, 23, 0), at(2026, 11, 24, 8, 0), True),  # due as it opens: then
    (at(2026, 12, 31, 23, 30), at(2027, 1, 1, 9, 0), True),  # across the year's end
])
def test_what_waits_for_the_morning(now: datetime, due: datetime, waits: bool) -> None:
    assert waits_for_morning(now, due) is waits
