"""A circuit's availability: outages from report to restore, clipped to the span, overlaps counted once."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from carecore.availability import downtime, percent
from carecore.model import Ticket
from tests import factories

START = datetime(2026, 10, 31, 16, 0, tzinfo=timezone.utc)  # November in Shanghai
END = datetime(2026, 11, 30, 16, 0, tzinfo=timezone.utc)


def fault(ticket_id: str, opened: datetime, restored: datetime | None = None, **fields) -> Ticket:
    sla = {"response_due": opened + timedelta(hours=2), "restore_due": opened + timedelta(hours=4),
           **({"restored_at": restored} if restored else {})}
    return Ticket.parse_obj(factories.ticket(_id=ticket_id, created_at=opened, updated_at=restored or opened, sla=sla,
                                             **({"status": "resolved"} if restored else {}), **fields))


def test_outages_are_clipped_to_the_span_and_overlapping_reports_count_once() -> None:
    at = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    tickets = [
        fault("FT-20261031-0001", START - timedelta(hours=2), START + timedelta(hours=1)),  # from October: 1 h here
        fault("FT-20261110-0001", at, at + timedelta(hours=2)),
        fault("FT-20261110-0002", at + timedelta(hours=1), at + timedelta(hours=3)),  # the same outage, reported again
        fault("FT-20261110-0003", at, at + timedelta(hours=9), maintenance_id="MW-20261110-0001"),  # planned
        fault("FT-20261110-0004", at, at + timedelta(hours=5), kind="complaint"),
        fault("FT-20261130-0001", END - timedelta(minutes=30)),  # still down when the span ends
        fault("FT-20261110-0005", at, at + timedelta(hours=1), circuit_id="ZJ-LL-0000001-2"),
    ]
    assert downtime(tickets, START, END) == {"ZJ-2M-0000001-1": timedelta(hours=4, minutes=30),
                                             "ZJ-LL-0000001-2": timedelta(hours=1)}


def test_a_fault_closed_without_a_restore_ended_when_it_was_closed() -> None:
    at = datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc)
    withdrawn = Ticket.parse_obj(factories.ticket(_id="FT-20261110-0001", created_at=at, status="closed",
                                                  updated_at=at + timedelta(minutes=20)))
    assert downtime([withdrawn], START, END) == {"ZJ-2M-0000001-1": timedelta(minutes=20)}


@pytest.mark.parametrize("down, shown", [
    (timedelta(0), "100"),
    (timedelta(hours=1), "99.86"),  # of 30 days
    (timedelta(seconds=1), "99.99"),  # any time down is below 100
    (timedelta(days=31), "0.00"),
])
def test_availability_is_rounded_down(down: timedelta, shown: str) -> None:
    assert percent(down, END - START) == shown
