"""Planned maintenance still to come, told when the status question asks about it."""

from __future__ import annotations

import pytest

from actions import account, planned_work
from actions.services import Services
from care_scheduler import maintenance
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, run, tracker


def window(start: str, end: str) -> dict:
    return {"circuit_ids": ["ZJ-2M-0000001-1"], "start": start, "end": end, "impact": "interrupted",
            "description_zh": "核心网设备割接", "description_en": "Core network cutover"}


async def test_planned_work_in_the_next_two_weeks_is_told_when_asked_about(svc: Services, domain) -> None:
    # the clock: 23 Nov 2026 10:00 in Shanghai
    soon = await maintenance.announce(svc.db, svc.clock, window("2026-11-25T01:00", "2026-11-25T05:00"), actor="AM-PZJ")
    await maintenance.announce(svc.db, svc.clock, window("2026-12-20T01:00", "2026-12-20T05:00"), actor="AM-PZJ")
    asked = tracker(slots=VERIFIED_A, intent="ask_service_status", text="最近有没有计划维护")
    messages, _ = await run(account.ActionServiceStatus(), asked, domain)
    assert [m["response"] for m in messages] == ["utter_service_status", "utter_maintenance_planned"]
    assert messages[1]["lines"] == f"1. {soon.id} 11月25日01:00至11月25日05:00，ZJ-2M-0000001-1：核心网设备割接"
    plain = tracker(slots=VERIFIED_A, intent="ask_service_status", text="专线状态怎么样")
    messages, _ = await run(account.ActionServiceStatus(), plain, domain)
    assert [m["response"] for m in messages] == ["utter_service_status"]  # not asked about: not told
    await maintenance.cancel(svc.db, svc.clock, soon.id)
    asked_en = tracker(slots=VERIFIED_A_EN, intent="ask_service_status", text="any planned maintenance coming up?")
    messages, _ = await run(account.ActionServiceStatus(), asked_en, domain)
    assert (messages[1]["response"], messages[1]["days"]) == ("utter_no_maintenance_planned", 14)


@pytest.mark.parametrize("text, asked", [
    ("最近有没有计划维护", True), ("你们什么时候升级网络", True), ("when will you upgrade your network", True),
    ("专线状态怎么样", False), ("我们的带宽是多少", False),
])
def test_a_question_about_planned_work(text: str, asked: bool) -> None:
    assert bool(planned_work.MAINTENANCE_QUESTION.search(text)) is asked
