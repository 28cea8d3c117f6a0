"""Who a customer's chase (催办) goes to, and which chases wait for the morning."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List
from zoneinfo import ZoneInfo

import pytest

from carecore import ticket_chase
from carecore.model import Ticket
from carecore.repository import Database
from tests import factories

SH = ZoneInfo("Asia/Shanghai")
NIGHT = datetime(2026, 12, 31, 23, 30, tzinfo=SH)  # the year's last night


def ticket(**fields: Any) -> Ticket:
    return Ticket.parse_obj(factories.ticket(**fields))


def due_in(hours: float, **more: Any) -> Dict[str, Any]:
    return {"response_due": NIGHT + timedelta(hours=hours), **more}


@pytest.mark.parametrize(("sla", "waits"), [
    (due_in(10), True),  # its response due at 09:30 on New Year's Day: the chase waits for 08:00
    (due_in(4), False),  # due at 03:30: paged at once (the window's edges: test_deadlines)
    (due_in(-1), False),  # already overdue: paged at once
    (due_in(-1, responded_at=NIGHT, restore_due=NIGHT + timedelta(hours=12)), True),  # only the restore is left
    (due_in(-1, responded_at=NIGHT), True),  # every deadline met: nothing is due before the morning
])
def test_which_chases_wait_for_the_morning(sla: Dict[str, Any], waits: bool) -> None:
    assert ticket_chase.waits(NIGHT, [ticket(sla=sla)]) is waits
    assert ticket_chase.waits(NIGHT, [ticket(sla=sla), ticket(sla=due_in(2))]) is False  # one due tonight: at once
    assert ticket_chase.waits(NIGHT.replace(hour=10), [ticket(sla=sla)]) is False  # in the send window


def test_a_chase_held_overnight_is_sent_when_the_window_opens() -> None:
    held = NIGHT.astimezone(timezone.utc)  # stored in UTC
    morning = ticket_chase.morning_of(held, SH)
    assert morning == datetime(2027, 1, 1, 8, 0, tzinfo=SH)
    assert ticket_chase.window_of(morning) == "20270101-4"


async def test_the_tickets_go_to_whoever_answers_them(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    fault = ticket()
    about = ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None, category="manager",
                   manager_id="AM-CZJ01")

    async def grouped() -> List[Any]:
        return [(c.above, c.manager.id if c.manager else None, [t.id for t in c.tickets])
                for c in await ticket_chase.chases(db, "AM-CZJ01", [about, fault])]

    assert await grouped() == [(False, "AM-CZJ01", ["FT-20261123-0001"]), (True, "AM-PZJ", ["CP-20261123-0003"])]
    for manager_id in ("AM-PZJ", "AM-G001"):
        await db.managers.set_active(manager_id, False)
    # nobody active above the manager: they answer it themselves, in the same chase
    assert await grouped() == [(False, "AM-CZJ01", ["CP-20261123-0003", "FT-20261123-0001"])]
