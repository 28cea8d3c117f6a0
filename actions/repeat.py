""""再说一遍" / "can you repeat that": the assistant's last replies again.

Read before as a cancel, it dropped the report a customer was confirming; read as a survey score, it was told no
survey was waiting.
"""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.message_reading import replies_before_latest


class ActionRepeat(Action):
    """Outside a form, the replies to the customer's previous message, each as it was (named by its response, so a
    "好的" after a repeated offer still answers the offer). Inside a form it says nothing: the form asks its
    question again, and that question is what was said last."""

    def name(self) -> str:
        return "action_repeat"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Any]:
        if tracker.active_loop_name:
            return []
        replies = [event for event in replies_before_latest(tracker) if event.get("text")]
        if not replies:
            dispatcher.utter_message(response="utter_anything_else")
        for event in replies:
            name = (event.get("metadata") or {}).get("utter_action")
            dispatcher.utter_message(text=event["text"], **({"utter_action": name} if name else {}))
        return []
