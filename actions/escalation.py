"""Handing a customer to their dedicated account manager (客户经理责任制).

An escalation is recorded in MongoDB, the manager gets one SMS for it (the
escalation id is the idempotency key), the customer is told who calls back and
by when, and the conversation is paused until the manager hands it back.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, FollowupAction, SlotSet, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from actions.callback_time import callback_time
from actions.circuit_choice import choice_read_as_question
from actions.common import (
    Events,
    Identity,
    VerifiedAction,
    answer_each,
    answer_follow_up,
    count_in_session,
    lang_of,
    latest_user_event,
    verified_identity,
    what_they_said,
)
from actions.message_reading import (
    LEAVING,
    MANAGER_UNREACHABLE,
    OTHER_PERSON,
    PAID,
    latest_intent,
    latest_text,
    questions_named,
    responses_before_latest,
    spoken,
    two_questions,
)
from actions.order_words import ORDER, ORDER_OFFERS, told_order_price
from actions.requests import restore_misread, restore_read_as_fault
from actions.services import Services, services
from carecore.clock import as_stored
from carecore.deadlines import callback_deadline
from carecore.model import ANSWERED_ABOVE, Escalation, EscalationReason
from carecore.phones import readable
from carecore.repository import DatabaseError
from carecore.sms.message import Sms
from carecore.texts import contact_line, fmt_time, label

log = logging.getLogger(__name__)

def transcript_summary(tracker: Tracker, limit_chars: int = 120) -> str:
    text = " / ".join(what_they_said(tracker, 3))
    return text if len(text) <= limit_chars else text[: limit_chars - 1] + "…"


async def escalate(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                   reason: EscalationReason, ticket_id: Optional[str] = None,
                   respond_by: Optional[datetime] = None, callback_at: Optional[datetime] = None,
                   form_goes_on: bool = False) -> List[Dict[str, Any]]:
    """Record, notify the manager once, tell the customer, pause; a report under way (``form_goes_on``: a customer
    who says they will leave while reporting a fault) is not paused, and is finished first. Reused by urgent
    complaints, whose reply deadline (``respond_by``) the call-back promise never runs past, evenings and weekends
    included. A time the customer asked for (``callback_at``) is the promise instead. Someone other than the
    manager, asked for or because the manager cannot be reached (``ANSWERED_ABOVE``), is the supervisor above them,
    while there is an active one."""
    customer, contact = who
    lang = lang_of(tracker)
    above = customer.account_manager_id if reason in ANSWERED_ABOVE else None
    existing = await svc.db.escalations.open_for_sender(tracker.sender_id)
    if existing is not None:  # already waiting for a call-back: do not page the manager twice
        escalation = existing
        manager = await svc.db.managers.get(existing.manager_id)
    else:
        manager = await svc.db.managers.answering(customer.account_manager_id, about=above)
        now_local = svc.clock.now()
        now = as_stored(now_local)
        contact_by = callback_deadline(now_local, svc.settings.business_hours, svc.settings.escalation_contact_hours)
        if respond_by is not None:
            contact_by = min(contact_by, respond_by)
        contact_by = callback_at or contact_by
        escalation = await svc.db.escalations.create({
            "_id": await svc.db.escalations.next_id(now_local.date()),
            "customer_id": customer.id, "contact_id": contact.contact_id,
            "manager_id": manager.id if manager else customer.account_manager_id,
            "sender_id": tracker.sender_id, "channel": tracker.get_latest_input_channel(), "reason": reason,
            "summary": transcript_summary(tracker, 500) or "-", "ticket_id": ticket_id, "contact_by": contact_by,
            "callback_asked": callback_at is not None, "created_at": now, "updated_at": now,
        })
        await _page_manager(svc, escalation, contact_line(customer.company_name, contact), tracker)
    await count_in_session(svc, tracker, escalated=True)
    by_supervisor = escalation.reason in ANSWERED_ABOVE and manager is not None \
        and manager.id != customer.account_manager_id
    if form_goes_on:
        dispatcher.utter_message(response="utter_escalated_above_form_goes_on" if by_supervisor
                                 else "utter_escalated_form_goes_on", manager_name=manager.name if manager else "-",
                                 contact_by=fmt_time(escalation.contact_by, lang, svc.clock.tz))
        return []
    if by_supervisor:
        response = "utter_escalated_above_at" if escalation.callback_asked else "utter_escalated_above"
    else:
        response = "utter_escalated_at" if escalation.callback_asked else "utter_escalated"
    dispatcher.utter_message(response=response, manager_name=manager.name if manager else "-",
                             contact_by=fmt_time(escalation.contact_by, lang, svc.clock.tz))
    return [ConversationPaused()]


async def _page_manager(svc: Services, escalation: Escalation, who: str, tracker: Tracker) -> None:
    manager = await svc.db.managers.get(escalation.manager_id)
    if manager is None or not manager.active:  # nobody active above a leaver either: no page to their phone
        log.error("escalation %s: no active manager %s to page", escalation.id, escalation.manager_id)
        return
    due = fmt_time(escalation.contact_by, "zh", svc.clock.tz)
    ticket = f"工单{escalation.ticket_id}。" if escalation.ticket_id else ""
    body = (f"{svc.settings.sms_signature}升级单{escalation.id}：{who}，"
            f"原因：{label('escalation_reason', str(escalation.reason), 'zh')}。{ticket}"
            f"摘要：{transcript_summary(tracker)}。" + (f"客户约定{due}回电。" if escalation.callback_asked
                                                      else f"请于{due}前联系客户。"))
    await svc.gateway.send(Sms.of(key=f"escalation:{escalation.id}", kind="escalation", to=manager.mobile, body=body,
                                  customer_id=escalation.customer_id, contact_id=escalation.contact_id, language="zh"))


async def request_human(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                        lang: str, form_goes_on: bool = False) -> List[Dict[str, Any]]:
    """The call-back never runs past a deadline this contact's open tickets have already promised ("respond by
    15:29"), so a weekend or evening request about a fault is not told "Monday 09:30"; that ticket is named. An
    order (an upgrade, an invoice) is about no ticket: tied to one, it would close when the fault is resolved."""
    now = svc.clock.now()
    said = request_said(tracker)
    asked = next((when for when in (callback_time(text, now) for text in said) if when is not None), None)
    reason = EscalationReason.other_person if any(OTHER_PERSON.search(text) for text in said) \
        else EscalationReason.manager_unreachable if any(MANAGER_UNREACHABLE.search(text) for text in said) \
        else EscalationReason.order if ORDER_OFFERS & set(responses_before_latest(tracker)) \
        else EscalationReason.request_human
    promised = sorted((due, ticket.id) for ticket in await svc.db.tickets.for_customer(who[0].id, open_only=True)
                      if ticket.contact_id == who[1].contact_id and ticket.sla is not None
                      for due in ticket.sla.unmet() if due > now)
    if promised and reason != EscalationReason.order:
        return await escalate(svc, tracker, dispatcher, who, reason, ticket_id=promised[0][1],
                              respond_by=promised[0][0], callback_at=asked, form_goes_on=form_goes_on)
    return await escalate(svc, tracker, dispatcher, who, reason, callback_at=asked, form_goes_on=form_goes_on)


def request_said(tracker: Tracker) -> List[str]:
    """What this request for a person says: its latest message ("好的，明天上午十点吧"), and the message that asked for
    a person since the last hand-over, which a verification may have come after."""
    said: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_escalate":
            break
        if event.get("event") == "user":
            said.append(event)
    asked = [e for e in said[1:] if ((e.get("parse_data") or {}).get("intent") or {}).get("name") == "request_human"]
    return [spoken(event) for event in said[:1] + asked[:1]]


class ActionEscalate(VerifiedAction):
    action_name = "action_escalate"
    handle = staticmethod(request_human)

    async def unverified(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> List[Dict[str, Any]]:
        dispatcher.utter_message(response="utter_escalation_unverified")
        return []


class ActionHotline(Action):
    """The hotline, public, told before verification too. A verified customer who cannot reach their manager
    ("他电话打不通", "she's not picking up") asks for another way in: told to ask for the manager again, they were
    sent back to the one not answering, so the manager's nearest active supervisor is asked to call instead; a
    report under way goes on, and is finished first."""

    def name(self) -> str:
        return "action_hotline"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        if MANAGER_UNREACHABLE.search(latest_text(tracker)):
            svc = await services()
            try:
                who = await verified_identity(tracker, svc)
                if who is not None:
                    return await request_human(svc, tracker, dispatcher, who, lang_of(tracker),
                                               form_goes_on=tracker.active_loop_name is not None)
            except DatabaseError:
                log.exception("a manager unreachable: database unavailable")
        dispatcher.utter_message(response="utter_hotline")
        return []


async def hand_over_leaving(tracker: Tracker, dispatcher: CollectingDispatcher) -> Optional[List[Dict[str, Any]]]:
    """A verified customer saying they will leave, handed to their manager at once, however the model read it
    ("老是断，下个月就退网" may read as nothing it knows); a report under way goes on. None when the message says
    no such thing, or whose account it is is not known."""
    if not LEAVING.search(latest_text(tracker)):
        return None
    svc = await services()
    try:
        who = await verified_identity(tracker, svc)
        if who is None:
            return None
        dispatcher.utter_message(response="utter_leaving_to_manager")
        return await escalate(svc, tracker, dispatcher, who, EscalationReason.leaving,
                              form_goes_on=tracker.active_loop_name is not None)
    except DatabaseError:
        log.exception("a customer leaving: database unavailable")
        return None


async def offered_to_manager(tracker: Tracker, dispatcher: CollectingDispatcher) -> bool:
    """An order only the manager takes, asked by a verified customer outside a report, however the model read it
    ("能不能减免一点费用" may read as nothing it knows): the manager named and the call offered. Whether it was."""
    if told_order_price(tracker, dispatcher):  # "费用怎么算", just offered: the manager named already
        return True
    if not ORDER.search(latest_text(tracker)) or tracker.active_loop_name is not None:
        return False
    svc = await services()
    try:
        who = await verified_identity(tracker, svc)
        manager = await svc.db.managers.acting(who[0].account_manager_id) if who is not None else None
    except DatabaseError:
        log.exception("an order for the manager: database unavailable")
        return False
    if manager is None:
        return False
    dispatcher.utter_message(response="utter_order_to_manager", manager_name=manager.name,
                             manager_mobile=readable(manager.mobile, lang_of(tracker)))
    return True


class ActionOutOfScope(Action):
    """What the assistant does not handle is the manager's, and the customer is told to ask for a person. One who
    says they will cancel, not renew or change operator ("我们要退网") is handed to the manager at once: the
    churn watch would only see it in the bills months later; said while reporting a fault or complaint, the report
    goes on. An order only the manager takes ("带宽升级到200M") names the manager and offers the call, which a yes
    makes (``ActionYesOrNo``), with the reason ``order``; in a report, whose next question the yes would answer,
    the customer is told to ask for a person."""

    def name(self) -> str:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        left = await hand_over_leaving(tracker, dispatcher)
        if left is not None:
            return left
        followed = None if tracker.active_loop_name else await _follow_up(await services(), tracker, dispatcher)
        if followed is not None:  # "how is it calculated", right after compensation
            return followed
        if await _choice_misread(tracker):  # "actually it's the 100M one", asked which circuit: the form's
            return []
        if not await offered_to_manager(tracker, dispatcher):
            dispatcher.utter_message(response="utter_out_of_scope")
        return []


async def _choice_misread(tracker: Tracker) -> bool:
    """Whether the message, read as out of scope, chooses the circuit the fault form asks for; with the database
    away, the usual reply."""
    if tracker.get_slot("requested_slot") != "fault_circuit":
        return False
    try:
        who = await verified_identity(tracker, await services())
    except DatabaseError:
        log.exception("a circuit chosen: database unavailable")
        return False
    return who is not None and choice_read_as_question(tracker, who[0].services) is not None


# Replies that end by asking what else the customer needs: a no to them ends the conversation.
ASKED_ANYTHING_ELSE = ("utter_anything_else", "utter_already_verified", "utter_cancelled", "utter_not_submitted",
                       "utter_survey_none", "utter_greet", "utter_go_ahead", "utter_praise_recorded",
                       "utter_nothing_to_cancel")


# Answers read from the customer's records: a no to one ("不对，金额太高了") disputes what the records say.
RECORD_ANSWERS = ("utter_usage_report", "utter_usage_span", "utter_usage_missing", "utter_bills_owed",
                  "utter_bills_all_paid", "utter_account_summary", "utter_service_status", "utter_no_circuits", "utter_sla",
                  "utter_sla_record", "utter_compensation", "utter_no_compensation", "utter_ticket_status",
                  "utter_open_tickets", "utter_no_open_tickets")


class ActionYesOrNo(Action):
    """A bare yes or no outside a form ("好的", "没有了"), taken as the answer to what the assistant said last: a yes
    to the offer to have the account manager call escalates, a no to "anything else?" and either after "you're
    welcome" says goodbye, a no to an answer from the records is told how to have it checked, and otherwise the
    customer is asked what they need.
    With no rule for them the model had no next step, and a second one handed the chat to a person."""

    def name(self) -> str:
        return "action_yes_or_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        said_yes = latest_intent(tracker) == "affirm"
        before = responses_before_latest(tracker)
        if said_yes and ({"utter_account_manager", "utter_tier_review_to_manager"} & set(before)
                         or ORDER_OFFERS & set(before)):
            return await ActionEscalate().run(dispatcher, tracker, domain)
        if before and before[-1] == "utter_thank":  # "没有了" or "好的" after "不客气": the customer is done
            dispatcher.utter_message(response="utter_goodbye")
        elif before and before[-1] in ASKED_ANYTHING_ELSE:
            dispatcher.utter_message(response="utter_go_ahead" if said_yes else "utter_goodbye")
        elif not said_yes and any(name in RECORD_ANSWERS for name in before):
            dispatcher.utter_message(response="utter_answer_disputed")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return []


REPHRASE = ("utter_ask_rephrase", "utter_answer_the_question", "utter_one_question_at_a_time")


class ActionHandleFallback(Action):
    """First miss: ask to rephrase. Second miss in a row: a person takes over. A customer leaving, an order for
    the manager, a bill said to be paid, or service said to be back is what it would be however the model read it."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        if _only_a_mobile(tracker):  # "13800000010" out of the blue: the contact wants to be recognised
            return [SlotSet("pending_request", None), SlotSet("verify_mobile", None), SlotSet("otp_code", None),
                    FollowupAction("verification_form")]
        left = await hand_over_leaving(tracker, dispatcher)
        if left is not None:
            return left
        if await offered_to_manager(tracker, dispatcher):
            return _forgotten(tracker)
        if PAID.search(latest_text(tracker)) and tracker.active_loop_name is None:  # "我已经交过了", after "owed"
            dispatcher.utter_message(response="utter_paid_not_posted")
            return _forgotten(tracker)
        svc = await services()
        restored = await _restore_noted(svc, tracker, dispatcher)  # "the Hangzhou line is working again"
        if restored is not None:
            return restored
        followed = None if tracker.active_loop_name else await _follow_up(svc, tracker, dispatcher)
        if followed is not None:  # "第三条呢" right after the circuits' status
            return [*followed, FollowupAction("action_listen")]
        await count_in_session(svc, tracker, fallbacks=1)
        if (responses_before_latest(tracker) or [None])[-1] not in REPHRASE:
            # inside a form the examples of questions would mislead: the question asked is still open
            both = None if tracker.active_loop_name else two_questions(tracker)
            answered = await _answer_each(svc, tracker, dispatcher, both) if both else None
            if answered is not None:
                return [*answered, FollowupAction("action_listen")]
            if both:
                lang = lang_of(tracker)
                dispatcher.utter_message(response="utter_one_question_at_a_time",
                                         first=label("question", both[0], lang), second=label("question", both[1], lang))
            else:
                dispatcher.utter_message(response="utter_answer_the_question" if tracker.active_loop_name
                                         else "utter_ask_rephrase")
            return _forgotten(tracker)
        dispatcher.utter_message(response="utter_fallback_escalate")
        try:
            who = await verified_identity(tracker, svc)
            if who is None:
                dispatcher.utter_message(response="utter_escalation_unverified")
                return _forgotten(tracker)
            return await escalate(svc, tracker, dispatcher, who, EscalationReason.fallback)
        except DatabaseError:
            log.exception("fallback escalation failed: database unavailable")
            dispatcher.utter_message(response="utter_service_unavailable")
            return _forgotten(tracker)


async def _answer_each(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                       both: Tuple[str, str]) -> Optional[List[Dict[str, Any]]]:
    """A verified customer's account questions the model could not choose between ("查一下账单、SLA和补偿"), each
    answered as if asked alone; None when the customer must verify first, and is asked one at a time instead."""
    who = await verified_identity(tracker, svc)
    if who is None:
        return None
    said = latest_user_event(tracker)
    named = questions_named(spoken(said))
    return await answer_each(svc, tracker, dispatcher, who, lang_of(tracker),
                             [*named, *[q for q in both if q not in named]], said)  # in the order named


async def _restore_noted(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher) -> Optional[Events]:
    """Service said plainly to be back, read as nothing, outside a report: noted as a restore for a verified
    customer; None otherwise, or with the database away, and the fallback goes on as usual."""
    if tracker.active_loop_name is not None or not restore_read_as_fault(latest_text(tracker)):
        return None
    try:
        who = await verified_identity(tracker, svc)
        return None if who is None else await restore_misread(svc, tracker, dispatcher, who, lang_of(tracker))
    except DatabaseError:
        log.exception("service said to be back: database unavailable")
        return None


async def _follow_up(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher) -> Optional[Events]:
    """``answer_follow_up`` for a verified customer; with the database away, the fallback goes on as usual."""
    try:
        who = await verified_identity(tracker, svc)
        return None if who is None else await answer_follow_up(svc, tracker, dispatcher, who, lang_of(tracker))
    except DatabaseError:
        return None


def _only_a_mobile(tracker: Tracker) -> bool:
    """An unverified user outside any form sent a mobile number and nothing the model could act on: verification
    starts with that number (``extract_verify_mobile`` takes it), then asks what they need."""
    if tracker.active_loop_name or tracker.get_slot("verified") is True:
        return False
    return latest_intent(tracker) in ("inform", "nlu_fallback") and any(
        e.get("entity") == "phone_number" for e in (tracker.latest_message or {}).get("entities") or [])


def _forgotten(tracker: Tracker) -> List[Dict[str, Any]]:
    """The missed message reverted, but not the language it was written in (set by the reverted slot mapping):
    the replies to what follows, a bare number or a code, stay in that language."""
    return [UserUtteranceReverted(), SlotSet("language", lang_of(tracker))]
