"""Helpers every action uses: the reply language and the verified identity."""

from __future__ import annotations

import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Sequence, Tuple, Type

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.circuit_choice import choice_read_as_question, circuit_alone
from actions.fault_history import LAST_FAULT_REPLIES
from actions.message_reading import also_asked, last_asked, latest_intent, month_alone, responses_before_latest, spoken
from actions.order_words import told_order_price
from actions.services import Services, services
from carecore.model import Contact, Customer
from carecore.repository import DatabaseError

log = logging.getLogger(__name__)

Identity = Tuple[Customer, Contact]
Events = List[Dict[str, Any]]


def lang_of(tracker: Tracker) -> str:
    return "en" if tracker.get_slot("language") == "en" else "zh"


def response_in(domain: Dict[str, Any], name: str, lang: str, **values: Any) -> str:
    """A domain response written out in ``lang`` by the action itself. Rasa renders an action's responses with the
    slots as they were before the action ran, so a reply in the language the action is setting only now is
    written here, from the same text the domain gives."""
    variants = domain["responses"][name]
    wanted = [v for v in variants
              if any(c.get("name") == "language" and c.get("value") == lang for c in v.get("condition") or [])]
    plain = [v for v in variants if not v.get("condition")]
    return (wanted or plain)[0]["text"].format(**values)


async def verified_identity(tracker: Tracker, svc: Services) -> Optional[Identity]:
    """The verified customer and contact of this conversation, fresh from MongoDB.

    Identity slots are set only by actions (their mappings are ``custom``), and
    the profile is re-read on every use, so a contact removed or moved meanwhile,
    or whose number was disowned, loses access at once.
    """
    if tracker.get_slot("verified") is not True:
        return None
    contact_id, customer_id = tracker.get_slot("contact_id"), tracker.get_slot("customer_id")
    if not contact_id or not customer_id:
        return None
    found = await svc.db.customers.find_by_contact(contact_id)
    if found is None or found[0].id != customer_id or not found[1].reachable:
        return None
    return found


IDENTITY_SLOTS = ("customer_id", "contact_id", "contact_name", "company_name", "profile_language")


def identity_slots(customer: Customer, contact: Contact) -> List[Dict[str, Any]]:
    values = (customer.id, contact.contact_id, contact.name, customer.company_name, contact.language)
    return [SlotSet("verified", True), *[SlotSet(name, value) for name, value in zip(IDENTITY_SLOTS, values, strict=True)]]


async def count_in_session(svc: Services, tracker: Tracker, **marks: Any) -> None:
    """Mark the conversation's session for the assistant's KPIs (``assistant_sessions``); a failure here
    must never cost the customer an answer, so it is only logged."""
    inc = {k: v for k, v in marks.items() if isinstance(v, int) and not isinstance(v, bool)}
    fields = {k: v for k, v in marks.items() if k not in inc}
    try:
        await svc.db.assistant_sessions.mark(tracker.sender_id, inc=inc, set_fields=fields)
    except DatabaseError:
        log.warning("session marks for the KPIs not saved: database unavailable")


# The questions that verify who writes: their answers (a mobile number, a code) are the identity's, not the request's.
VERIFICATION_SLOTS = ["verify_mobile", "otp_code"]
COMPLAINT_SLOTS = ["complaint_category", "complaint_description", "complaint_confirm", "complaint_urgent"]
FAULT_SLOTS = ["fault_circuit", "fault_symptom", "fault_since", "fault_confirm"]


def reset_slots(slots: List[str]) -> List[SlotSet]:
    """A form's slots emptied, and the verification answers given inside it: the next form starts afresh."""
    return [SlotSet(name, None) for name in slots + VERIFICATION_SLOTS]


def form_ended(slots: List[str]) -> List[EventType]:
    """The form under way stopped, its slots (``reset_slots``) emptied."""
    return [ActiveLoop(None), SlotSet("requested_slot", None), *reset_slots(slots)]


def latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    return next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})


# A message of digits alone: a mobile number or a code, typed out of the blue.
_DIGITS_ALONE = re.compile(r"[\s+\-0-9]{4,}")


def what_they_said(tracker: Tracker, limit: int = 3) -> List[str]:
    """The customer's latest messages, for the person who calls back: the answers to verification's questions and
    numbers alone say nothing of what they need, and a code is never shown."""
    said: List[str] = []
    asked = None
    for e in tracker.events:
        if e.get("event") == "slot" and e.get("name") == "requested_slot":
            asked = e.get("value")
        elif e.get("event") == "user" and e.get("text") and asked not in VERIFICATION_SLOTS \
                and not _DIGITS_ALONE.fullmatch(e["text"].strip()):
            said.append(e["text"])
    return said[-limit:]


Answer = Callable[[Services, Tracker, CollectingDispatcher, Identity, str], Awaitable[Events]]
ANSWERS: Dict[str, Answer] = {}  # each account question's answer by its intent, for a second question in a message


async def answer_each(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                      lang: str, questions: Sequence[str], said: Dict[str, Any]) -> Events:
    """The answer to each of ``questions`` for the user event ``said``, as if the model had read it as that
    question alone: each answer reads its question's latest message (``last_said``), and so this one."""
    events: Events = []
    for question in questions:
        if question in ANSWERS:
            events += await ANSWERS[question](svc, read_as(tracker, said, question), dispatcher, who, lang)
    return events


def read_as(tracker: Tracker, said: Dict[str, Any], intent: str) -> Tracker:
    """The conversation with the user event ``said`` read as ``intent``: what an answer reads its question's message
    from (``last_said``) is then that message. The latest message is read again where it stands, so that the replies
    just before it ("那第二条呢" after a month's record) are still the ones it follows; an earlier one is said again."""
    asked = {"intent": {"name": intent, "confidence": 1.0},
             "entities": (said.get("parse_data") or {}).get("entities") or [], "text": spoken(said)}
    again = {**said, "event": "user", "text": spoken(said), "parse_data": asked}
    events = list(tracker.events)
    latest = next((i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "user"), None)
    if latest is not None and events[latest] == said:
        events[latest] = again
    else:
        events.append(again)
    return Tracker(tracker.sender_id, dict(tracker.slots), asked, events, tracker.is_paused(),
                   tracker.followup_action, tracker.active_loop, tracker.latest_action_name)


async def answer_also_asked(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                            lang: str, answered: str) -> Events:
    """The other account questions of the message that asked ``answered`` ("上个月账单、客户经理电话和专线状态"),
    answered next, each as if it had come alone."""
    said = last_asked(tracker, answered)
    return await answer_each(svc, tracker, dispatcher, who, lang, also_asked(spoken(said), answered), said)


# The answers a message naming only a circuit ("那第三条呢") follows up, by the question they answered; and those a
# month alone ("上个月呢") follows up too.
FOLLOWED_BY_CIRCUIT = {"utter_service_status": "ask_service_status", "utter_sla": "ask_sla", "utter_sla_record": "ask_sla",
                       **dict.fromkeys(LAST_FAULT_REPLIES, "ask_sla")}
FOLLOWED_BY_MONTH = {"utter_sla": "ask_sla", "utter_sla_record": "ask_sla"}
# "怎么算的", "how is it calculated" right after compensation: each circuit's credit for a late restore, in its SLA.
CALCULATION_ASKED = re.compile(r"怎么算|如何算|怎么计算|如何计算|计算方[法式]|按什么算|标准是|补偿标准|多少补偿|补偿多少|赔多少|"
                               r"\bhow (?:is|are|do you|would you|will you) (?:it |that |this |they |those )?"
                               r"(?:be )?(?:calculated|worked out|computed|determined)\b|\bhow much (?:would|will|do|could) we\b",
                               re.I)
FOLLOWED_BY_CALCULATION = {"utter_compensation": "ask_sla", "utter_no_compensation": "ask_sla",
                           "utter_compensation_how": "ask_sla"}


async def answer_follow_up(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                           lang: str, besides: str = "") -> Optional[Events]:
    """Right after an answer about the customer's circuits, a message that names one and nothing else ("那第三条呢",
    "and circuit 3?"), or right after the SLA a month alone ("上个月呢"), asks the same again of it; right after
    compensation, "怎么算的" asks for the credits the SLA sets. The model, reading it alone, cannot know what. None for
    any other message, and for one following up ``besides``, the question being answered already."""
    said = latest_user_event(tracker)
    text = spoken(said)
    followed = FOLLOWED_BY_CIRCUIT if circuit_alone(text, who[0].services) else \
        FOLLOWED_BY_MONTH if month_alone(text, svc.clock.today()) else \
        FOLLOWED_BY_CALCULATION if CALCULATION_ASKED.search(text) else {}
    answered = [followed[r] for r in responses_before_latest(tracker) if r in followed]
    if not answered or answered[-1] == besides:
        return None
    return await answer_each(svc, tracker, dispatcher, who, lang, answered[-1:], said)


class VerifiedAction(Action):
    """An action for verified users only; others are told to verify first.

    A database outage gets a polite reply instead of an action-server error, so
    the bot keeps answering while MongoDB restarts.
    """

    action_name = ""
    asked_as = ""  # the question it answers, whose message may ask a second one

    def name(self) -> str:
        return self.action_name

    async def handle(self, svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                     lang: str) -> List[Dict[str, Any]]:
        raise NotImplementedError

    async def unverified(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
        if tracker.active_loop_name not in (None, "verification_form"):
            # a report, whose first step is verification: the question waits for it, and the report goes on
            dispatcher.utter_message(response="utter_answer_after_verification")
            return [SlotSet("pending_request", latest_intent(tracker))]
        dispatcher.utter_message(response="utter_need_verification")
        return [SlotSet("verified", False)]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        svc = await services()
        try:
            if told_order_price(tracker, dispatcher):  # "要多少钱" right after an order offer: not the bill's
                return []
            who = await verified_identity(tracker, svc)
            if who is None:
                return await self.unverified(dispatcher, tracker)
            if choice_read_as_question(tracker, who[0].services):  # "第二条", asked which circuit: the form's
                return []
            lang = lang_of(tracker)
            events = await self.handle(svc, tracker, dispatcher, who, lang)
            if self.asked_as and latest_intent(tracker) == self.asked_as:
                events += await answer_also_asked(svc, tracker, dispatcher, who, lang, self.asked_as)
            return events
        except DatabaseError:
            log.exception("%s: database unavailable", self.name())
            dispatcher.utter_message(response="utter_service_unavailable")
            return []


def verified_action(name: str, answer: Answer, *, asked_as: str = "") -> Type[VerifiedAction]:
    """The verified-only action ``name`` that replies with ``answer``; the SDK registers it like any subclass. An
    account question's (``asked_as``) may also answer a second question in the same message."""
    if asked_as:
        ANSWERS[asked_as] = answer
    class_name = "".join(part.title() for part in name.split("_"))
    return type(class_name, (VerifiedAction,), {"action_name": name, "handle": staticmethod(answer),
                                                "asked_as": asked_as})
