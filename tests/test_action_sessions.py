"""What the actions record of each session for the assistant's KPIs, against the real mongod."""

from __future__ import annotations

from datetime import datetime
from typing import AsyncIterator

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import escalation, session, verification
from actions.services import Services, use_services
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.identity import sms_sender_id
from carecore.model import EscalationReason
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests import factories
from tests.action_kit import VERIFIED_A, code_sent_to, run, slots_of, tracker

SECRET = "test-sender-secret"


@pytest.fixture
async def svc(db: Database, gateway: SmsGateway) -> AsyncIterator[Services]:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())
    services = Services(db, gateway, FixedClock(datetime(2026, 11, 23, 10, 0)),
                        Settings(sender_id_secret=SECRET, mongodb_uri="unused"))
    use_services(services)
    yield services
    use_services(None)


async def _session(db: Database, sender: str) -> dict:
    [doc] = [d async for d in db.client[db.name]["assistant_sessions"].find({"sender_id": sender})]
    return doc


async def test_an_sms_session_counts_for_the_customers_manager(svc: Services, emulator) -> None:
    sender = sms_sender_id("+8613800138000", SECRET)
    await run(session.ActionSessionStart(), tracker(sender=sender, channel="twilio_sms"), {})
    await run(escalation.ActionHandleFallback(), tracker(sender=sender, slots=VERIFIED_A, text="asdf"), {})
    doc = await _session(svc.db, sender)
    assert (doc["manager_id"], doc["customer_id"], doc["fallbacks"], doc["escalated"]) == \
        ("AM-CZJ01", "KA0000001", 1, False)
    who = await svc.db.customers.find_by_contact("0000001-01")
    await escalation.escalate(svc, tracker(sender=sender, slots=VERIFIED_A), CollectingDispatcher(), who,
                              EscalationReason.request_human)
    assert (await _session(svc.db, sender))["escalated"] is True


async def test_a_chat_counts_for_group_until_verified(svc: Services, emulator) -> None:
    emu, _ = emulator
    await run(session.ActionSessionStart(), tracker(sender="chat-9"), {})
    assert (await _session(svc.db, "chat-9")).get("manager_id") is None
    form = verification.ValidateVerificationForm()
    dispatcher = CollectingDispatcher()
    t = tracker(sender="chat-9", text="13800138000", intent="inform", active_loop="verification_form")
    await form.validate_verify_mobile("13800138000", dispatcher, t, {})
    await form.validate_otp_code(code_sent_to(emu, "+8613800138000"), dispatcher, t, {})
    doc = await _session(svc.db, "chat-9")
    assert (doc["verifications_started"], doc["verified"], doc["manager_id"]) == (1, True, "AM-CZJ01")


@pytest.mark.parametrize(("slots", "text", "expected"), [
    ({"language": "zh"}, "what's my bill", "en"),
    ({"language": "en"}, "我们的专线又down了", "zh"),
    ({"language": "en"}, "123456", None),  # a code keeps the language
    ({"language": "zh"}, "KA0000007", None),  # and so do ids
    ({"language": "zh"}, "HB-DDN-0000047-2", None),
    ({"language": "zh"}, "KA0000007 bill", "en"),
    ({"language": "zh", "profile_language": "zh"}, "OK", None),  # a lone English word, from a Chinese writer
    ({"language": "zh", "profile_language": "zh"}, "who is my manager", "en"),  # the message, not the profile
    ({"language": "en", "profile_language": "en"}, "你好", "zh"),
])
async def test_the_reply_language_follows_the_message(slots, text, expected) -> None:
    events = await session.ActionSetLanguage().run(CollectingDispatcher(), tracker(slots=slots, text=text), {})
    assert events == ([{"event": "slot", "name": "language", "value": expected, "timestamp": None}] if expected else [])


@pytest.mark.parametrize(("earlier", "profile", "text", "expected"), [
    (["我们的专线断了"], None, "TD", None),  # an anonymous chat that wrote Chinese keeps it for a lone word
    (["我们的专线断了", "123456"], None, "OK", None),  # a code in between has no language
    ([], None, "hi", "en"),  # nothing written yet, no profile: the word is the only clue
    (["what's my bill", "你好"], "en", "OK", None),  # the last message written, not the first
    (["你好", "who is my manager"], "zh", "OK", "en"),
])
async def test_a_lone_english_word_keeps_the_language_the_customer_writes(earlier, profile, text, expected) -> None:
    slots = {"language": "zh", "profile_language": profile}
    written = [{"event": "user", "text": line} for line in earlier]
    t = tracker(slots=slots, text=text, events=written)
    events = await session.ActionSetLanguage().run(CollectingDispatcher(), t, {})
    assert events == ([{"event": "slot", "name": "language", "value": expected, "timestamp": None}] if expected else [])


async def test_the_hotline_and_operator_customers_are_told_of_are_the_ones_configured(svc: Services, domain) -> None:
    """The replies name it from the ``hotline`` slot, set at every session start; the domain's default until then
    is the setting's default, so the two cannot drift apart."""
    for slot in ("hotline", "operator_name"):
        assert domain["slots"][slot]["initial_value"] == Settings.__fields__[slot].default
    svc.settings = svc.settings.copy(update={"hotline": "10086", "operator_name": "中国移动"})
    _, events = await run(session.ActionSessionStart(), tracker(sender="chat-10"), {})
    assert (slots_of(events)["hotline"], slots_of(events)["operator_name"]) == ("10086", "中国移动")
    assert all("10000" not in variant["text"] and "中国电信" not in variant["text"]
               for name, variants in domain["responses"].items() for variant in variants), \
        "a reply names the hotline or the operator as written, not from the slot"
