"""What a ticket says of itself, read the same by every answer and job."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from carecore.model import Ticket
from tests import factories

AT = datetime(2026, 11, 23, 4, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize("fields, withdrawn", [
    ({"status": "closed"}, True),  # a false alarm, closed with no restore: nothing was down
    ({"status": "closed", "resolved_at": AT}, False),  # closed after its fix
    ({"status": "closed", "sla": {"response_due": AT, "restore_due": AT, "restored_at": AT}}, False),
    ({"status": "resolved", "resolved_at": AT}, False),
    ({"status": "open"}, False),
])
def test_a_ticket_closed_with_no_restore_is_withdrawn(fields, withdrawn: bool) -> None:
    assert Ticket.parse_obj(factories.ticket(**fields)).withdrawn is withdrawn
