"""Who the customer is: session start trusts only signed sender ids, and chat users verify by one-time code."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any, Dict, Tuple

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import account, forms, session, verification
from actions.services import Services, use_services
from carecore.clock import FixedClock
from carecore.identity import challenge_id, portal_sender_id, sms_sender_id
from tests.action_kit import SECRET, VERIFIED_A, code_sent_to, only, run, slots_of, tracker

# --- identity ------------------------------------------------------------------------

@pytest.mark.parametrize("minted", [sms_sender_id, portal_sender_id])
async def test_session_start_verifies_a_genuine_sms_or_portal_sender(svc: Services, domain, minted) -> None:
    _, events = await run(session.ActionSessionStart(), tracker(sender=minted("+8613800138000", SECRET)), domain)
    slots = slots_of(events)
    assert slots["verified"] is True and slots["customer_id"] == "KA0000001" and slots["contact_id"] == "0000001-01"
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"


@pytest.mark.parametrize("sender", [
    "sms:+8613800138000:" + "0" * 24,          # forged MAC
    "sms:+8613800138000:unsigned",             # the channel had no secret
    "+8613800138000",                          # a REST client naming the number
    "sms:+8613800138000",
    "portal:+8613800138000.00ff:" + "0" * 24,  # forged portal-chat id
    "portal:" + sms_sender_id("+8613800138000", SECRET)[4:],  # an SMS id's MAC under the portal prefix
])
async def test_session_start_does_not_trust_other_sender_ids(svc: Services, domain, sender: str) -> None:
    _, events = await run(session.ActionSessionStart(), tracker(sender=sender), domain)
    assert "verified" not in slots_of(events)


async def test_unregistered_sms_number_stays_unverified(svc: Services, domain) -> None:
    _, events = await run(session.ActionSessionStart(), tracker(sender=sms_sender_id("+8613700000000", SECRET)), domain)
    assert "verified" not in slots_of(events)


# --- verification by one-time code -------------------------------------------------------------

async def test_one_time_code_verifies_the_chat_user(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(text="13800138000", intent="inform", active_loop="verification_form")
    assert await form.validate_verify_mobile("138 0013 8000", dispatcher, t, domain) == {"verify_mobile": "+8613800138000"}
    code = code_sent_to(emu, "+8613800138000")
    stored = await svc.db.otp.get(challenge_id("chat-user-1"))
    assert stored is not None and code not in stored.code_hash and len(stored.code_hash) == 64
    wrong = "000000" if code != "000000" else "111111"
    result = await form.validate_otp_code(wrong, dispatcher, t, domain)
    assert result == {"otp_code": None} and dispatcher.messages[-1]["attempts_left"] == 2
    result = await form.validate_otp_code(code, dispatcher, t, domain)
    assert result["verified"] is True and result["customer_id"] == "KA0000001" and result["otp_code"] == "ok"
    assert dispatcher.messages[-1]["response"] == "utter_verified"
    assert await form.validate_otp_code(code, dispatcher, t, domain) == {"otp_code": None, "verify_mobile": None}


@pytest.mark.parametrize("earlier, replied", [
    ("13900139000", "Verified. Hello David Chen (杭州华信物流有限公司)."),   # only digits so far: the profile's English
    ("我要验证身份", None),                                              # written in Chinese: stays Chinese
])
async def test_the_code_is_answered_in_the_language_the_customer_writes_or_else_their_profiles(
        svc: Services, domain, emulator, earlier: str, replied: str) -> None:
    form, dispatcher = verification.ValidateVerificationForm(), CollectingDispatcher()
    t = tracker(active_loop="verification_form", text=earlier, slots={"language": "zh"})
    await form.validate_verify_mobile("13900139000", dispatcher, t, domain)
    code = code_sent_to(emulator[0], "+8613900139000")
    said = tracker(active_loop="verification_form", text=code, slots={"language": "zh"},
                   events=[{"event": "user", "text": earlier}])
    result = await form.validate_otp_code(code, dispatcher, said, domain)
    assert result["verified"] is True
    if replied:
        assert result["language"] == "en"
        assert dispatcher.messages[-1]["text"] == replied and dispatcher.messages[-1]["utter_action"] == "utter_verified"
    else:
        assert "language" not in result and dispatcher.messages[-1]["response"] == "utter_verified"


@pytest.mark.parametrize("asked, expected", [
    (None, {"verify_mobile": "+8613800138000"}),
    ("verify_mobile", {}),  # the domain's mapping reads the answer to the question
    ("otp_code", {"verify_mobile": "+8613800138000"}),  # another number where the code was asked for: a new start
])
async def test_a_number_in_the_message_that_starts_verification_is_taken(svc: Services, domain, emulator, asked,
                                                                          expected) -> None:
    said = tracker(slots={"requested_slot": asked}, intent="ask_usage", text="我是138 0013 8000，上个月账单多少",
                   entities=[{"entity": "phone_number", "value": "138 0013 8000"}], active_loop="verification_form")
    _, events = await run(verification.ValidateVerificationForm(), said, domain)
    assert {k: v for k, v in slots_of(events).items() if k == "verify_mobile"} == expected
    assert bool(emulator[0].messages) == bool(expected)  # the code went out at once


@pytest.mark.parametrize("text, told", [
    ("0571-88888888", ["utter_invalid_mobile"]),  # a landline: the form had taken nothing and said nothing
    ("138 0000 005", ["utter_invalid_mobile"]),  # a digit short
    ("我的手机是一三八零零零零零零五零", ["utter_invalid_mobile"]),  # said, not typed in digits
    ("1380 013 8000", []),  # a mobile spaced unusually: taken, and the code sent
])
async def test_asked_for_the_mobile_a_number_that_is_none_is_told_so(svc: Services, domain, emulator, text,
                                                                     told) -> None:
    said = tracker(slots={"requested_slot": "verify_mobile"}, intent="inform", text=text,
                   active_loop="verification_form")  # the model's answer-to-a-question intent
    messages, events = await run(verification.ValidateVerificationForm(), said, domain)
    assert [m["response"] for m in messages if m["response"] != "utter_code_sent"] == told
    assert slots_of(events)["verify_mobile"] == (None if told else "+8613800138000")
    assert bool(emulator[0].messages) is not told


@pytest.mark.parametrize("text, expected", [
    ("那我换个号码", {"verify_mobile": None}), ("号码输错了", {"verify_mobile": None}),
    ("sorry, wrong number", {"verify_mobile": None}), ("验证码输错了", {}), ("还没收到", {}),
])
async def test_asked_for_the_code_a_customer_may_go_back_to_the_number(svc: Services, domain, emulator, text,
                                                                       expected) -> None:
    said = tracker(slots={"requested_slot": "otp_code", "verify_mobile": "+8613800138000"}, intent="inform", text=text,
                   active_loop="verification_form")
    _, events = await run(verification.ValidateVerificationForm(), said, domain)
    assert {k: v for k, v in slots_of(events).items() if k == "verify_mobile"} == expected
    assert not emulator[0].messages  # nothing sent until a number is given


async def code_asked_for(domain: Dict[str, Any], emulator) -> Tuple[Any, CollectingDispatcher, Tracker, str]:
    """The verification form once a registered mobile was given, and the code sent to it."""
    form, dispatcher = verification.ValidateVerificationForm(), CollectingDispatcher()
    t = tracker(active_loop="verification_form")
    await form.validate_verify_mobile("13800138000", dispatcher, t, domain)
    return form, dispatcher, t, code_sent_to(emulator[0], "+8613800138000")


async def test_code_expires_after_five_minutes(svc: Services, domain, emulator, clock: FixedClock) -> None:
    form, dispatcher, t, code = await code_asked_for(domain, emulator)
    clock.advance(timedelta(minutes=5, seconds=1))
    assert await form.validate_otp_code(code, dispatcher, t, domain) == {"otp_code": None, "verify_mobile": None}
    assert dispatcher.messages[-1]["response"] == "utter_code_expired"


async def test_three_wrong_codes_lock_the_challenge(svc: Services, domain, emulator) -> None:
    form, dispatcher, t, code = await code_asked_for(domain, emulator)
    wrong = "000000" if code != "000000" else "111111"
    await form.validate_otp_code(wrong, dispatcher, t, domain)
    await form.validate_otp_code(wrong, dispatcher, t, domain)
    assert await form.validate_otp_code(wrong, dispatcher, t, domain) == {"otp_code": verification.FAILED}
    assert dispatcher.messages[-1]["response"] == "utter_code_locked"
    assert (await form.validate_otp_code(code, dispatcher, t, domain)) == {"otp_code": None, "verify_mobile": None}


async def test_unregistered_number_gets_the_same_answer_and_no_sms(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(active_loop="verification_form")
    assert await form.validate_verify_mobile("13700000000", dispatcher, t, domain) == {"verify_mobile": "+8613700000000"}
    assert not emu.messages
    assert (await form.validate_otp_code("123456", dispatcher, t, domain))["otp_code"] is None
    assert await form.validate_verify_mobile("12345", dispatcher, t, domain) == {"verify_mobile": None}
    assert dispatcher.messages[-1]["response"] == "utter_invalid_mobile"
    # Slots cleared by an action are validated too, and must not produce messages.
    quiet = CollectingDispatcher()
    assert await form.validate_verify_mobile(None, quiet, t, domain) == {"verify_mobile": None}
    assert await form.validate_otp_code(None, quiet, t, domain) == {"otp_code": None}
    assert quiet.messages == []


async def test_a_disowned_number_verifies_nobody_even_with_a_code_sent_before(svc: Services, domain, emulator,
                                                                                clock: FixedClock) -> None:
    form, dispatcher, t, code = await code_asked_for(domain, emulator)
    await svc.db.customers.disown_number("0000001-01", source="assistant", actor="contact:0000001-01",
                                         at=clock.now())
    assert (await form.validate_otp_code(code, dispatcher, t, domain))["otp_code"] is None
    assert dispatcher.messages[-1]["response"] == "utter_code_expired"
    _, events = await run(session.ActionSessionStart(), tracker(sender=sms_sender_id("+8613800138000", SECRET)), domain)
    assert "verified" not in slots_of(events)  # an SMS from it is a stranger's


async def test_codes_per_number_are_rate_limited(svc: Services, domain, emulator) -> None:
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    for i in range(5):
        t = tracker(sender=f"chat-{i}", active_loop="verification_form")
        assert (await form.validate_verify_mobile("13800138000", dispatcher, t, domain))["verify_mobile"]
    t = tracker(sender="chat-9", active_loop="verification_form")
    assert await form.validate_verify_mobile("13800138000", dispatcher, t, domain) == {
        "verify_mobile": verification.FAILED, "otp_code": verification.FAILED}
    assert dispatcher.messages[-1]["response"] == "utter_code_limit"  # not "too many failed attempts": none failed


async def test_pending_question_is_answered_after_verification(svc: Services, domain) -> None:
    messages, events = await run(verification.ActionRequireVerification(), tracker(intent="ask_usage"), domain)
    assert only(messages)["response"] == "utter_need_verification"
    assert slots_of(events)["pending_request"] == "ask_usage"
    assert events[-1] == {"event": "followup", "name": "verification_form", "timestamp": None}
    messages, events = await run(verification.ActionResumeRequest(),
                                 tracker(slots={**VERIFIED_A, "pending_request": "ask_usage"}), domain)
    assert only(messages)["response"] == "utter_usage_report"
    assert slots_of(events)["pending_request"] is None
    messages, _ = await run(verification.ActionResumeRequest(),
                            tracker(slots={"verified": False, "pending_request": "ask_usage"}), domain)
    assert messages == []


async def test_questions_joined_in_one_message_are_all_answered_before_and_after_verification(svc: Services,
                                                                                          domain) -> None:
    asked = "查一下上个月账单和客户经理电话"  # read as the manager's contact alone
    question = [{"event": "user", "text": asked, "parse_data": {"intent": {"name": "ask_account_manager"}}}]
    after_code = tracker(slots={**VERIFIED_A, "pending_request": "ask_account_manager"}, intent="inform",
                         text="123456", events=question)
    messages, _ = await run(verification.ActionResumeRequest(), after_code, domain)
    assert [m["response"] for m in messages] == ["utter_account_manager", "utter_usage_report"]
    assert messages[1]["month"] == "2026年10月"  # "上个月", read from the question, not the code
    verified = tracker(slots=VERIFIED_A, intent="ask_account_manager", text=asked)
    messages, _ = await run(account.ActionAccountManager(), verified, domain)
    assert [m["response"] for m in messages] == ["utter_account_manager", "utter_usage_report"]
    messages, _ = await run(account.ActionAccountManager(), tracker(slots=VERIFIED_A, intent="ask_account_manager",
                                                                     text="客户经理电话多少"), domain)
    assert [m["response"] for m in messages] == ["utter_account_manager"]
    three = tracker(slots=VERIFIED_A, intent="ask_account_manager", text="客户经理电话、上个月账单和专线状态")
    messages, _ = await run(account.ActionAccountManager(), three, domain)
    assert [m["response"] for m in messages] == ["utter_account_manager", "utter_usage_report", "utter_service_status"]


async def test_how_compensation_is_had_is_told_without_verification(svc: Services, domain) -> None:
    messages, events = await run(verification.ActionRequireVerification(),
                                 tracker(intent="ask_compensation", text="断网了怎么申请补偿"), domain)
    assert [m["response"] for m in messages] == ["utter_compensation_how", "utter_own_compensation_after_verification"]
    assert events == [{"event": "followup", "name": "action_listen", "timestamp": None}]
    messages, events = await run(verification.ActionRequireVerification(),
                                 tracker(intent="ask_compensation", text="我们有补偿吗"), domain)  # the company's own
    assert only(messages)["response"] == "utter_need_verification" and slots_of(events)["pending_request"] == \
        "ask_compensation"


async def test_a_misread_opt_out_asks_no_verification(svc: Services, domain) -> None:
    """"no idea", read as an opt-out: nothing to verify for, and nothing waits for it."""
    messages, events = await run(verification.ActionRequireVerification(),
                                 tracker(intent="opt_out_sms", text="no idea"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase"
    assert events == [{"event": "followup", "name": "action_listen", "timestamp": None}]
    asked = tracker(intent="opt_out_sms", text="no idea", active_loop="complaint_form")  # asked for the mobile
    messages, events = await run(verification.ActionRequireVerification(), asked, domain)
    assert only(messages)["response"] == "utter_answer_the_question" and "pending_request" not in slots_of(events)
    messages, events = await run(verification.ActionRequireVerification(), tracker(intent="opt_out_sms", text="退订"),
                                 domain)
    assert only(messages)["response"] == "utter_need_verification" and slots_of(events)["pending_request"] == \
        "opt_out_sms"


async def test_asking_to_be_verified_keeps_the_question_asked_before(svc: Services, domain) -> None:
    """"I want to verify my identity" while verifying for a bill: no reason given, the bill still answered after."""
    asked = tracker(intent="verify_identity", active_loop="verification_form", slots={"pending_request": "ask_usage"})
    messages, events = await run(verification.ActionRequireVerification(), asked, domain)
    assert messages == [] and slots_of(events)["pending_request"] == "ask_usage"
    messages, events = await run(verification.ActionRequireVerification(), tracker(intent="verify_identity"), domain)
    assert messages == [] and slots_of(events)["pending_request"] is None
    assert events[-1] == {"event": "followup", "name": "verification_form", "timestamp": None}


@pytest.mark.parametrize("action, intent, text, active_loop", [
    (verification.ActionRequireVerification(), "verify_identity", "没收到验证码", "verification_form"),
    (verification.ActionRequireVerification(), "opt_in_sms", "重新发一下", "verification_form"),  # read as another ask
    (verification.ActionVerifyInForm(), "verify_identity", "I didn't get the code", "fault_form"),
])
async def test_a_code_that_did_not_come_is_sent_again_to_the_same_number(svc: Services, domain, emulator,
                                                                         clock: FixedClock, action, intent, text,
                                                                         active_loop) -> None:
    """Starting over would ask for the number again without saying why; the code awaited is replaced."""
    form, _, asked, first = await code_asked_for(domain, emulator)
    clock.advance(timedelta(seconds=40))
    waiting = {"requested_slot": "otp_code", "verify_mobile": "+8613800138000", "pending_request": "ask_usage"}
    messages, events = await run(action, tracker(intent=intent, text=text, active_loop=active_loop, slots=waiting),
                                 domain)
    assert [m["response"] for m in messages] == ["utter_code_sent_again"]
    assert slots_of(events) == {"verify_mobile": "+8613800138000"}  # the question asked before still waits
    assert len(emulator[0].messages) == 2
    second = code_sent_to(emulator[0], "+8613800138000")
    checked = await form.validate_otp_code(first, CollectingDispatcher(), asked, domain)
    assert checked["otp_code"] is None  # the first code no longer counts
    assert (await form.validate_otp_code(second, CollectingDispatcher(), asked, domain))["verified"] is True


async def test_asked_to_verify_mid_report_with_no_code_awaited_says_where_it_stands(svc: Services, domain) -> None:
    messages, events = await run(verification.ActionVerifyInForm(), tracker(intent="verify_identity",
                                                                            active_loop="fault_form",
                                                                            slots=VERIFIED_A), domain)
    assert [m["response"] for m in messages] == ["utter_verified_in_form"] and events == []


async def test_a_question_asked_while_a_report_waits_for_verification_is_answered_when_it_succeeds(
        svc: Services, domain, emulator) -> None:
    """"What's my SLA?" before verification in the fault form: the form goes on, and the answer comes with the code."""
    emu, _ = emulator
    asked = tracker(intent="ask_sla", text="what's my SLA?", active_loop="fault_form", slots={"language": "en"})
    messages, events = await run(account.ActionSla(), asked, domain)
    assert only(messages)["response"] == "utter_answer_after_verification"
    assert slots_of(events) == {"pending_request": "ask_sla"}  # nothing of the form's is touched
    form = forms.ValidateFaultForm()
    dispatcher = CollectingDispatcher()
    t = tracker(text="13800138000", intent="inform", active_loop="fault_form", slots={"pending_request": "ask_sla"})
    await form.validate_verify_mobile("13800138000", dispatcher, t, domain)
    result = await form.validate_otp_code(code_sent_to(emu, "+8613800138000"), dispatcher, t, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_verified", "utter_sla"]
    assert result["verified"] is True and result["pending_request"] is None and result["otp_code"] == "ok"
    # the verification form leaves it to action_resume_request, once it ends
    dispatcher = CollectingDispatcher()
    t = tracker(intent="inform", active_loop="verification_form", sender="chat-2", slots={"pending_request": "ask_sla"})
    await form.validate_verify_mobile("13800138000", dispatcher, t, domain)
    result = await form.validate_otp_code(code_sent_to(emu, "+8613800138000"), dispatcher, t, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_verified"] and "pending_request" not in result


async def test_the_code_is_asked_for_with_the_validity_its_sms_states(svc: Services, domain) -> None:
    use_services(dataclasses.replace(svc, settings=svc.settings.copy(update={"otp_ttl_s": 600})))
    messages, _ = await run(verification.ActionAskOtpCode(), tracker(), domain)
    assert only(messages) == {**only(messages), "response": "utter_ask_otp_code", "minutes": 10}


@pytest.mark.parametrize("said, asked", [
    ("utter_code_wrong", ["utter_ask_otp_code_again"]),  # had said the code was sent again
    ("utter_code_format", []),  # which asks for it already
])
async def test_the_code_asked_for_again_is_not_said_to_be_sent_again(svc: Services, domain, said, asked) -> None:
    wrong = tracker(intent="inform", text="123456", after_user=[
        {"event": "bot", "text": "…", "metadata": {"utter_action": said}}])
    messages, _ = await run(verification.ActionAskOtpCode(), wrong, domain)
    assert [m["response"] for m in messages] == asked
