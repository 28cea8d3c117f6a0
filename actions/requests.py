"""Requests that change something: bill-not-received claims, SMS consent, reply language."""

from __future__ import annotations

import logging
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity, lang_of, verified_action, verified_identity
from actions.services import Services, services
from carecore.clock import as_stored
from carecore.months import parse_month
from carecore.repository import DatabaseError, DuplicateRecordError

log = logging.getLogger(__name__)


async def bill_not_received(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                            lang: str) -> List[Dict[str, Any]]:
    """Log a claim for the last billed month; the care scheduler verifies and settles it."""
    customer, contact = who
    today = svc.clock.today()
    month = parse_month(tracker.get_slot("month"), today) or parse_month("上个月", today)
    assert month is not None
    existing = await svc.db.claims.find(customer.id, "bill_not_received", month)
    if existing is None:
        now = as_stored(svc.clock.now())
        try:
            existing = await svc.db.claims.create({
                "_id": await svc.db.claims.next_id(today), "customer_id": customer.id,
                "contact_id": contact.contact_id, "month": month, "created_at": now, "updated_at": now,
            })
            dispatcher.utter_message(response="utter_bill_claim_recorded", month=month, claim_id=existing.id)
            return [SlotSet("month", None)]
        except DuplicateRecordError:  # logged concurrently from another channel
            existing = await svc.db.claims.find(customer.id, "bill_not_received", month)
    assert existing is not None
    dispatcher.utter_message(response="utter_bill_claim_exists", month=month, claim_id=existing.id)
    return [SlotSet("month", None)]


async def _set_consent(svc: Services, dispatcher: CollectingDispatcher, who: Identity, opted_out: bool) -> None:
    await svc.db.customers.set_sms_opt_out(who[1].contact_id, opted_out, source="assistant",
                                          actor=f"contact:{who[1].contact_id}")
    dispatcher.utter_message(response="utter_opted_out" if opted_out else "utter_opted_in")


async def opt_out(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                  lang: str) -> List[Dict[str, Any]]:
    await _set_consent(svc, dispatcher, who, True)
    return []


async def opt_in(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                 lang: str) -> List[Dict[str, Any]]:
    await _set_consent(svc, dispatcher, who, False)
    return []

ActionBillNotReceived = verified_action("action_bill_not_received", bill_not_received)
ActionOptOutSms = verified_action("action_opt_out_sms", opt_out)
ActionOptInSms = verified_action("action_opt_in_sms", opt_in)


CONFIRM_LANGUAGE = {"zh": "好的，之后我将用中文回复您。", "en": "Sure, I'll reply in English from now on."}


def wanted_language(text: str, current: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in ("english", "英文", "英语")):
        return "en"
    if any(w in lowered for w in ("chinese", "mandarin", "中文", "普通话", "汉语")):
        return "zh"
    return "en" if current == "zh" else "zh"


class ActionChangeLanguage(Action):
    """Switch the reply language; a verified contact's preference is saved to the profile."""

    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        target = wanted_language(tracker.latest_message.get("text") or "", lang_of(tracker))
        svc = await services()
        try:
            who = await verified_identity(tracker, svc)
            if who is not None:
                await svc.db.customers.set_contact_language(who[1].contact_id, target, source="assistant",
                                                          actor=f"contact:{who[1].contact_id}")
        except DatabaseError:
            log.exception("language preference not saved: database unavailable")
        # The reply is rendered before the slot changes, so it is written in the new language here.
        dispatcher.utter_message(text=CONFIRM_LANGUAGE[target])
        return [SlotSet("profile_language", target), SlotSet("language", target)]
