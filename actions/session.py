"""Session start: profile loading (the reply-language slot is filled in the Rasa server: ``bot/slot_mappings.py``)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted
from rasa_sdk.executor import CollectingDispatcher

from actions.common import identity_slots
from actions.services import services
from carecore.identity import phone_from_sender_id
from carecore.phones import mask
from carecore.repository import DatabaseError

log = logging.getLogger(__name__)


class ActionSessionStart(Action):
    """Identify an SMS sender from the number Twilio vouched for; chat users start unverified."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        events: List[Dict[str, Any]] = [SessionStarted()]
        svc = await services()
        phone = phone_from_sender_id(tracker.sender_id, svc.settings.sender_id_secret)
        if phone:
            try:
                found = await svc.db.customers.find_by_mobile(phone)
            except DatabaseError:
                log.exception("profile lookup failed; session starts unverified")
                found = None
            if found:
                events.extend(identity_slots(*found))
            else:
                log.info("SMS from unregistered number %s", mask(phone))
        events.append(ActionExecuted("action_listen"))
        return events

