"""Every custom action against the real mongod and the Twilio emulator.

Actions are called as the action server calls them: with a rasa_sdk Tracker
built from slots and events, a CollectingDispatcher, and the real domain.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Dict, List, Optional

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions import account, escalation, forms, requests, session, verification
from actions.services import Services, use_services
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.identity import challenge_id, portal_sender_id, sms_sender_id
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun.twilio_emulator import TwilioEmulator
from tests import factories

SECRET = "test-sender-secret"
# Monday 23 Nov 2026, 10:00 in Shanghai: inside business hours.
MONDAY_10 = datetime(2026, 11, 23, 10, 0)


@pytest.fixture(scope="module")
def domain() -> Dict[str, Any]:
    return Domain.load("domain").as_dict()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(MONDAY_10)


@pytest.fixture
async def svc(db: Database, gateway: SmsGateway, clock: FixedClock) -> AsyncIterator[Services]:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    await db.customers.insert(factories.other_customer())
    await db.usage.upsert(factories.usage(month="2026-09", amount_fen=1000000))
    await db.usage.upsert(factories.usage(month="2026-10", amount_fen=1288800))
    await db.usage.upsert(factories.usage(customer_id="KA0000002", month="2026-10", amount_fen=99))
    services = Services(db, gateway, clock, Settings(sender_id_secret=SECRET, mongodb_uri="unused"))
    use_services(services)
    yield services
    use_services(None)


def tracker(*, slots: Optional[Dict[str, Any]] = None, intent: str = "", text: str = "",
            entities: Optional[List[Dict[str, Any]]] = None, sender: str = "chat-user-1",
            events: Optional[List[Dict[str, Any]]] = None, active_loop: Optional[str] = None,
            channel: str = "rest", after_user: Optional[List[Dict[str, Any]]] = None) -> Tracker:
    latest = {"intent": {"name": intent, "confidence": 0.99}, "entities": entities or [], "text": text}
    all_events = (list(events or []) + [{"event": "user", "text": text, "parse_data": latest, "input_channel": channel}]
                  + list(after_user or []))
    return Tracker(sender, dict(slots or {}), latest, all_events, False, None,
                   {"name": active_loop} if active_loop else {}, "action_listen")


VERIFIED_A = {"verified": True, "customer_id": "KA0000001", "contact_id": "0000001-01", "language": "zh"}
VERIFIED_A_EN = {**VERIFIED_A, "contact_id": "0000001-02", "language": "en"}


async def run(action: Any, t: Tracker, domain: Dict[str, Any]) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, t, domain)
    return dispatcher.messages, events


def slots_of(events: list) -> Dict[str, Any]:
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


def only(messages: list) -> Dict[str, Any]:
    assert len(messages) == 1, messages
    return messages[0]


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


# --- account questions -------------------------------------------------------------------

async def test_account_summary_and_manager(svc: Services, domain) -> None:
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert m["response"] == "utter_account_summary"
    assert (m["company_name"], m["customer_class"], m["tier"], m["manager_name"]) == (
        "杭州华信物流有限公司", "重要客户、高值客户", "钻石卡", "林海燕")
    assert "2M数字电路" in m["services"]
    messages, _ = await run(account.ActionAccountManager(), tracker(slots=VERIFIED_A_EN), domain)
    m = only(messages)
    assert (m["manager_name"], m["manager_mobile"]) == ("林海燕", "+8613920000001")


async def test_usage_for_a_named_month_with_change(svc: Services, domain) -> None:
    messages, events = await run(account.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "10月"}), domain)
    m = only(messages)
    assert m["response"] == "utter_usage_report" and m["amount"] == "12,888.00" and m["change"] == "较上月增加28.9%"
    assert m["voice_minutes"] == "3,200" and m["data_gb"] == "200.0"
    assert slots_of(events) == {"month": None}
    # no month given: the last complete month (Oct 2026 on 23 Nov); English variant
    messages, _ = await run(account.ActionUsage(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["month"] == "2026-10" and only(messages)["change"] == "+28.9% vs the previous month"
    messages, _ = await run(account.ActionUsage(), tracker(slots={**VERIFIED_A, "month": "March"}), domain)
    assert only(messages) == {**only(messages), "response": "utter_usage_missing", "month": "2026-03"}


async def test_usage_without_a_previous_month_reads_as_one_sentence(svc: Services, domain) -> None:
    for slots, expected in ((VERIFIED_A, "（无上月数据可比）。"), (VERIFIED_A_EN, "(no previous month to compare).")):
        messages, _ = await run(account.ActionUsage(), tracker(slots={**slots, "month": "2026-09"}), domain)
        m = only(messages)
        [text] = [variant["text"] for variant in domain["responses"]["utter_usage_report"]  # en has a condition
                  if bool(variant.get("condition")) == (slots["language"] == "en")]
        rendered = text.format(**{k: v for k, v in m.items() if k != "response"})
        assert rendered.endswith(expected) and "较上月无" not in rendered and "vs the previous month)" not in rendered


async def test_service_status_sla_and_tickets(svc: Services, domain) -> None:
    messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A), domain)
    assert "ZJ-2M-0000001-1" in only(messages)["lines"] and "正常" in only(messages)["lines"]
    messages, _ = await run(account.ActionSla(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert (m["response_hours"], m["restore_hours"], m["tier"]) == ("2", "4", "钻石卡")
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_no_open_tickets"
    await svc.db.tickets.create(factories.ticket())
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots={**VERIFIED_A, "ticket_id": "ft-20261123-0001"}),
                            domain)
    m = only(messages)
    assert m["response"] == "utter_ticket_status" and m["status"] == "已受理" and "修复时限" in m["deadline"]


# --- nobody sees another customer's data ------------------------------------------------------

async def test_foreign_ticket_circuit_and_usage_are_never_disclosed(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0002", customer_id="KA0000002",
                                                 circuit_id="SH-155M-0000002-1"))
    messages, _ = await run(account.ActionTicketStatus(),
                            tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261123-0002"}), domain)
    assert only(messages)["response"] == "utter_ticket_not_found"
    messages, _ = await run(account.ActionServiceStatus(),
                            tracker(slots={**VERIFIED_A, "circuit_id": "SH-155M-0000002-1"}), domain)
    assert only(messages)["response"] == "utter_circuit_not_found"
    # Naming the other company changes nothing: answers come from the verified identity only.
    messages, _ = await run(account.ActionUsage(),
                            tracker(slots=VERIFIED_A, text="上海东方证券上个月账单多少", intent="ask_usage"), domain)
    assert only(messages)["amount"] == "12,888.00"
    # Slots that do not belong together (a contact of another customer) are not an identity.
    forged = {**VERIFIED_A, "contact_id": "0000002-01"}
    messages, events = await run(account.ActionUsage(), tracker(slots=forged), domain)
    assert only(messages)["response"] == "utter_need_verification" and slots_of(events) == {"verified": False}
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots={"verified": False}), domain)
    assert only(messages)["response"] == "utter_need_verification"


# --- verification by one-time code -------------------------------------------------------------

def code_sent_to(emu: TwilioEmulator, number: str) -> str:
    bodies = [m["body"] for m in emu.messages.values() if m["to"] == number]
    assert bodies, "no code was sent"
    return re.search(r"[0-9]{6}", bodies[-1]).group(0)


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


async def test_code_expires_after_five_minutes(svc: Services, domain, emulator, clock: FixedClock) -> None:
    emu, _ = emulator
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(active_loop="verification_form")
    await form.validate_verify_mobile("13800138000", dispatcher, t, domain)
    code = code_sent_to(emu, "+8613800138000")
    clock.advance(timedelta(minutes=5, seconds=1))
    assert await form.validate_otp_code(code, dispatcher, t, domain) == {"otp_code": None, "verify_mobile": None}
    assert dispatcher.messages[-1]["response"] == "utter_code_expired"


async def test_three_wrong_codes_lock_the_challenge(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(active_loop="verification_form")
    await form.validate_verify_mobile("13800138000", dispatcher, t, domain)
    code = code_sent_to(emu, "+8613800138000")
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


async def test_codes_per_number_are_rate_limited(svc: Services, domain, emulator) -> None:
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    for i in range(5):
        t = tracker(sender=f"chat-{i}", active_loop="verification_form")
        assert (await form.validate_verify_mobile("13800138000", dispatcher, t, domain))["verify_mobile"]
    t = tracker(sender="chat-9", active_loop="verification_form")
    assert await form.validate_verify_mobile("13800138000", dispatcher, t, domain) == {
        "verify_mobile": verification.FAILED, "otp_code": verification.FAILED}


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


# --- complaint form -------------------------------------------------------------------------------

async def test_complaint_form_asks_verification_only_when_needed(svc: Services, domain) -> None:
    form = forms.ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    slots = domain["forms"]["complaint_form"]["required_slots"]
    assert await form.required_slots(slots, dispatcher, tracker(), domain) == slots
    assert await form.required_slots(slots, dispatcher, tracker(slots=VERIFIED_A), domain) == [
        "complaint_category", "complaint_description", "complaint_confirm"]
    assert await form.required_slots(slots, dispatcher, tracker(slots={"otp_code": "failed"}), domain) == [
        "verify_mobile", "otp_code"]


async def test_complaint_validation_and_submission(svc: Services, domain, clock: FixedClock) -> None:
    form = forms.ValidateComplaintForm()
    dispatcher = CollectingDispatcher()
    t = tracker(slots=VERIFIED_A)
    assert (await form.validate_complaint_category("账单扣费有问题", dispatcher, t, domain))["complaint_category"] == "账单费用"
    assert await form.validate_complaint_description("   ", dispatcher, t, domain) == {"complaint_description": None}
    assert dispatcher.messages[-1]["response"] == "utter_description_too_short"
    ok = await form.validate_complaint_description("上个月多扣了两千元", dispatcher, t, domain)
    assert ok == {"complaint_description": "上个月多扣了两千元", "complaint_urgent": False}
    filled = {**VERIFIED_A, "complaint_category": "账单费用", "complaint_description": "上个月多扣了两千元",
              "complaint_confirm": True}
    messages, events = await run(forms.ActionSubmitComplaint(), tracker(slots=filled), domain)
    m = only(messages)
    assert m["response"] == "utter_complaint_created" and m["ticket_id"] == "CP-20261123-0001"
    ticket = await svc.db.tickets.get("CP-20261123-0001", customer_id="KA0000001")
    assert ticket is not None and ticket.category == "账单费用" and ticket.priority == "normal"
    assert ticket.sla is not None and ticket.sla.restore_due is None  # a complaint's deadline is its reply
    assert ticket.sla.response_due == ticket.created_at + timedelta(hours=4) == clock.now() + timedelta(hours=4)
    assert slots_of(events)["complaint_description"] is None
    messages, _ = await run(forms.ActionSubmitComplaint(), tracker(slots={**filled, "complaint_confirm": False}), domain)
    assert only(messages)["response"] == "utter_not_submitted"
    assert await svc.db.tickets.get("CP-20261123-0002") is None


async def test_urgent_complaint_escalates_to_the_manager(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    filled = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "全公司断网，非常紧急",
              "complaint_confirm": True, "complaint_urgent": True}
    messages, events = await run(forms.ActionSubmitComplaint(), tracker(slots=filled, text="确认"), domain)
    assert [m["response"] for m in messages] == ["utter_complaint_created", "utter_escalated"]
    assert any(e.get("event") == "pause" for e in events)
    pages = [m for m in emu.messages.values() if m["to"] == "+8613920000001"]
    assert len(pages) == 1 and "紧急投诉" in pages[0]["body"] and "CP-20261123-0001" in pages[0]["body"]
    assert pages[0]["body"].startswith("【中国电信】") and pages[0]["body"].count("【") == 1


# --- fault form -------------------------------------------------------------------------------------

async def test_fault_circuit_must_be_the_customers_own(svc: Services, domain) -> None:
    form = forms.ValidateFaultForm()
    dispatcher = CollectingDispatcher()
    t = tracker(slots=VERIFIED_A, active_loop="fault_form")
    assert await form.validate_fault_circuit("zj-2m-0000001-1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    assert await form.validate_fault_circuit("第一条", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    assert await form.validate_fault_circuit("SH-155M-0000002-1", dispatcher, t, domain) == {"fault_circuit": None}
    assert dispatcher.messages[-1]["response"] == "utter_circuit_not_yours"
    assert await form.validate_fault_circuit("5", dispatcher, t, domain) == {"fault_circuit": None}
    messages, _ = await run(forms.ActionAskFaultCircuit(), t, domain)
    assert "1. ZJ-2M-0000001-1" in only(messages)["lines"]


async def test_fault_ticket_gets_deadlines_by_tier(svc: Services, domain, clock: FixedClock) -> None:
    filled = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "完全中断", "fault_since": "半小时前",
              "fault_confirm": True}
    messages, _ = await run(forms.ActionSubmitFault(), tracker(slots=filled), domain)
    m = only(messages)
    assert m["ticket_id"] == "FT-20261123-0001" and m["tier"] == "钻石卡"
    ticket = await svc.db.tickets.get("FT-20261123-0001")
    assert ticket is not None and ticket.sla is not None
    start = clock.now()  # diamond: 2 h to respond, 4 h to restore
    assert (ticket.sla.response_due, ticket.sla.restore_due) == (start + timedelta(hours=2), start + timedelta(hours=4))
    assert ticket.circuit_id == "ZJ-2M-0000001-1" and ticket.priority == "urgent"
    gold = {**filled, "contact_id": "0000001-02", "language": "en"}
    messages, _ = await run(forms.ActionSubmitFault(), tracker(slots=gold), domain)
    ticket = await svc.db.tickets.get(only(messages)["ticket_id"])
    assert ticket.sla.restore_due - ticket.sla.response_due == timedelta(hours=4)  # gold: 4 h / 8 h
    foreign = {**filled, "fault_circuit": "SH-155M-0000002-1"}
    messages, _ = await run(forms.ActionSubmitFault(), tracker(slots=foreign), domain)
    assert only(messages)["response"] == "utter_circuit_not_yours"


async def test_cancel_resets_the_form(svc: Services, domain) -> None:
    messages, events = await run(forms.ActionCancelForm(), tracker(slots={"fault_symptom": "x"}), domain)
    assert only(messages)["response"] == "utter_cancelled"
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events
                                                       if e["event"] == "active_loop"]
    assert slots_of(events)["fault_symptom"] is None


# --- requests -----------------------------------------------------------------------------------------

async def test_bill_not_received_is_recorded_once(svc: Services, domain) -> None:
    messages, _ = await run(requests.ActionBillNotReceived(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert m["response"] == "utter_bill_claim_recorded" and m["month"] == "2026-10"
    claim = await svc.db.claims.find("KA0000001", "bill_not_received", "2026-10")
    assert claim is not None and claim.status == "pending_verification" and claim.id == m["claim_id"]
    messages, _ = await run(requests.ActionBillNotReceived(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_bill_claim_exists"


async def test_opt_out_and_in_update_consent(svc: Services, domain) -> None:
    await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A), domain)
    contact = (await svc.db.customers.find_by_contact("0000001-01"))[1]
    assert contact.sms_opt_out is True and contact.opt_out_source == "assistant"
    messages, _ = await run(requests.ActionOptInSms(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_opted_in"
    assert (await svc.db.customers.find_by_contact("0000001-01"))[1].sms_opt_out is False
    history = await svc.db.audit.for_entity("contact", "0000001-01")
    assert [(e.action, e.source, e.actor) for e in history] == [("opted_in", "assistant", "contact:0000001-01"),
                                                              ("opted_out", "assistant", "contact:0000001-01")]


async def test_change_language_is_saved_to_the_profile(svc: Services, domain) -> None:
    messages, events = await run(requests.ActionChangeLanguage(), tracker(slots=VERIFIED_A, text="english please"), domain)
    assert slots_of(events) == {"profile_language": "en", "language": "en"}
    assert "English" in only(messages)["text"]
    assert (await svc.db.customers.find_by_contact("0000001-01"))[1].language == "en"
    [entry] = await svc.db.audit.for_entity("contact", "0000001-01")
    assert (entry.source, entry.changes) == ("assistant", {"language": ["zh", "en"]})
    _, events = await run(requests.ActionChangeLanguage(), tracker(slots={"language": "en"}, text="换语言"), domain)
    assert slots_of(events)["language"] == "zh"


# --- escalation and fallback ---------------------------------------------------------------------------

async def test_escalation_pages_the_manager_once_and_pauses(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    history = [{"event": "user", "text": "专线又断了"}, {"event": "user", "text": "我要找人"}]
    t = tracker(slots=VERIFIED_A, intent="request_human", text="转人工", events=history)
    messages, events = await run(escalation.ActionEscalate(), t, domain)
    m = only(messages)
    assert m["response"] == "utter_escalated" and m["manager_name"] == "林海燕" and m["contact_by"] == "11月23日12:00"
    assert [e["event"] for e in events] == ["pause"]
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "request_human" and "专线又断了" in stored.summary
    await run(escalation.ActionEscalate(), t, domain)  # asked again while waiting: no second page
    pages = [x for x in emu.messages.values() if x["to"] == "+8613920000001"]
    assert len(pages) == 1 and "杭州华信物流有限公司" in pages[0]["body"] and "要求人工" in pages[0]["body"]
    assert "+8613800138000" in pages[0]["body"]  # the manager needs the number to call back


async def test_escalation_outside_business_hours_promises_next_morning(svc: Services, domain, clock) -> None:
    clock.set(datetime(2026, 11, 27, 20, 30))  # Friday evening
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["contact_by"] == "30 Nov 09:30"


async def test_unverified_request_for_a_human_gets_the_hotline(svc: Services, domain) -> None:
    messages, events = await run(escalation.ActionEscalate(), tracker(), domain)
    assert only(messages)["response"] == "utter_escalation_unverified" and events == []


async def test_second_fallback_in_a_row_hands_over(svc: Services, domain, emulator) -> None:
    messages, events = await run(escalation.ActionHandleFallback(), tracker(slots=VERIFIED_A, text="asdf"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase" and events[0]["event"] == "rewind"
    earlier = [{"event": "user", "text": "asdf"},
               {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_rephrase"}},
               {"event": "rewind"}]
    messages, events = await run(escalation.ActionHandleFallback(),
                                 tracker(slots=VERIFIED_A, text="qwer", events=earlier), domain)
    assert [m["response"] for m in messages] == ["utter_fallback_escalate", "utter_escalated"]
    assert any(e["event"] == "pause" for e in events)
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "fallback"


async def test_form_validation_actions_run_as_the_action_server_runs_them(svc: Services, domain) -> None:
    """The full run(): slot validation, then the next requested slot for verified and unverified users."""
    verified = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit", "fault_circuit": "1"},
                       active_loop="fault_form",
                       after_user=[{"event": "slot", "name": "fault_circuit", "value": "1"}])
    messages, events = await run(forms.ValidateFaultForm(), verified, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-2M-0000001-1"
    assert slots_of(events)["requested_slot"] == "fault_symptom"
    unverified = tracker(slots={"verified": False}, active_loop="complaint_form")
    _, events = await run(forms.ValidateComplaintForm(), unverified, domain)
    # same slots as the domain lists (verification first): Rasa's own form logic asks the next one
    assert "requested_slot" not in slots_of(events)
    _, events = await run(verification.ValidateVerificationForm(), tracker(active_loop="verification_form"), domain)
    assert all(e.get("event") == "slot" for e in events)


async def test_the_action_server_only_connects(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its first message reads and writes; migrating the schema is left to the entry points that own it."""
    import uuid

    from actions import services as action_services
    from carecore.config import get_settings

    name = f"connect_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DB", name)
    get_settings.cache_clear()
    use_services(None)
    try:
        svc = await action_services.services()
        assert await svc.db.collection_names() == []
        await svc.db.drop()
        svc.db.close()
    finally:
        use_services(None)
        get_settings.cache_clear()


@pytest.mark.parametrize(("slots", "text", "expected"), [
    ({"language": "zh"}, "what's my bill", "en"),
    ({"language": "en"}, "我们的专线又down了", "zh"),
    ({"language": "en"}, "123456", None),  # a code keeps the language
    ({"language": "zh", "profile_language": "zh"}, "hello", None),  # the profile wins
    ({"language": "zh", "profile_language": "en"}, "你好", "en"),
])
async def test_the_reply_language_follows_the_profile_else_the_message(slots, text, expected) -> None:
    events = await session.ActionSetLanguage().run(CollectingDispatcher(), tracker(slots=slots, text=text), {})
    assert events == ([{"event": "slot", "name": "language", "value": expected, "timestamp": None}] if expected else [])
