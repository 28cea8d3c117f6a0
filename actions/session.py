"""Session start (profile loading) and the reply-language slot mapping (``action_set_language``)."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import identity_slots
from actions.services import services
from carecore.identity import phone_from_sender_id
from carecore.phones import mask
from carecore.repository import DatabaseError
from carecore.texts import reply_language, written_language

log = logging.getLogger(__name__)


class ActionSessionStart(Action):
    """Identify an SMS sender from the number Twilio vouched for, and a portal-signed chat from the mobile
    the portal vouched for; other chats start unverified."""

    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        svc = await services()
        events: List[Dict[str, Any]] = [SessionStarted(), SlotSet("hotline", svc.settings.hotline),
                                        SlotSet("operator_name", svc.settings.operator("zh"))]  # zh replies name it
        phone = phone_from_sender_id(tracker.sender_id, svc.settings.sender_id_secret)
        if phone:
            try:
                found = await svc.db.customers.find_by_mobile(phone)
            except DatabaseError:
                log.exception("profile lookup failed; session starts unverified")
                found = None
            if found:  # replies start in the contact's language; their messages may switch it
                events.extend([*identity_slots(*found), SlotSet("language", found[1].language)])
            else:
                log.info("conversation of unregistered number %s", mask(phone))
        else:
            found = None
        try:  # counted for the KPIs: an unverified chat in group's figures only
            await svc.db.assistant_sessions.start(
                tracker.sender_id, svc.clock.now(), channel=tracker.get_latest_input_channel(),
                customer_id=found[0].id if found else None, manager_id=found[0].account_manager_id if found else None)
        except DatabaseError:
            log.warning("session not counted for the KPIs: database unavailable")
        events.append(ActionExecuted("action_listen"))
        return events


class ActionSetLanguage(Action):
    """The ``language`` slot's custom mapping, which Rasa runs for every message.

    Answering it inside the Rasa server instead was measured and not kept: it made no
    difference beyond run-to-run noise (``bot.rasa_compat``).
    """

    def name(self) -> str:
        return "action_set_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        earlier = [e.get("text") for e in tracker.events if e.get("event") == "user"][:-1]
        preferred = written_language(earlier, tracker.get_slot("profile_language"))
        changed = reply_language(tracker.latest_message.get("text"), preferred, tracker.get_slot("language"))
        return [SlotSet("language", changed)] if changed else []
