"""Compliments (表扬): a verified customer's praise is kept for their account manager, who sees it on the console
with their supervisor. Kept only once the customer is verified, so nobody can praise in another account's name."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity, verified_action
from actions.message_reading import last_said
from actions.services import Services
from carecore.clock import as_stored


async def give_praise(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                      lang: str) -> List[Dict[str, Any]]:
    """The praise is the message that gave it, read again after a verification asked for in between."""
    customer, contact = who
    manager = await svc.db.managers.acting(customer.account_manager_id)
    text = last_said(tracker, "praise")[:2000]
    await svc.db.compliments.create({
        "_id": await svc.db.compliments.next_id(svc.clock.today()), "customer_id": customer.id,
        "contact_id": contact.contact_id, "manager_id": manager.id if manager else customer.account_manager_id,
        "text": text or "-", "channel": tracker.get_latest_input_channel(),
        "created_at": as_stored(svc.clock.now())})
    dispatcher.utter_message(response="utter_praise_recorded", manager_name=manager.name if manager else "")
    return []


ActionPraise = verified_action("action_praise", give_praise)
