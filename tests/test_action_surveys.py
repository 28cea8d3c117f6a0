"""Survey answers through the assistant, against the real mongod: who may answer, when, and what a digit means."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Dict

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import CollectingDispatcher

from actions import surveys, verification
from actions.services import Services, use_services
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.model import Survey, TicketEvent
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, run, tracker

SENT = datetime(2026, 11, 23, 10, 0)
TICKET = "FT-20261123-0001"


@pytest.fixture(scope="module")
def domain() -> Dict[str, Any]:
    return Domain.load("domain").as_dict()


@pytest.fixture
async def svc(db: Database, gateway: SmsGateway) -> AsyncIterator[Services]:
    """A survey for contact 0000001-01 sent at 10:00; the clock stands an hour later."""
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    await db.tickets.create(factories.ticket())
    clock = FixedClock(SENT + timedelta(hours=1))
    await db.tickets.resolve(TICKET, TicketEvent(at=clock.now() - timedelta(hours=3), actor="x", action="resolve"))
    await db.tickets.record_survey(TICKET, Survey(contact_id="0000001-01", sent_at=clock.now() - timedelta(hours=1),
                                                  outcome="delivered"))
    services = Services(db, gateway, clock, Settings(mongodb_uri="unused"))
    use_services(services)
    yield services
    use_services(None)


async def test_a_digit_by_sms_records_the_score(svc: Services) -> None:
    messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service", text="4",
                                                                  channel="twilio_sms"), {})
    assert [m["response"] for m in messages] == ["utter_survey_thanks"] and messages[0]["score"] == 4
    ticket = await svc.db.tickets.get(TICKET)
    assert (ticket.survey.score, ticket.survey.channel, ticket.followup) == (4, "sms", None)
    again, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service", text="1"), {})
    assert [m["response"] for m in again] == ["utter_survey_none"]  # one answer per ticket
    assert (await svc.db.tickets.get(TICKET)).survey.score == 4


async def test_words_in_a_verified_chat_and_a_low_score_opens_a_follow_up(svc: Services) -> None:
    messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service",
                                                                  text="不满意"), {})
    assert [m["response"] for m in messages] == ["utter_survey_thanks", "utter_survey_followup"]
    ticket = await svc.db.tickets.get(TICKET)
    assert (ticket.survey.score, ticket.survey.channel, ticket.followup.manager_id) == (2, "chat", "AM-CZJ01")


async def test_only_the_surveyed_contact_of_a_known_conversation_within_72_hours(svc: Services) -> None:
    # an unverified chat; a colleague of the surveyed contact
    for slots, answer in (({}, "utter_survey_use_link"), (VERIFIED_A_EN, "utter_survey_none")):
        messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=slots, intent="rate_service",
                                                                      text="5"), {})
        assert [m["response"] for m in messages] == [answer]
    svc.clock.advance(timedelta(hours=71, minutes=1))  # the survey went out 72 h and a minute ago
    messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service",
                                                                  text="5"), {})
    assert [m["response"] for m in messages] == ["utter_survey_none"]
    assert (await svc.db.tickets.get(TICKET)).survey.score is None


async def test_with_no_survey_waiting_a_feeling_in_words_is_answered(svc: Services) -> None:
    svc.clock.advance(timedelta(hours=73))
    for text, answer in (("很不满意", "utter_survey_none_unhappy"), ("great job", "utter_survey_none_pleased"),
                         ("一般", "utter_survey_none"), ("1", "utter_survey_none")):
        messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service",
                                                                      text=text), {})
        assert [m["response"] for m in messages] == [answer], text
    assert (await svc.db.tickets.get(TICKET)).survey.score is None


async def test_not_a_score_asks_for_one(svc: Services) -> None:
    messages, _ = await run(surveys.ActionSurveyAnswer(), tracker(slots=VERIFIED_A, intent="rate_service",
                                                                  text="嗯嗯嗯"), {})
    assert [m["response"] for m in messages] == ["utter_survey_ask_score"] and messages[0]["ticket_id"] == TICKET


async def test_a_digit_inside_a_form_is_the_forms(svc: Services, domain) -> None:
    busy = tracker(slots=VERIFIED_A, intent="rate_service", text="5", active_loop="fault_form")
    assert await run(surveys.ActionSurveyAnswer(), busy, {}) == ([], [])
    # while verifying, the digit is a malformed code: asked again, no attempt used, no score
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(text="5", intent="rate_service", active_loop="verification_form")
    assert await form.validate_otp_code("5", dispatcher, t, domain) == {"otp_code": None}
    assert dispatcher.messages[-1]["response"] == "utter_code_format"
    assert (await svc.db.tickets.get(TICKET)).survey.score is None
