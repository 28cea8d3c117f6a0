"""A report read back for confirmation, and what a reply to it that answered nothing gets: the yes it did not
give ("嗯？") is no consent, and the question asked again says how to answer it."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import lang_of
from actions.message_reading import latest_text, responses_before_latest


def consent(value: Any, tracker: Tracker) -> Optional[bool]:
    """A yes asked back as a question ("嗯？", "yes?") is no consent to submit: the confirmation is asked again.
    The model cannot tell it from a yes, as the tokenizer drops the question mark."""
    return None if value is True and re.search(r"[?？]\s*$", latest_text(tracker)) else value


def fault_report(symptom: str, since: str, lang: str) -> str:
    """The symptom with the time it began, unless it already says it (both may come from the opening message)."""
    if since in symptom:
        return symptom
    if lang == "en":  # "since this morning" reads on its own: not "since: since this morning"
        return f"{symptom}, {since}" if re.match(r"(?:since|for|from)\b", since, re.I) else f"{symptom}, since: {since}"
    return f"{symptom}，开始时间：{since}"


def unanswered_confirmation(tracker: Tracker, asked: str, content: List[str]) -> bool:
    """The confirmation ``asked`` was the last thing said, and the reply neither answered it nor changed the report
    ("2", "嗯？"), nor was answered itself: asking the same again would not tell the customer what it waits for."""
    if (responses_before_latest(tracker) or [""])[-1] != asked:
        return False
    since_reply = []
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        since_reply.append(event)
    return not any(e.get("event") == "bot" or (e.get("event") == "slot" and e.get("name") in content)
                   for e in since_reply)


class ActionAskFaultConfirm(Action):
    """Reads the report back as the ticket will hold it, the time said once."""

    def name(self) -> str:
        return "action_ask_fault_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if unanswered_confirmation(tracker, "utter_ask_fault_confirm", ["fault_circuit", "fault_symptom", "fault_since"]):
            dispatcher.utter_message(response="utter_how_to_confirm")
        report = fault_report(str(tracker.get_slot("fault_symptom") or ""), str(tracker.get_slot("fault_since") or ""),
                              lang_of(tracker))
        dispatcher.utter_message(response="utter_ask_fault_confirm", fault_report=report)
        return []


class ActionAskComplaintConfirm(Action):
    def name(self) -> str:
        return "action_ask_complaint_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if unanswered_confirmation(tracker, "utter_ask_complaint_confirm", ["complaint_category", "complaint_description"]):
            dispatcher.utter_message(response="utter_how_to_confirm")
        dispatcher.utter_message(response="utter_ask_complaint_confirm")
        return []
