"""A confirmed report becomes a ticket: a complaint, with its escalation when urgent or about the manager; a fault,
or the report added to the circuit's open fault ticket, or the ticket reopened when its fix did not hold."""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import COMPLAINT_SLOTS, FAULT_SLOTS, Identity, lang_of, reset_slots, verified_identity
from actions.escalation import escalate
from actions.message_reading import asked_urgently, responses_since_latest
from actions.services import Services, services
from carecore.clock import as_stored
from carecore.deadlines import fault_hours
from carecore.model import EscalationReason, TicketEvent
from carecore.repository import DatabaseError
from carecore.texts import due_by, fmt_time, label
from carecore.ticket_opening import open_complaint, open_fault, open_fault_on, page_manager, reopen_fault

log = logging.getLogger(__name__)

# What a form's own question or validation says when it ends the form: nothing was left to submit or not.
ENDED_BY_ITS_QUESTION = {"utter_no_circuits", "utter_fault_left_to_hotline", "utter_fault_left_to_manager",
                         "utter_restored_noted", "utter_restored_no_fault", "utter_fault_report_dropped"}


class _SubmitForm(Action):
    """After a form: create the ticket if the user confirmed; reset the form's slots either way."""

    action_name = ""
    form_slots: List[str] = []
    confirm_slot = ""

    def name(self) -> str:
        return self.action_name

    async def submit(self, svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                     who: Identity) -> List[EventType]:
        raise NotImplementedError

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        reset = reset_slots(self.form_slots)
        svc = await services()
        try:
            who = await verified_identity(tracker, svc)
            if who is None:  # verification failed inside the form
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            if tracker.get_slot(self.confirm_slot) is not True:
                ended = ENDED_BY_ITS_QUESTION & set(responses_since_latest(tracker))  # "贵单位名下暂无在用电路"
                dispatcher.utter_message(response="utter_anything_else" if ended else "utter_not_submitted")
                return reset
            return reset + await self.submit(svc, tracker, dispatcher, who)
        except DatabaseError:
            log.exception("%s: database unavailable, nothing saved", self.action_name)
            dispatcher.utter_message(response="utter_service_unavailable")
            return reset


def _actor(tracker: Tracker) -> str:
    return f"assistant:{tracker.get_latest_input_channel() or 'chat'}"


class ActionSubmitComplaint(_SubmitForm):
    action_name = "action_submit_complaint"
    form_slots = COMPLAINT_SLOTS
    confirm_slot = "complaint_confirm"

    async def submit(self, svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                     who: Identity) -> List[EventType]:
        urgent = tracker.get_slot("complaint_urgent") is True or asked_urgently(tracker)
        customer, contact = who
        ticket = await open_complaint(
            svc.db, svc.settings, svc.clock, customer, contact,
            category=str(tracker.get_slot("complaint_category") or "other"),  # the label shown; stored by key
            text=str(tracker.get_slot("complaint_description") or "-"), urgent=urgent,
            actor=_actor(tracker), sender_id=tracker.sender_id)
        assert ticket.sla is not None
        deadline = fmt_time(ticket.sla.response_due, lang_of(tracker), svc.clock.tz)
        if ticket.about_manager:  # goes above the manager: no escalation to the one it is about
            await page_manager(svc.db, svc.gateway, svc.settings, svc.clock, ticket, customer, contact)
            dispatcher.utter_message(response="utter_manager_complaint_created", ticket_id=ticket.id, deadline=deadline)
            return []
        dispatcher.utter_message(response="utter_complaint_created", ticket_id=ticket.id, deadline=deadline)
        if urgent:
            return await escalate(svc, tracker, dispatcher, who, EscalationReason.urgent_complaint, ticket.id,
                                  respond_by=ticket.sla.response_due)
        return []


class ActionSubmitFault(_SubmitForm):
    action_name = "action_submit_fault"
    form_slots = FAULT_SLOTS
    confirm_slot = "fault_confirm"

    async def submit(self, svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                     who: Identity) -> List[EventType]:
        customer, contact = who
        circuit = customer.circuit(str(tracker.get_slot("fault_circuit") or ""))
        if circuit is None:  # re-checked: only the customer's own circuits
            dispatcher.utter_message(response="utter_circuit_not_yours", value=tracker.get_slot("fault_circuit"))
            return []
        symptom, since = str(tracker.get_slot("fault_symptom")), str(tracker.get_slot("fault_since"))
        # as confirmation.fault_report, in the ticket's form and the script of its words: "专线中断（两小时前）",
        # "line down (since 9am)"
        text = symptom if since in symptom else f"{symptom}（{since}）" if re.search(r"[\u4e00-\u9fff]", symptom) \
            else f"{symptom} ({since})"
        lang = lang_of(tracker)
        already = await open_fault_on(svc.db, customer.id, circuit.circuit_id)
        if already is not None:  # the same outage: its ticket hears of it, with its deadlines unchanged
            await svc.db.tickets.add_event(already.id, TicketEvent(at=as_stored(svc.clock.now()), actor=_actor(tracker),
                                                                   action="reported_again", note=text[:500],
                                                                   sender_id=tracker.sender_id))
            dispatcher.utter_message(response="utter_fault_added", ticket_id=already.id)
            return []
        reopened = await reopen_fault(svc.db, svc.clock, customer, circuit.circuit_id, actor=_actor(tracker), text=text,
                                      sender_id=tracker.sender_id)
        if reopened is not None:  # the fix did not hold: the same fault, still on
            assert reopened.sla is not None and reopened.sla.restore_due is not None  # a fault's, set at opening
            await page_manager(svc.db, svc.gateway, svc.settings, svc.clock, reopened, customer, contact)
            dispatcher.utter_message(response="utter_fault_reopened", ticket_id=reopened.id,
                                     restore_due=due_by(reopened.sla.restore_due, svc.clock.now(), lang, svc.clock.tz))
            return []
        ticket = await open_fault(svc.db, svc.settings, svc.clock, customer, contact, circuit, text=text,
                                  actor=_actor(tracker), sender_id=tracker.sender_id)
        await page_manager(svc.db, svc.gateway, svc.settings, svc.clock, ticket, customer, contact)
        assert ticket.sla is not None and ticket.sla.restore_due is not None
        *_, set_by = fault_hours(contact.tier, circuit.sla_class, svc.settings.fault_sla_hours,
                                 svc.settings.circuit_sla_hours)
        if set_by == "circuit":
            basis = (f"the circuit's {label('sla_class', circuit.sla_class, lang)} SLA" if lang == "en"
                     else f"电路的{label('sla_class', circuit.sla_class, lang)}")
        else:
            basis = (f"your {label('tier', contact.tier, lang)} service level" if lang == "en"
                     else f"您的{label('tier', contact.tier, lang)}服务标准")
        dispatcher.utter_message(response="utter_fault_created", ticket_id=ticket.id, basis=basis,
                                 response_due=fmt_time(ticket.sla.response_due, lang, svc.clock.tz),
                                 restore_due=fmt_time(ticket.sla.restore_due, lang, svc.clock.tz))
        return []
