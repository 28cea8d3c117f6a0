"""Complaint and fault forms: validation, and leaving a form (cancelled, service back, set aside for a fault).

Both forms verify the user first when needed (their required slots grow by the
verification steps), validate every answer, and end in an explicit confirmation, after which
``actions.ticket_submission`` creates the ticket. What a message already says is read by
``actions.message_reading``.
"""

from __future__ import annotations

import logging
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions import circuit_choice
from actions.circuit_choice import circuit_meant
from actions.circuit_sites import place_elsewhere
from actions.common import (
    COMPLAINT_SLOTS,
    FAULT_SLOTS,
    VERIFICATION_SLOTS,
    form_ended,
    lang_of,
    reset_slots,
    verified_identity,
)
from actions.confirmation import consent
from actions.escalation import hand_over_leaving
from actions.fault_circuit import (
    circuit_corrected,
    correcting_circuit,
    fixed_lately,
    notice_taken,
    offered_for_report,
    other_circuit_told,
    place_to_tell,
    reported_again,
    settle_circuit,
)
from actions.message_reading import (
    CANCEL_WORDS,
    CHANGE_ASKED,
    CORRECTING,
    FUTURE_START,
    LEAVING,
    MISREAD_COMPLAINT,
    NONE_OF_THESE,
    NOT_KNOWN,
    RESERVATION,
    RESTORED_WORDS,
    SEVERAL_CIRCUITS,
    SYMPTOM_WORDS,
    URGENT_WORDS,
    added_to,
    answer_not_question,
    answer_read_as,
    hotline_complained_of,
    just_created,
    last_said,
    latest_intent,
    latest_text,
    leaving_with_symptom,
    names_what_went_wrong,
    not_known,
    not_known_answer,
    only_a_time,
    opening_complaint,
    opening_message,
    responses_before_latest,
    says_a_time,
    says_restored,
    since_in,
    symptom_after_since,
)
from actions.requests import restore_misread, restore_read_as_fault, withdraw_ticket
from actions.services import services
from actions.ticket_pointing import one_of_tickets_listed, ticket_kinds_named, ticket_meant
from actions.verification import FAILED, ActionRequireVerification, VerificationSteps
from carecore.texts import label
from carecore.ticket_opening import MIN_DESCRIPTION, category_of

log = logging.getLogger(__name__)

# Answers in the customer's own words, where one may say the account will leave.
READ_FOR_LEAVING = ("complaint_category", "complaint_description", "fault_symptom", "fault_since")


class _VerifyingForm(VerificationSteps, FormValidationAction):
    """A form that asks an unverified user to verify first (dynamic required slots)."""

    for_form = ""

    def name(self) -> str:
        return f"validate_{self.for_form}"

    async def required_slots(self, domain_slots: List[str], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[str]:
        """Verification steps only for an unverified user; once they failed for good, only them,
        so the form ends and nothing else is asked."""
        if FAILED in (tracker.get_slot("verify_mobile"), tracker.get_slot("otp_code")):
            return VERIFICATION_SLOTS
        if tracker.get_slot("verified") is not True:
            return domain_slots
        return [slot for slot in domain_slots if slot not in VERIFICATION_SLOTS]

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> List[Dict[str, Any]]:
        """A customer saying they will leave in any answer taken from this message ("老是断，下个月就退网") reaches
        the manager once, whichever and however many questions it answers, and the report goes on."""
        if any(slot in READ_FOR_LEAVING for slot in tracker.slots_to_validate()):
            await hand_over_leaving(tracker, dispatcher)
        return await super().get_validation_events(dispatcher, tracker, domain)


def _complaint_said(tracker: Tracker, slot: str) -> Optional[str]:
    """The answer to ``slot`` in a message the model read as something the form's mappings leave out: a question
    that asks nothing, or what went wrong read as a chase, a request for a person, out of scope or the hotline."""
    return answer_not_question(tracker, slot) or not_known_answer(tracker, slot) or \
        answer_read_as(tracker, slot, MISREAD_COMPLAINT, names_what_went_wrong) or \
        answer_read_as(tracker, slot, ("ask_hotline",), hotline_complained_of)


class ValidateComplaintForm(_VerifyingForm):
    for_form = "complaint_form"

    async def extract_complaint_category(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> Dict[str, Any]:
        text = opening_message(tracker, "file_complaint")
        if text and not tracker.get_slot("complaint_category"):
            return opening_complaint(text)
        said = _complaint_said(tracker, "complaint_category")
        return {"complaint_category": said} if said else {}

    async def extract_complaint_description(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                            domain: DomainDict) -> Dict[str, Any]:
        """An answer that sounds like a question about the account; or, asked for the description, a "no" that
        names another category ("不对，是账单问题"), which corrects the category and asks again."""
        said = _complaint_said(tracker, "complaint_description")
        if said:
            return {"complaint_description": said}
        if tracker.get_slot("requested_slot") == "complaint_description" and latest_intent(tracker) == "deny":
            category = category_of(latest_text(tracker))
            if category != "other":
                return {"complaint_category": label("complaint_category", category, lang_of(tracker))}
        return {}

    async def validate_complaint_category(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                          domain: DomainDict) -> Dict[str, Any]:
        """An answer that also says what went wrong ("客户经理态度很差，打电话一直不接") is the description too, as
        in the message that opens the form; a bare "yes" or "no" is no answer, but "都不是" picks the list's "other"."""
        text = str(value or "").strip()
        if not text:
            return {"complaint_category": None}
        if latest_intent(tracker) in ("affirm", "deny") and category_of(text) == "other" and \
                not NONE_OF_THESE.search(text):  # "yes" names no category
            dispatcher.utter_message(response="utter_answer_the_question")
            return {"complaint_category": None}
        found = {"complaint_category": label("complaint_category", category_of(text), lang_of(tracker)),
                 "complaint_urgent": bool(URGENT_WORDS.search(text)) or tracker.get_slot("complaint_urgent") is True}
        described = opening_complaint(text).get("complaint_description")
        if described and not tracker.get_slot("complaint_description") and len(described) >= MIN_DESCRIPTION:
            found["complaint_description"] = described[:2000]
        return found

    async def validate_complaint_description(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                             domain: DomainDict) -> Dict[str, Any]:
        text = str(value or "").strip()
        if len(text) < MIN_DESCRIPTION:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"complaint_description": None}
        urgent = bool(URGENT_WORDS.search(text)) or tracker.get_slot("complaint_urgent") is True
        return {"complaint_description": text[:2000], "complaint_urgent": urgent}

    async def validate_complaint_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                         domain: DomainDict) -> Dict[str, Any]:
        return {"complaint_confirm": consent(value, tracker)}

    async def extract_complaint_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                        domain: DomainDict) -> Dict[str, Any]:
        """At confirmation, a correction that names another category ("不对，是账单问题", "no, it's about staff
        attitude"), or the complaint told anew, changes what it says and asks again; a correction that also says
        what went wrong ("actually it's about billing, we were overcharged") is the description too."""
        if tracker.get_slot("requested_slot") != "complaint_confirm":
            return {}
        text, intent = latest_text(tracker), latest_intent(tracker)
        if intent not in ("deny", "file_complaint") and not CORRECTING.match(text) or added_to(text):
            # "also he was rude on the phone", read as a complaint of its own, adds to this one
            return added_or_change_asked(tracker, dispatcher, "complaint_description", "complaint_confirm")
        said = CORRECTING.match(text)  # "不对，", "no,", "actually": what follows it is the complaint
        changed = opening_complaint(text[said.end():].lstrip(" ,，:：") if said else text)
        shown = {**changed, "complaint_category": label("complaint_category",
                                                        category_of(changed.get("complaint_category", "")),
                                                        lang_of(tracker))}
        if all(shown[slot] == tracker.get_slot(slot) for slot in changed):  # says nothing new
            return {}
        return {**changed, "complaint_confirm": None}


def added_or_change_asked(tracker: Tracker, dispatcher: CollectingDispatcher, said_slot: str,
                          confirm_slot: str) -> Dict[str, Any]:
    """At confirmation, more added to what was said ("加上：影响全公司") joins it, and the confirmation is asked
    again; a change asked for without saying what ("改一下", read as out of scope) is told how to make one."""
    text = latest_text(tracker)
    rest = added_to(text)
    if rest:
        said = str(tracker.get_slot(said_slot) or "")
        return {said_slot: f"{said}{'；' if lang_of(tracker) == 'zh' else '; '}{rest}"[:500], confirm_slot: None}
    if CHANGE_ASKED.fullmatch(text):
        dispatcher.utter_message(response="utter_how_to_confirm")
        return {confirm_slot: None}
    return {}


LATER_STEPS = ("fault_symptom", "fault_since", "fault_confirm")


class ValidateFaultForm(_VerifyingForm):
    for_form = "fault_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """A message read as a fault report that says plainly service is back ("the Wuhan line is working again") ends
        the report: as it opens, a verified customer's restore is noted on the open faults, as it is when read as
        one; in the middle, or with no fault to note it on, the report is dropped unsent. It had asked for the
        symptom of a line that works, or taken the message as the start."""
        if latest_intent(tracker) != "report_fault" or not restore_read_as_fault(latest_text(tracker)):
            return await super().run(dispatcher, tracker, domain)
        svc = await services()
        who = None if tracker.get_slot("requested_slot") is not None else await verified_identity(tracker, svc)
        if who is None:  # in the middle, or unverified: nothing to note it on
            dispatcher.utter_message(response="utter_fault_report_dropped")
            noted: List[EventType] = []
        else:
            noted = await restore_misread(svc, tracker, dispatcher, who, lang_of(tracker))
        return [*[e for e in noted if e.get("event") == "slot"], *form_ended(FAULT_SLOTS)]

    async def extract_fault_circuit(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[str, Any]:
        """A verified customer with one circuit, or whose opening message names one ("our 155M line…", "the second
        one is slow" after a list) or points back at the one just answered ("it's down again"), is not asked which
        (the confirmation names it); read when the form opens, and after verification by ``validate_otp_code``. At
        a later step, a correction naming another ("不对，是第三条") takes its place, and that step is asked again
        about it."""
        if tracker.get_slot("requested_slot") in LATER_STEPS and tracker.get_slot("fault_circuit"):
            return await circuit_corrected(tracker)
        svc = await services()
        asked = await verified_identity(tracker, svc) if tracker.get_slot("requested_slot") == "fault_circuit" else None
        if asked:
            chosen = circuit_choice.choice_read_as_question(tracker, asked[0].services) or answer_read_as(
                tracker, "fault_circuit", ("deny", "ask_hotline", "thank"),  # "都不是", "我打热线吧", "谢谢，第二条"
                lambda text: notice_taken(tracker, asked[0].services) or circuit_choice.choice(asked[0].services, text))
            if chosen:
                return {"fault_circuit": chosen}
            if NOT_KNOWN.search(latest_text(tracker)) and circuit_choice.named(asked[0].services,
                                                                                latest_text(tracker)) is None:
                dispatcher.utter_message(response="utter_circuit_unknown")  # "不知道是哪条": how else to tell it
                since = since_in(latest_text(tracker))  # "not sure, maybe 20 minutes ago": kept for its question
                return {"fault_circuit": None, **({"fault_since": since} if since else {})}
        if tracker.get_slot("requested_slot") is not None or tracker.get_slot("fault_circuit") \
                or tracker.get_slot("verified") is not True:
            return {}
        who = await verified_identity(tracker, svc)
        if who is None:
            return {}
        circuits, report = who[0].services, last_said(tracker, "report_fault")
        alone = len(circuits) == 1 and not circuit_choice.voice_unserved(circuits, report) and \
            not place_elsewhere(circuits, report)  # "座机打不通", "我们南京办公室的专线断了": maybe not it
        only = circuits[0] if alone else circuit_meant(who[0], tracker, "report_fault") or \
            offered_for_report(tracker, circuits)  # "报修", right after "电路…目前还没有故障单"
        if only is None:
            fixed = await fixed_lately(svc, who[0], report)
            return {"fault_circuit": fixed} if fixed else {}
        return {"fault_circuit": only.circuit_id}

    async def extract_fault_symptom(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[str, Any]:
        """The message that opened the form as the symptom when it names one ("专线时断时续"); a bare "报故障"
        leaves the question to be asked."""
        text = opening_message(tracker, "report_fault")
        if SYMPTOM_WORDS.search(text) and not tracker.get_slot("fault_symptom"):
            return {"fault_symptom": text}
        said = answer_not_question(tracker, "fault_symptom") or not_known_answer(tracker, "fault_symptom") or \
            answer_read_as(tracker, "fault_symptom", ("out_of_scope",), leaving_with_symptom) or \
            answer_read_as(tracker, "fault_symptom", ("deny", "file_complaint", "thank"), SYMPTOM_WORDS.search)
        # "就是不能用" read as a no, "我要投诉，网老是断" as a complaint, "谢谢，网络很慢" as thanks: the symptom all the
        # same; "thanks, that's all" is none
        return {"fault_symptom": said} if said else {}

    async def extract_fault_since(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: DomainDict) -> Dict[str, Any]:
        """When the fault began, if the message that opened the form says it ("专线从早上九点开始断了"); asked for
        it, a "no" or thanks that names a time ("不对，是三个小时前", "thanks, about an hour ago") or says it is not
        known ("不清楚"), which the domain's mapping leaves out, answers too."""
        if tracker.get_slot("requested_slot") == "fault_since":
            text = latest_text(tracker) if latest_intent(tracker) in ("deny", "cancel", "thank") else ""
            said = since_in(text) or (text if NOT_KNOWN.search(text) else None)
            return {"fault_since": said} if said else {}
        found = since_in(opening_message(tracker, "report_fault"))
        return {"fault_since": found} if found and not tracker.get_slot("fault_since") else {}

    async def validate_fault_circuit(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[str, Any]:
        """Asked which circuit, an answer that also says when the fault began ("第二条，从早上九点开始") answers both;
        one that says only when ("since 9am") is kept for that question, and this one is asked again. Several at once
        ("1和2", "三条都断了") are taken one at a time, each its own ticket and SLA clock: the customer is told so."""
        svc = await services()
        who = await verified_identity(tracker, svc)
        if who is None:  # the circuit id came with the first message, before verification
            return {"fault_circuit": value if isinstance(value, str) else None}
        text = str(value or "")
        asked = tracker.get_slot("requested_slot") == "fault_circuit"
        told = asked and not tracker.get_slot("fault_since") and not FUTURE_START.search(text)
        since = since_in(text) if told else None
        none_chosen = asked and circuit_choice.choice(who[0].services, text) is None
        if none_chosen and (notice_taken(tracker, who[0].services)  # the question ends the report
                            or place_to_tell(tracker, who[0].services)  # or tells of the place, not "not yours"
                            or reported_again(tracker, who[0].services, text)):  # or is asked again
            return {"fault_circuit": None}
        if none_chosen and SEVERAL_CIRCUITS.search(text):
            dispatcher.utter_message(response="utter_one_circuit_at_a_time")
            return {"fault_circuit": None, **({"fault_since": since} if since else {})}
        if none_chosen and (since or latest_intent(tracker) == "affirm"):
            if since:  # "yes" names no circuit either: the list is shown again
                dispatcher.utter_message(response="utter_fault_since_noted", since=since)
            return {"fault_circuit": None, **({"fault_since": since} if since else {})}
        circuit = await settle_circuit(svc, who[0], text, dispatcher, tracker)
        return {"fault_circuit": circuit, **({"fault_since": since} if circuit and since else {})}

    async def validate_otp_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[str, Any]:
        result = await super().validate_otp_code(value, dispatcher, tracker, domain)
        # A circuit named before verification is checked now that we know the customer; an only one is taken, and
        # so is the one the message that opened the form names ("our DIA line went down", "circuit 2 is down").
        if result.get("verified"):
            svc = await services()
            customer = await svc.db.customers.get(result["customer_id"])
            pending, report = str(tracker.get_slot("fault_circuit") or ""), last_said(tracker, "report_fault")
            if customer and not pending:
                said = circuit_choice.named(customer.services, report)
                pending = said.circuit_id if said else (await fixed_lately(svc, customer, report) or "")
            unserved = customer is None or not pending and (circuit_choice.voice_unserved(customer.services, report)
                                                            or place_elsewhere(customer.services, report) is not None)
            result["fault_circuit"] = None if unserved else \
                await settle_circuit(svc, customer, pending, dispatcher, tracker)
        return result

    async def validate_fault_symptom(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[str, Any]:
        text = str(value or "").strip()
        if correcting_circuit(tracker, "fault_symptom"):
            return {"fault_symptom": None}
        if len(text) < 2:
            dispatcher.utter_message(response="utter_description_too_short")
            return {"fault_symptom": None}
        when = only_a_time(text)
        if when:  # "从早上九点开始" says when, not what: kept for that question, and this one asked again
            dispatcher.utter_message(response="utter_fault_since_noted", since=when)
            return {"fault_symptom": None, "fault_since": when}
        since = since_in(text) if not tracker.get_slot("fault_since") else None  # "专线断了，两个小时了"
        return {"fault_symptom": text[:500], **({"fault_since": since} if since else {})}

    async def validate_fault_since(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                   domain: DomainDict) -> Dict[str, Any]:
        text = str(value or "").strip()
        if correcting_circuit(tracker, "fault_since"):  # "不对，是第三条": asked again, about that one
            return {"fault_since": None}
        if await other_circuit_told(tracker, dispatcher):  # "第三条也断了": its own report, next
            return {"fault_since": None}
        if latest_intent(tracker) == "affirm" and not since_in(text):  # a yes says no time
            return {"fault_since": None}
        if LEAVING.search(text):  # "下个月就退网" is no start: asked again
            return {"fault_since": None}
        if FUTURE_START.search(text):  # "明天早上": the fault has begun already
            dispatcher.utter_message(response="utter_fault_since_future")
            return {"fault_since": None}
        asked_twice = bool({"utter_fault_since_unclear", "utter_fault_since_unclear_symptom_noted"} &
                           set(responses_before_latest(tracker)))
        if text and not says_a_time(text) and SYMPTOM_WORDS.search(text):  # "完全断了": the symptom, no time
            if not asked_twice:  # what they said is kept, and they are told so
                dispatcher.utter_message(response="utter_fault_since_unclear_symptom_noted")
            since = label("fault_since", "unknown", lang_of(tracker)) if asked_twice else None
            return {"fault_since": since, "fault_symptom": _symptom_with(tracker, text)}
        if text and not says_a_time(text) and not asked_twice:
            dispatcher.utter_message(response="utter_fault_since_unclear")  # asked once more, then taken as said
            return {"fault_since": None}
        more = symptom_after_since(text)  # "从今天早上八点开始完全不通": the time, and the symptom told more fully
        if more:
            return {"fault_since": since_in(text), "fault_symptom": _symptom_with(tracker, more)}
        return {"fault_since": text[:100] if text else None}

    async def validate_fault_confirm(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[str, Any]:
        return {"fault_confirm": consent(value, tracker)}

    async def extract_fault_confirm(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[str, Any]:
        """At confirmation, a correction that says another time ("不对，是三个小时前", or the time alone, "昨天晚上开始"),
        or the fault told anew ("专线断了，两个小时了"), changes what it says and asks again."""
        if tracker.get_slot("requested_slot") != "fault_confirm":
            return {}
        if await other_circuit_told(tracker, dispatcher):  # "also the DDN line is slow": its own report, next
            return {"fault_confirm": None}
        text, intent = latest_text(tracker), latest_intent(tracker)
        more = added_or_change_asked(tracker, dispatcher, "fault_symptom", "fault_confirm")
        if more:
            return more
        since = since_in(text)
        changed: Dict[str, Any] = {"fault_since": since} if since and since != tracker.get_slot("fault_since") else {}
        if intent != "deny" and not CORRECTING.match(text) and not only_a_time(text):  # "昨天晚上开始": when, again
            if intent != "report_fault" or not SYMPTOM_WORDS.search(text):
                return {}
            changed["fault_symptom"] = text
        symptom, said_before = str(tracker.get_slot("fault_symptom") or ""), str(tracker.get_slot("fault_since") or "")
        if "fault_since" in changed and "fault_symptom" not in changed and said_before and said_before in symptom:
            # "专线从下午三点开始时断时续", corrected to two o'clock: the symptom no longer says three
            changed["fault_symptom"] = symptom.replace(said_before, "", 1).strip(" ，,。.") or symptom
        return {**changed, "fault_confirm": None} if changed else {}


class ActionCancelForm(Action):
    """Cancels the form under way; a fault report also ends when service is back. With none, "取消" right after a
    report or a list of tickets, or naming a ticket ("取消投诉", "撤销工单FT-…"), asks to withdraw it
    (``withdraw_ticket``), once the customer is verified; else there is nothing to cancel. A message read as a cancel
    that says none (``CANCEL_WORDS``) cancels nothing: a report goes on, and a ticket is asked about."""

    def name(self) -> str:
        return "action_cancel_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        said_so = bool(CANCEL_WORDS.search(latest_text(tracker)))  # "接下来会怎么处理" was read as a cancel
        if tracker.active_loop_name is None:
            if not (just_created(tracker) or ticket_meant(tracker) or ticket_kinds_named(latest_text(tracker))
                    or one_of_tickets_listed(tracker)):
                dispatcher.utter_message(response="utter_nothing_to_cancel" if said_so else "utter_ask_rephrase")
                return []
            svc = await services()
            who = await verified_identity(tracker, svc)
            if who is None:
                return await ActionRequireVerification().run(dispatcher, tracker, domain)
            return await withdraw_ticket(svc, tracker, dispatcher, who, lang_of(tracker))
        if tracker.active_loop_name == "fault_form" and latest_intent(tracker) == "report_restored":
            return _restored_while_reporting(tracker, dispatcher)
        if tracker.get_slot("requested_slot") and not_known(latest_text(tracker)):
            return [FollowupAction(tracker.active_loop_name)]  # "不清楚" answers the question: the form takes it
        if not said_so:  # a report half made is not dropped on a misreading
            dispatcher.utter_message(response="utter_answer_the_question")
            return [FollowupAction(tracker.active_loop_name)]
        dispatcher.utter_message(response="utter_cancelled")
        return form_ended(COMPLAINT_SLOTS + FAULT_SLOTS)


def _restored_while_reporting(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """"哦，网络恢复了" while the fault is being reported: nothing is left to report, and the report ends unsent. Said
    with a reservation ("恢复了但还是很慢"), or saying service is out again ("the problem is back"), it is the
    symptom, when that is asked; with no word saying service is back it was misread ("现在几点了"). In those the
    form goes on."""
    text = latest_text(tracker)
    if says_restored(text) and not RESERVATION.search(text):
        dispatcher.utter_message(response="utter_fault_report_dropped")
        return form_ended(FAULT_SLOTS)
    if tracker.get_slot("requested_slot") == "fault_symptom" and RESTORED_WORDS.search(text):
        return [SlotSet("fault_symptom", text), FollowupAction("fault_form")]  # the form validates it
    dispatcher.utter_message(response="utter_answer_the_question")
    return [FollowupAction("fault_form")]


class ActionSetComplaintAside(Action):
    """A fault reported while a complaint waits for an answer ("专线断了" at its confirmation): the repair comes
    first, and the customer hears that the complaint was not submitted rather than losing it unawares."""

    def name(self) -> str:
        return "action_set_complaint_aside"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_complaint_set_aside")
        return [SlotSet("requested_slot", None)] + reset_slots(COMPLAINT_SLOTS)


def _symptom_with(tracker: Tracker, more: str) -> str:
    """The symptom told so far, with what an answer to another question adds to it ("完全断了")."""
    symptom = str(tracker.get_slot("fault_symptom") or "")
    joined = symptom if more in symptom else f"{symptom}{'，' if lang_of(tracker) == 'zh' else '; '}{more}"
    return joined[:500]
