"""Requests a verified customer makes: a missing bill, SMS consent, the profile's language."""

from __future__ import annotations

from actions import requests
from actions.services import Services
from tests.action_kit import VERIFIED_A, only, run, slots_of, tracker


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
