"""Survey answers through the assistant: a score by SMS or chat, for a survey sent in the last
``SURVEY_REPLY_HOURS``.

Only a conversation that knows the contact counts (an SMS conversation bound to its number, or a
verified chat), and never while a form runs: inside a form a digit answers the form (a code, a
circuit choice), so this action then does nothing and the form asks its question again.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import verified_identity
from actions.services import services
from carecore.model import SurveyChannel
from carecore.repository import DatabaseError
from carecore.surveys import LOW_SCORE, SATISFIED, AlreadyAnswered, Answer, feeling_of, record_answer, score_of

log = logging.getLogger(__name__)
SMS_CHANNEL = "twilio_sms"


def _no_survey_for(text: str) -> str:
    """With no survey waiting, an unhappy word is offered a complaint and a pleased one thanked, not just told so."""
    feeling = feeling_of(text)
    if feeling is not None and feeling <= LOW_SCORE:
        return "utter_survey_none_unhappy"
    if feeling is not None and feeling >= SATISFIED[0]:
        return "utter_survey_none_pleased"
    return "utter_survey_none"


class ActionSurveyAnswer(Action):
    def name(self) -> str:
        return "action_survey_answer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Any]:
        if tracker.active_loop_name:
            return []
        svc = await services()
        try:
            who = await verified_identity(tracker, svc)
            if who is None:
                dispatcher.utter_message(response="utter_survey_use_link")
                return []
            now = svc.clock.now()
            contact = who[1]
            ticket = await svc.db.tickets.survey_waiting(contact.contact_id,
                                                         now - timedelta(hours=svc.settings.survey_reply_hours))
            if ticket is None:
                dispatcher.utter_message(response=_no_survey_for(tracker.latest_message.get("text") or ""))
                return []
            score = score_of(tracker.latest_message.get("text") or "")
            if score is None:
                dispatcher.utter_message(response="utter_survey_ask_score", ticket_id=ticket.id)
                return []
            channel = SurveyChannel.sms if tracker.get_latest_input_channel() == SMS_CHANNEL else SurveyChannel.chat
            await record_answer(svc.db, svc.settings, ticket, Answer(score, channel), now,
                                actor=f"contact:{contact.contact_id}")
        except AlreadyAnswered:  # answered through the link a moment ago
            dispatcher.utter_message(response="utter_survey_none")
            return []
        except DatabaseError:
            log.exception("survey answer: database unavailable")
            dispatcher.utter_message(response="utter_service_unavailable")
            return []
        dispatcher.utter_message(response="utter_survey_thanks", score=score, ticket_id=ticket.id)
        if score <= LOW_SCORE:
            dispatcher.utter_message(response="utter_survey_followup")
        return []
