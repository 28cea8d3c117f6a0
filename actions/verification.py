"""Verifying a chat user with a one-time code sent to their registered mobile.

The verification steps (``verify_mobile``, ``otp_code``) run on their own in
``verification_form`` before an account question, and inside the complaint and
fault forms, which ask for them first when the user is not yet verified.
"""

from __future__ import annotations

import logging
import re
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.account import (
    answer_account_manager,
    answer_account_summary,
    answer_service_status,
    answer_sla,
    answer_ticket_status,
)
from actions.common import (
    Identity,
    answer_also_asked,
    count_in_session,
    identity_slots,
    lang_of,
    response_in,
    verified_identity,
)
from actions.compensation import HOW_TO_CLAIM, answer_compensation
from actions.escalation import request_human
from actions.message_reading import (
    CODE_AGAIN,
    MID_FORM_QUESTIONS,
    NUMBER_GIVEN,
    OTHER_NUMBER,
    latest_intent,
    latest_text,
    responses_since_latest,
)
from actions.opt_out_words import opt_out_said
from actions.praise import give_praise
from actions.requests import bill_not_received, opt_in, opt_out, report_restored, urge_tickets, withdraw_ticket
from actions.services import Services, services
from actions.usage import answer_usage
from carecore.identity import CODE_FORMAT
from carecore.repository import DatabaseError
from carecore.texts import written_language

log = logging.getLogger(__name__)

# Sentinel that ends a form whose verification failed for good (locked out).
FAILED = "failed"

PENDING_HANDLERS = {
    "ask_account_summary": answer_account_summary,
    "ask_account_manager": answer_account_manager,
    "ask_usage": answer_usage,
    "ask_service_status": answer_service_status,
    "ask_sla": answer_sla,
    "ask_ticket_status": answer_ticket_status,
    "ask_compensation": answer_compensation,
    "report_bill_not_received": bill_not_received,
    "urge_ticket": urge_tickets,
    "report_restored": report_restored,
    "cancel": withdraw_ticket,  # a ticket to withdraw ("取消投诉"); a form's cancel never waits for verification
    "opt_out_sms": opt_out,
    "opt_in_sms": opt_in,
    "request_human": request_human,
    "praise": give_praise,
}
# Why verification is asked for, where it is not to see account data.
NEED_VERIFICATION = {"praise": "utter_praise_needs_verification"}
# The questions a report takes in between (rules.yml); one asked before verification is answered when it succeeds.
MID_REPORT_QUESTIONS = (*MID_FORM_QUESTIONS, "urge_ticket")


class VerificationSteps:
    """Validation of the two verification slots, shared by every form that verifies."""

    async def extract_verify_mobile(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: DomainDict) -> Dict[str, Any]:
        """A mobile number in the message that started verification ("我是13800000010，专线断了要报修") is taken
        rather than asked for; the domain's mapping reads one only as the answer to the question. Asked for the
        code, a customer who gives another number, or says the first was wrong ("那我换个号码"), starts again with
        it: the code went to a number they no longer mean. Asked for the mobile, a number that is none (a landline,
        a digit short) is told so."""
        mobile = next(tracker.get_latest_entity_values("phone_number"), None)
        if tracker.get_slot("verified") is True:
            return {}
        if tracker.get_slot("requested_slot") == "otp_code":
            if mobile:
                return {"verify_mobile": mobile}
            return {"verify_mobile": None} if OTHER_NUMBER.search(latest_text(tracker)) else {}
        intent, given = latest_intent(tracker), NUMBER_GIVEN.search(latest_text(tracker))
        if tracker.get_slot("requested_slot") == "verify_mobile" and not mobile and intent != "rate_service" and \
                (intent == "inform" or given):
            digits = re.sub(r"\D", "", given.group()) if given else ""
            if re.fullmatch(r"(?:86)?1[3-9][0-9]{9}", digits):  # "1380 000 0050": a mobile, spaced unusually
                return {"verify_mobile": digits[-11:]}
            # "0571-88888888", "一三八…": no mobile, so the mapping took nothing and the form, rejected, said nothing
            dispatcher.utter_message(response="utter_invalid_mobile")
            return {"verify_mobile": None}
        if tracker.get_slot("requested_slot") is not None or tracker.get_slot("verify_mobile"):
            return {}
        return {"verify_mobile": mobile} if mobile else {}

    async def validate_verify_mobile(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                     domain: DomainDict) -> Dict[str, Any]:
        if value is None:  # cleared by an action, not typed by the user
            return {"verify_mobile": None}
        svc = await services()
        sent = await send_code(svc, tracker, dispatcher, str(value or ""))
        if number_taken(sent.get("verify_mobile")):
            await count_in_session(svc, tracker, verifications_started=1)
        return sent

    async def validate_otp_code(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                domain: DomainDict) -> Dict[str, Any]:
        if value is None:
            return {"otp_code": None}
        if not CODE_FORMAT.fullmatch(str(value).strip()):  # a stray digit or word costs no attempt
            dispatcher.utter_message(response="utter_code_format")
            return {"otp_code": None}
        svc = await services()
        checked = await svc.otp.check(tracker.sender_id, str(value or ""), svc.clock.now())
        if checked.status == "ok":
            assert checked.customer is not None and checked.contact is not None
            # Nothing written yet in either script (a number, then the code): the reply goes in the profile's language.
            said = [e.get("text") for e in tracker.events if e.get("event") == "user"]
            lang = written_language(said, checked.contact.language)
            names = {"contact_name": checked.contact.name, "company_name": checked.customer.company_name}
            if lang == lang_of(tracker):
                dispatcher.utter_message(response="utter_verified", **names)
            else:
                dispatcher.utter_message(text=response_in(domain, "utter_verified", lang, **names),
                                         utter_action="utter_verified")
            await count_in_session(svc, tracker, verified=True, customer_id=checked.customer.id,
                                   manager_id=checked.customer.account_manager_id)
            slots = {e["name"]: e["value"] for e in identity_slots(checked.customer, checked.contact)}
            return {**slots, **await self._answer_pending(svc, dispatcher, tracker, (checked.customer, checked.contact)),
                    "otp_code": "ok", **({"language": lang} if lang != lang_of(tracker) else {})}
        if checked.status == "wrong":
            dispatcher.utter_message(response="utter_code_wrong", attempts_left=checked.attempts_left)
            return {"otp_code": None}
        if checked.status in ("expired", "none"):
            dispatcher.utter_message(response="utter_code_expired")
            return {"otp_code": None, "verify_mobile": None}
        dispatcher.utter_message(response="utter_code_locked")
        return {"otp_code": FAILED}

    @staticmethod
    async def _answer_pending(svc: Services, dispatcher: CollectingDispatcher, tracker: Tracker,
                              who: Identity) -> Dict[str, Any]:
        """A question asked while a report waited for verification, answered as soon as it succeeds, before the
        report goes on (the verification form answers its own once it ends: ``action_resume_request``)."""
        pending = tracker.get_slot("pending_request")
        if tracker.active_loop_name == "verification_form" or pending not in MID_REPORT_QUESTIONS:
            return {}
        events = await PENDING_HANDLERS[pending](svc, tracker, dispatcher, who, lang_of(tracker))
        return {**{e["name"]: e["value"] for e in events if e.get("event") == "slot"}, "pending_request": None}


async def send_code(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, mobile: str) -> Dict[str, Any]:
    """A code to ``mobile``, under the per-number hourly limit: the verification slots as they stand after it."""
    lang = lang_of(tracker)
    issued = await svc.otp.issue(tracker.sender_id, mobile, svc.clock.now(), language=lang,
                                 signature=svc.settings.sms_signature if lang == "zh" else "")
    if issued.status == "invalid":
        dispatcher.utter_message(response="utter_invalid_mobile")
        return {"verify_mobile": None}
    if issued.status == "rate_limited":  # codes asked for this number from any chat: nobody failed anything here
        dispatcher.utter_message(response="utter_code_limit")
        return {"verify_mobile": FAILED, "otp_code": FAILED}
    return {"verify_mobile": issued.mobile}


def number_taken(verify_mobile: Any) -> bool:
    """Whether ``verify_mobile`` holds a number a code went to: neither unasked nor refused after too many codes."""
    return verify_mobile not in (None, FAILED)


def code_awaited(tracker: Tracker) -> bool:
    """Whether the customer is being asked for a code already sent to the number they gave."""
    return tracker.get_slot("verified") is not True and tracker.get_slot("requested_slot") == "otp_code" \
        and number_taken(tracker.get_slot("verify_mobile"))


async def send_code_again(tracker: Tracker, dispatcher: CollectingDispatcher) -> List[EventType]:
    """"没收到验证码" while the code is awaited: a new one to the same number, where starting over would ask for the
    number again without saying why."""
    svc = await services()
    sent = await send_code(svc, tracker, dispatcher, str(tracker.get_slot("verify_mobile")))
    if number_taken(sent.get("verify_mobile")):
        dispatcher.utter_message(response="utter_code_sent_again")
    return [SlotSet(name, value) for name, value in sent.items()]


class ValidateVerificationForm(VerificationSteps, FormValidationAction):
    def name(self) -> str:
        return "validate_verification_form"


class ActionRequireVerification(Action):
    """Remember what the unverified user asked, to answer it once they are verified.

    The verification form always comes next (every rule says so); naming it as the
    follow-up spares the Rasa server one run of all its policies for each such turn.
    """

    def name(self) -> str:
        return "action_require_verification"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        intent = latest_intent(tracker)
        if code_awaited(tracker) and (intent == "verify_identity" or CODE_AGAIN.search(latest_text(tracker))):
            return [*await send_code_again(tracker, dispatcher), FollowupAction("verification_form")]
        if intent == "ask_compensation" and HOW_TO_CLAIM.search(latest_text(tracker)):
            # how compensation is had is no account data: told at once; what the company is owed, after verification
            dispatcher.utter_message(response="utter_compensation_how")
            dispatcher.utter_message(response="utter_own_compensation_after_verification")
            return [FollowupAction("action_listen")]
        if intent == "opt_out_sms" and not opt_out_said(latest_text(tracker)):  # "no idea": nothing to verify for
            dispatcher.utter_message(response="utter_answer_the_question" if tracker.active_loop_name
                                     else "utter_ask_rephrase")  # a report asked for the mobile: that stands
            return [FollowupAction("action_listen")]
        if intent == "verify_identity":  # asked for: no reason to give, and a question asked before stays pending
            pending = tracker.get_slot("pending_request")
        else:
            dispatcher.utter_message(response=NEED_VERIFICATION.get(intent, "utter_need_verification"))
            pending = intent if intent in PENDING_HANDLERS else None
        return [SlotSet("pending_request", pending),
                SlotSet("verify_mobile", None), SlotSet("otp_code", None), FollowupAction("verification_form")]


class ActionVerifyInForm(Action):
    """Asked to be verified while a report is written: a new code when one is awaited ("没收到验证码"), else where
    verification stands."""

    def name(self) -> str:
        return "action_verify_in_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        if code_awaited(tracker):
            return await send_code_again(tracker, dispatcher)
        dispatcher.utter_message(response="utter_verified_in_form")
        return []


class ActionResumeRequest(Action):
    """After verification: answer the question that needed it, or say it could not be done."""

    def name(self) -> str:
        return "action_resume_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        pending: Optional[str] = tracker.get_slot("pending_request")
        reset = [SlotSet("pending_request", None), SlotSet("verify_mobile", None), SlotSet("otp_code", None)]
        svc = await services()
        try:
            who = await verified_identity(tracker, svc)
            if who is None:  # verification failed or was abandoned
                return reset
            handler = PENDING_HANDLERS.get(pending or "")
            if handler is None:
                dispatcher.utter_message(response="utter_anything_else")
                return reset
            lang = lang_of(tracker)
            events = await handler(svc, tracker, dispatcher, who, lang)
            return reset + events + await answer_also_asked(svc, tracker, dispatcher, who, lang, pending or "")
        except DatabaseError:
            log.exception("resume after verification: database unavailable")
            dispatcher.utter_message(response="utter_service_unavailable")
            return reset


class ActionAskOtpCode(Action):
    """Asks for the code with the validity the SMS states (``OTP_TTL_S``), not a fixed five minutes. After a wrong
    code it is asked for again, not said to be sent again; after a message that is no code, what it is has just
    been said, and asks for it."""

    def name(self) -> str:
        return "action_ask_otp_code"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[EventType]:
        said = responses_since_latest(tracker)
        if "utter_code_format" in said:
            return []
        if "utter_code_wrong" in said:
            dispatcher.utter_message(response="utter_ask_otp_code_again")
            return []
        svc = await services()
        dispatcher.utter_message(response="utter_ask_otp_code", minutes=svc.otp.valid_minutes)
        return []
