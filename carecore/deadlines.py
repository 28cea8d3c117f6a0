"""Deadlines that depend on business time: fault SLAs, escalation call-backs and the send window.

Everything takes the current time from the caller (an injectable clock), in the
business timezone, so tests run on fixed dates: Friday evenings, the eve of the
Spring Festival, New Year's Eve.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Dict, Optional, Tuple

import holidays


@dataclass(frozen=True)
class FaultDeadlines:
    response_due: datetime
    restore_due: datetime


def fault_hours(tier: str, sla_class: str, tier_hours: Dict[str, Tuple[float, float]],
                class_hours: Dict[str, Tuple[float, float]]) -> Tuple[float, float, str]:
    """Response and restore hours of a fault: the faster of the reporting contact's card (the green channel) and the
    circuit's SLA contract, so a circuit's contract holds whoever reports it; and which of the two set the restore."""
    try:
        by_tier = tier_hours[tier]
    except KeyError:
        raise ValueError(f"unknown tier: {tier}") from None
    try:
        by_class = class_hours[sla_class]
    except KeyError:
        raise ValueError(f"unknown SLA class: {sla_class}") from None
    set_by = "circuit" if by_class[1] < by_tier[1] else "tier"
    return min(by_tier[0], by_class[0]), min(by_tier[1], by_class[1]), set_by


def fault_deadlines(tier: str, sla_class: str, opened_at: datetime, tier_hours: Dict[str, Tuple[float, float]],
                    class_hours: Dict[str, Tuple[float, float]]) -> FaultDeadlines:
    """Deadlines of a fault opened at ``opened_at``: round-the-clock, as the SLA contracts say."""
    response_h, restore_h, _ = fault_hours(tier, sla_class, tier_hours, class_hours)
    return FaultDeadlines(opened_at + timedelta(hours=response_h), opened_at + timedelta(hours=restore_h))


def complaint_hours(tier: str, customer_class: Optional[str], reply_hours: Dict[str, float]) -> float:
    """Hours to answer a complaint: by the contact's tier, and no more than gold's for the important and group
    customers the operator's plans give priority and one-to-one service."""
    try:
        hours = reply_hours[tier]
    except KeyError:
        raise ValueError(f"unknown tier: {tier}") from None
    return min(hours, reply_hours["gold"]) if customer_class in ("important", "group") else hours


def complaint_deadline(tier: str, customer_class: Optional[str], opened_at: datetime,
                       reply_hours: Dict[str, float]) -> datetime:
    """When a complaint opened at ``opened_at`` must be answered: round the clock, as the fault deadlines."""
    return opened_at + timedelta(hours=complaint_hours(tier, customer_class, reply_hours))


@lru_cache(maxsize=8)
def _cn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=[year])


def is_business_day(day: date) -> bool:
    """A working day in mainland China: not a public holiday nor a day off in lieu, and a weekend
    day only when it is a make-up working day (调休), as the State Council's yearly notice sets them."""
    return _cn_holidays(day.year).is_working_day(day)


def next_business_morning(now: datetime, opens: int) -> datetime:
    day = now.date() + timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return datetime.combine(day, time(opens, 30), tzinfo=now.tzinfo)


def callback_deadline(now: datetime, business_hours: Tuple[int, int], within_hours: float) -> datetime:
    """When a manager calls back: within ``within_hours`` in working hours, else next morning.

    A request late in the day whose window would run past closing also goes to
    the next business morning, so nobody is promised a call at 19:00.
    """
    opens, closes = business_hours
    if is_business_day(now.date()):
        if now.hour < opens:
            return datetime.combine(now.date(), time(opens, 30), tzinfo=now.tzinfo)
        due = now + timedelta(hours=within_hours)
        if now.hour < closes and due.time() <= time(closes) and due.date() == now.date():
            return due
    return next_business_morning(now, opens)


SEND_FROM, SEND_UNTIL = time(8, 0), time(21, 0)  # when a message no one needs at night may go out


def in_send_window(now: datetime) -> bool:
    """Greetings and usage SMS go out 08:00-21:00 local time only."""
    return SEND_FROM <= now.timetz().replace(tzinfo=None) < SEND_UNTIL


def next_send_window(now: datetime) -> datetime:
    """Now if inside the window, else the next 08:00: nothing due is dropped, only delayed."""
    if in_send_window(now):
        return now
    day = now.date() if now.time() < SEND_FROM else now.date() + timedelta(days=1)
    return datetime.combine(day, SEND_FROM, tzinfo=now.tzinfo)


def waits_for_morning(now: datetime, due: datetime) -> bool:
    """Whether a message to a manager that could wake them waits for the send window: outside it, unless what
    it asks for is due before the window opens."""
    return due >= next_send_window(now) > now
