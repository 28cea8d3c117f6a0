"""Compliments: kept for the verified customer's manager, asked for verification first, read again after it."""

from __future__ import annotations

from actions import praise, verification
from actions.services import Services
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker


async def test_a_verified_customers_praise_is_kept_for_their_manager(svc: Services, domain) -> None:
    t = tracker(slots=VERIFIED_A, intent="praise", text="你好，我要表扬林经理，每次都很及时", sender="sms:+8613800138000:a",
                channel="twilio_sms")
    messages, events = await run(praise.ActionPraise(), t, domain)
    assert (only(messages)["response"], only(messages)["manager_name"]) == ("utter_praise_recorded", "林海燕")
    assert events == []
    [kept] = await svc.db.compliments.for_customers(["KA0000001"])
    assert (kept.id, kept.contact_id, kept.manager_id, kept.text, kept.channel) == (
        "PR-20261123-0001", "0000001-01", "AM-CZJ01", "我要表扬林经理，每次都很及时", "twilio_sms")


async def test_praise_before_verification_is_kept_once_verified(svc: Services, domain) -> None:
    messages, events = await run(verification.ActionRequireVerification(),
                                 tracker(intent="praise", text="compliments to your engineer"), domain)
    assert only(messages)["response"] == "utter_praise_needs_verification"
    assert slots_of(events)["pending_request"] == "praise"
    assert await svc.db.compliments.for_customers(None) == []  # nobody can praise in another account's name
    said = [{"event": "user", "text": "compliments to your engineer", "parse_data": {"intent": {"name": "praise"}}}]
    t = tracker(slots={**VERIFIED_A_EN, "pending_request": "praise"}, intent="inform", text="123456", events=said)
    messages, _ = await run(verification.ActionResumeRequest(), t, domain)
    assert only(messages)["response"] == "utter_praise_recorded"
    [kept] = await svc.db.compliments.for_customers(None)
    assert (kept.contact_id, kept.text) == ("0000001-02", "compliments to your engineer")
