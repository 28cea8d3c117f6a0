"""A report read back for confirmation, and asked again after a reply that answered nothing."""

from __future__ import annotations

from actions import confirmation
from actions.services import Services
from tests.action_kit import VERIFIED_A, only, run, tracker


async def test_the_confirmation_reads_the_time_once(svc: Services, domain) -> None:
    for slots, report in (
            ({"fault_symptom": "专线从早上九点开始断了", "fault_since": "从早上九点开始"}, "专线从早上九点开始断了"),
            ({"fault_symptom": "专线断了", "fault_since": "三个小时前"}, "专线断了，开始时间：三个小时前"),
            ({"fault_symptom": "the line is down", "fault_since": "an hour ago", "language": "en"},
             "the line is down, since: an hour ago"),
            ({"fault_symptom": "my line is down", "fault_since": "since this morning", "language": "en"},
             "my line is down, since this morning")):
        messages, _ = await run(confirmation.ActionAskFaultConfirm(), tracker(slots={**VERIFIED_A, **slots}), domain)
        assert only(messages) == {**only(messages), "response": "utter_ask_fault_confirm", "fault_report": report}


async def test_a_confirmation_asked_again_after_a_reply_that_answered_nothing_says_how_to_answer(svc: Services,
                                                                                                  domain) -> None:
    asked = [{"event": "user", "text": "专线断了"},
             {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_complaint_confirm"}}]
    slots = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "专线断了很多次"}
    for reply, after, hinted in (
            ("2", [], True),  # a score-like answer the form could not take
            ("嗯？", [{"event": "slot", "name": "complaint_confirm", "value": None}], True),  # no consent
            ("不对，是账单问题", [{"event": "slot", "name": "complaint_category", "value": "账单费用"}], False),
            ("上个月账单多少", [{"event": "bot", "text": "…", "metadata": {"utter_action": "utter_usage_report"}}],
             False)):  # a question answered in between: the form only resumes
        t = tracker(slots=slots, text=reply, events=asked, after_user=after, active_loop="complaint_form")
        messages, _ = await run(confirmation.ActionAskComplaintConfirm(), t, domain)
        assert [m["response"] for m in messages] == ["utter_how_to_confirm"] * hinted + ["utter_ask_complaint_confirm"]
    messages, _ = await run(confirmation.ActionAskComplaintConfirm(), tracker(slots=slots, text="我要投诉"), domain)
    assert [m["response"] for m in messages] == ["utter_ask_complaint_confirm"]  # asked the first time
