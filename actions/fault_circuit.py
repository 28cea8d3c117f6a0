"""The circuit a fault report is about: the list the customer chooses from, and what they are told of the one
chosen before going on (planned maintenance on it, a fault ticket still open on it, or resolved lately)."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import circuit_choice
from actions.circuit_sites import place_elsewhere, place_shared
from actions.common import FAULT_SLOTS, form_ended, lang_of, verified_identity
from actions.message_reading import (
    CORRECTING,
    NOT_FIXED,
    SYMPTOM_WORDS,
    added_to,
    last_said,
    latest_intent,
    latest_text,
    reply_just_before,
)
from actions.services import Services, services
from carecore.model import Circuit, Customer
from carecore.texts import bullet_lines, circuit_line, due_by, fmt_time
from carecore.ticket_opening import REOPEN_WITHIN, fault_reported_on, open_fault_on


async def fixed_lately(svc: Services, customer: Customer, text: str) -> Optional[str]:
    """The one circuit of several whose fault was resolved within ``REOPEN_WITHIN``, when the report says the fault
    is still there ("还是不行啊，网速还是很慢"): that fix did not hold. ``settle_circuit`` says so, and a
    correction ("不对，是第三条") takes another."""
    if len(customer.services) < 2 or not NOT_FIXED.search(text):
        return None
    fixed = await svc.db.tickets.circuits_fixed_since(customer.id, svc.clock.now() - REOPEN_WITHIN)
    ours = [circuit_id for circuit_id in fixed if any(c.circuit_id == circuit_id for c in customer.services)]
    return ours[0] if len(ours) == 1 else None


async def circuit_corrected(tracker: Tracker) -> Dict[str, Any]:
    """At a later step of the report, a correction naming another circuit ("不对，是第三条"): it takes the place of
    the one chosen, and the confirmation is asked again."""
    text = latest_text(tracker)
    if latest_intent(tracker) != "deny" and not CORRECTING.match(text):
        return {}
    who = await verified_identity(tracker, await services())
    named = circuit_choice.named(who[0].services, text) if who else None
    if named is None or named.circuit_id == tracker.get_slot("fault_circuit"):
        return {}
    return {"fault_circuit": named.circuit_id, "fault_confirm": None}


async def other_circuit_told(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """At a later step of the report, a fault told on another of the customer's circuits ("also the DDN line is
    slow"), not as a correction: it gets a ticket of its own, once this one is submitted. It had joined this
    circuit's symptom."""
    text = latest_text(tracker)
    if not (added_to(text) or latest_intent(tracker) == "report_fault") or CORRECTING.match(text):
        return False
    svc = await services()
    who = await verified_identity(tracker, svc)
    other = circuit_choice.named(who[0].services, text) if who else None
    if who is None or other is None or other.circuit_id == tracker.get_slot("fault_circuit"):
        return False
    known = await open_fault_on(svc.db, who[0].id, other.circuit_id)  # reported already: said so
    dispatcher.utter_message(response="utter_fault_other_circuit_open" if known else "utter_fault_other_circuit_next",
                             circuit_id=tracker.get_slot("fault_circuit"), other_id=other.circuit_id,
                             ticket_id=known.id if known else "")
    return True


def offered_for_report(tracker: Tracker, circuits: List[Circuit]) -> Optional[Circuit]:
    """The one circuit the reply just before said has no fault ticket, offering a report ("如需报修，请回复“报修”"):
    the bare "报修" that answers it is of that circuit."""
    said = reply_just_before(tracker, "utter_down_unreported")
    named = [c for c in circuits if said and c.circuit_id in said]
    return named[0] if len(named) == 1 else None


def correcting_circuit(tracker: Tracker, asked: str) -> bool:
    """This message, asked for ``asked``, changed the circuit instead: it is no answer to the question."""
    return tracker.get_slot("requested_slot") == asked and "fault_circuit" in tracker.slots_to_validate()


# An answer to "which circuit?" that speaks of a line, though the assistant cannot place it ("办公室那条", "the
# office one"): quoted back, where an answer that speaks of none ("ok can you log it") is not.
LINE_MENTIONED = re.compile(r"[那这哪][条根]|线|电路|链路|\b(?:one|line|circuit|link|connection)\b", re.I)


async def settle_circuit(svc: Services, customer: Customer, named: str, dispatcher: CollectingDispatcher,
                         tracker: Tracker) -> Optional[str]:
    """The circuit named (by id, number or a mention), or else the customer's only one. Planned maintenance on it
    is told first, and the form goes on if they still want to report it; so is a fault ticket still open on it,
    to which the report will be added rather than opening a second ticket for one outage, or one resolved within
    ``REOPEN_WITHIN``, which the report will reopen."""
    circuits = customer.services
    if named:
        circuit = circuit_choice.choice(circuits, named)
        if circuit is None:
            shared = place_shared(circuits, named)  # "深圳那条", when all three start in Shenzhen
            if shared:
                dispatcher.utter_message(response="utter_circuits_share_place", place=shared[0], count=shared[1])
            elif circuit_choice.names_a_circuit(named) or place_elsewhere(circuits, named):
                dispatcher.utter_message(response="utter_circuit_not_yours", value=named[:40])
            elif LINE_MENTIONED.search(named):  # "办公室那条": not a name the list can say no to
                dispatcher.utter_message(response="utter_circuit_not_placed", value=named[:40])
            else:  # "ok can you log it": no circuit spoken of at all
                dispatcher.utter_message(response="utter_circuit_needed")
            return None
    elif len(circuits) == 1:
        circuit = circuits[0]
    else:
        return None
    lang = lang_of(tracker)
    window = (await svc.db.maintenance.active_for_circuits([circuit.circuit_id], svc.clock.now())).get(
        circuit.circuit_id)
    if window is not None:
        dispatcher.utter_message(response="utter_circuit_in_maintenance", circuit_id=circuit.circuit_id,
                                 window_id=window.id, end=fmt_time(window.end, lang, svc.clock.tz),
                                 description=window.description_en if lang == "en" else window.description_zh)
    ticket = await fault_reported_on(svc.db, svc.clock, customer.id, circuit.circuit_id)
    if ticket is not None and ticket.resolved_at is not None:  # "还是不行": the fix did not hold
        dispatcher.utter_message(response="utter_fault_fixed_lately", circuit_id=circuit.circuit_id,
                                 ticket_id=ticket.id, resolved=fmt_time(ticket.resolved_at, lang, svc.clock.tz))
    elif ticket is not None and ticket.sla is not None and ticket.sla.restore_due is not None:
        dispatcher.utter_message(response="utter_fault_open_on_circuit", circuit_id=circuit.circuit_id,
                                 ticket_id=ticket.id, opened=fmt_time(ticket.created_at, lang, svc.clock.tz),
                                 restore_due=due_by(ticket.sla.restore_due, svc.clock.now(), lang, svc.clock.tz))
    return circuit.circuit_id


class ActionAskFaultCircuit(Action):
    """Lists the customer's own circuits to choose from."""

    def name(self) -> str:
        return "action_ask_fault_circuit"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        svc = await services()
        who = await verified_identity(tracker, svc)
        circuits = who[0].services if who else []
        if not circuits:
            dispatcher.utter_message(response="utter_no_circuits")
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        report = last_said(tracker, "report_fault")
        taken = notice_taken(tracker, circuits)
        if taken is not None:
            dispatcher.utter_message(response=LEFT_TO[taken], place=place_elsewhere(circuits, report) or "")
            return form_ended(FAULT_SLOTS)
        if circuit_choice.voice_unserved(circuits, report) and not _told_since_report(tracker, "utter_no_voice_service"):
            dispatcher.utter_message(response="utter_no_voice_service")
        elif place := place_to_tell(tracker, circuits):
            dispatcher.utter_message(response="utter_place_not_served", place=place)
        elif (bandwidth := circuit_choice.bandwidth_unserved(circuits, report)) and \
                not _told_since_report(tracker, "utter_bandwidth_not_served"):
            dispatcher.utter_message(response="utter_bandwidth_not_served", bandwidth=bandwidth)
        lang = lang_of(tracker)
        lines = [circuit_line(c, lang) for c in circuits]
        dispatcher.utter_message(response="utter_ask_fault_circuit", lines=bullet_lines(lines))
        return []


# Told that a fault may not be on the circuits listed, an answer that takes it in ("好的", "知道了", "明白了",
# "got it").
TAKEN_IN = re.compile(r"知道了|明白了?|了解了?|收到|好的|\b(?:ok(?:ay)?|got it|understood|i see)\b", re.I)
# The notices that say the fault may be on a line not listed (a landline, a place none of the circuits ends in), and
# what ends the report once one is taken in: the hotline, or the manager who can check that line.
LEFT_TO = {"utter_no_voice_service": "utter_fault_left_to_hotline",
           "utter_place_not_served": "utter_fault_left_to_manager"}


def notice_taken(tracker: Tracker, circuits: List[Circuit]) -> Optional[str]:
    """The notice that the fault may be on a line not listed, when the answer to the list chooses none of its
    circuits but takes the notice in ("好的", "知道了，谢谢", "都不是", "我打热线吧"): the report ends rather
    than listing the circuits again, as the fault was not one of them."""
    text = latest_text(tracker)
    if tracker.get_slot("requested_slot") != "fault_circuit" or circuit_choice.choice(circuits, text) is not None:
        return None
    if latest_intent(tracker) not in ("affirm", "thank", "deny", "ask_hotline") and not TAKEN_IN.search(text):
        return None
    return next((notice for notice in LEFT_TO if _told_since_report(tracker, notice)), None)


def reported_again(tracker: Tracker, circuits: List[Circuit], text: str) -> bool:
    """The fault told again at "which circuit?" ("my line is down"), with no number or place of theirs in it: asked
    again, the list is the answer, where "not one of your circuits" quoted the report back."""
    return latest_intent(tracker) == "report_fault" and bool(SYMPTOM_WORDS.search(text)) and \
        not re.search(r"\d|第|[一二三四五六七八九十]条", text) and place_shared(circuits, text) is None


def place_to_tell(tracker: Tracker, circuits: List[Circuit]) -> Optional[str]:
    """The place the report puts the line at that none of the circuits ends in (``place_elsewhere``), while the
    customer has not been told so since: a report made again at "which circuit?" hears of it, not "not yours"."""
    if _told_since_report(tracker, "utter_place_not_served"):
        return None
    return place_elsewhere(circuits, last_said(tracker, "report_fault"))


def _told_since_report(tracker: Tracker, response: str) -> bool:
    """Whether ``response`` was said since the message that reported the fault: the list is asked again after an
    answer that chose none, and what it is told first need not be."""
    for event in reversed(tracker.events):
        if event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
        if event.get("event") == "user" and ((event.get("parse_data") or {}).get("intent") or {}).get("name") == \
                "report_fault":
            return False
    return False
