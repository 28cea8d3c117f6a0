"""What a status question or a chase is told when nothing is open: the newest ticket, if resolved lately."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import open_tickets
from actions.open_tickets import RESOLVED_LATELY, TicketsAsked
from actions.services import Services
from carecore.clock import as_stored
from tests import factories


@pytest.mark.parametrize("resolved_ago, named", [
    (RESOLVED_LATELY, True),  # a week to the minute: still named
    (RESOLVED_LATELY + timedelta(minutes=1), False),
])
async def test_with_none_open_the_newest_resolved_lately_is_named(svc: Services, resolved_ago, named) -> None:
    resolved = as_stored(svc.clock.now() - resolved_ago)
    await svc.db.tickets.create(factories.ticket(status="resolved", resolved_at=resolved))
    dispatcher = CollectingDispatcher()
    await open_tickets.say_none_open(svc, dispatcher, "KA0000001", TicketsAsked(), "zh")
    told = [(m["response"], m.get("ticket_id")) for m in dispatcher.messages]
    assert told == [("utter_no_open_tickets", None)] + ([("utter_latest_resolved", "FT-20261123-0001")] if named else [])
