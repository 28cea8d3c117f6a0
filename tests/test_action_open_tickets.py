"""What a status question or a chase is told when nothing is open: the newest ticket, if resolved lately."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import open_tickets
from actions.open_tickets import RESOLVED_LATELY, TicketsAsked
from actions.services import Services
from carecore.clock import as_stored
from carecore.model import Ticket
from tests import factories
from tests.action_kit import tracker


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


@pytest.mark.parametrize("text, status, told", [
    ("修好了会通知我吗", "acknowledged", True),
    ("will you let me know when it's fixed?", "in_progress", True),
    ("工单进度怎么样", "acknowledged", False),  # not asked
    ("will we hear from you once it's fixed?", "acknowledged", True),
    ("when will I hear back?", "acknowledged", False),  # when, which the deadline answers
    ("修好了会通知我吗", "resolved", False),  # nothing left open to be told of
])
def test_asked_whether_a_resolution_is_told_the_answer_is_yes(text: str, status: str, told: bool) -> None:
    dispatcher = CollectingDispatcher()
    ticket = Ticket.parse_obj(factories.ticket(status=status))
    open_tickets.say_resolution_notice(tracker(intent="ask_ticket_status", text=text), dispatcher, [ticket])
    assert [m["response"] for m in dispatcher.messages] == (["utter_resolution_notice"] if told else [])
