"""A confirmed report made a ticket: deadlines, escalations and pages, a report added to an open fault, a fault
reopened."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actions import ticket_submission
from actions.services import Services
from carecore.clock import FixedClock, as_stored
from carecore.model import TicketEvent, TicketStatus
from tests import factories
from tests.action_kit import VERIFIED_A, only, run, slots_of, tracker


async def test_urgent_complaint_escalates_to_the_manager(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    filled = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "全公司断网，非常紧急",
              "complaint_confirm": True, "complaint_urgent": True}
    messages, events = await run(ticket_submission.ActionSubmitComplaint(), tracker(slots=filled, text="确认"), domain)
    assert [m["response"] for m in messages] == ["utter_complaint_created", "utter_escalated"]
    assert any(e.get("event") == "pause" for e in events)
    pages = [m for m in emu.messages.values() if m["to"] == "+8613920000001"]
    assert len(pages) == 1 and "紧急投诉" in pages[0]["body"] and "CP-20261123-0001" in pages[0]["body"]
    assert pages[0]["body"].startswith("【中国电信】") and pages[0]["body"].count("【") == 1


async def test_a_complaint_about_the_manager_goes_to_their_supervisor(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    filled = {**VERIFIED_A, "complaint_category": "客户经理", "complaint_description": "我想换个客户经理，很紧急",
              "complaint_confirm": True, "complaint_urgent": True}
    messages, events = await run(ticket_submission.ActionSubmitComplaint(), tracker(slots=filled, text="确认"), domain)
    m = only(messages)  # no escalation to the manager the complaint is about: the conversation is not paused
    assert m["response"] == "utter_manager_complaint_created" and m["ticket_id"] == "CP-20261123-0001"
    assert not any(e.get("event") == "pause" for e in events)
    [page] = emu.messages.values()
    assert page["to"] == "+8613910000001" and "紧急投诉单CP-20261123-0001（涉及客户经理林海燕）" in page["body"]


async def test_an_urgent_complaint_is_called_back_by_its_reply_deadline_at_weekends(svc: Services, domain,
                                                                                    clock: FixedClock) -> None:
    clock.set(datetime(2026, 11, 28, 20, 0, tzinfo=clock.tz))  # a Saturday evening: no business hours till Monday
    filled = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "全公司断网", "complaint_confirm": True}
    opening = {"event": "user", "text": "我要投诉，很紧急", "parse_data": {"intent": {"name": "file_complaint"}}}
    submitted = tracker(slots=filled, text="确认", events=[opening], after_user=[{"event": "active_loop", "name": None}])
    messages, _ = await run(ticket_submission.ActionSubmitComplaint(), submitted, domain)
    ticket = await svc.db.tickets.get("CP-20261128-0001", customer_id="KA0000001")
    [escalation] = await svc.db.escalations.for_customers(["KA0000001"])
    assert ticket is not None and ticket.priority == "urgent"  # said when opening the form
    assert escalation.contact_by == ticket.sla.response_due == as_stored(clock.now() + timedelta(hours=4))
    assert messages[-1]["contact_by"] == "11月29日00:00"


async def _reported(svc: Services, domain, slots: dict) -> tuple:
    """A fault report submitted: the reply, and its ticket, closed so that the next report opens its own."""
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=slots), domain)
    ticket = await svc.db.tickets.get(only(messages)["ticket_id"])
    assert ticket is not None
    await svc.db.tickets.set_status(ticket.id, TicketStatus.closed,
                                    TicketEvent(at=ticket.created_at, actor="test", action="close"))
    return only(messages), ticket


async def test_fault_ticket_gets_deadlines_by_tier(svc: Services, domain, clock: FixedClock, emulator) -> None:
    emu, _ = emulator
    filled = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "完全中断", "fault_since": "半小时前",
              "fault_confirm": True}
    m, ticket = await _reported(svc, domain, filled)
    assert m["ticket_id"] == "FT-20261123-0001" and m["basis"] == "您的钻石卡服务标准"
    assert ticket.sla is not None
    start = clock.now()  # diamond: 2 h to respond, 4 h to restore
    assert (ticket.sla.response_due, ticket.sla.restore_due) == (start + timedelta(hours=2), start + timedelta(hours=4))
    assert ticket.circuit_id == "ZJ-2M-0000001-1" and ticket.priority == "urgent"
    [page] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613920000001"]  # the green channel
    assert page.startswith("【中国电信】紧急故障单FT-20261123-0001：杭州华信物流有限公司（钻石卡）王伟 138 0013 8000，电路")
    assert "请于11月23日12:00前响应：http://127.0.0.1:8080/console/tickets/FT-20261123-0001" in page
    gold = {**filled, "contact_id": "0000001-02", "language": "en"}
    m, ticket = await _reported(svc, domain, gold)
    assert m["basis"] == "the circuit's premium SLA"  # faster than gold's 4 h / 8 h
    assert ticket.sla.restore_due - ticket.sla.response_due == timedelta(hours=2)
    assert ticket.text == "完全中断（半小时前）"  # the words' script, not the reply language
    _, ticket = await _reported(svc, domain, {**gold, "fault_symptom": "line down", "fault_since": "since 9am"})
    assert ticket.text == "line down (since 9am)"
    said = {**filled, "fault_symptom": "专线从早上九点开始断了", "fault_since": "从早上九点开始"}
    _, ticket = await _reported(svc, domain, said)
    assert ticket.text == "专线从早上九点开始断了"  # said once
    foreign = {**filled, "fault_circuit": "SH-155M-0000002-1"}
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=foreign), domain)
    assert only(messages)["response"] == "utter_circuit_not_yours"


async def test_a_second_report_of_a_circuit_with_a_fault_open_is_added_to_its_ticket(svc: Services, domain,
                                                                                    emulator) -> None:
    emu, _ = emulator
    filled = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "完全中断", "fault_since": "半小时前",
              "fault_confirm": True}
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=filled), domain)
    first = only(messages)["ticket_id"]
    pages = len(emu.messages)
    again = {**filled, "contact_id": "0000001-02", "fault_symptom": "still down, now the backup too", "fault_since": "9am"}
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=again), domain)
    assert only(messages) == {**only(messages), "response": "utter_fault_added", "ticket_id": first}
    assert await svc.db.tickets.count_for_customer("KA0000001") == 1 and len(emu.messages) == pages  # nobody re-paged
    ticket = await svc.db.tickets.get(first)
    assert ticket is not None and ticket.history[-1].action == "reported_again"
    assert (ticket.history[-1].note, ticket.history[-1].sender_id) == ("still down, now the backup too (9am)",
                                                                     "chat-user-1")  # the console shows it


async def test_a_report_soon_after_a_fault_was_resolved_reopens_its_ticket(svc: Services, domain, clock: FixedClock,
                                                                           emulator) -> None:
    """"还是不行": the fix did not hold. The ticket is open again, its deadlines as they were, its restore time gone;
    the manager is paged as a new urgent ticket would be. Resolved more than a day before, it is a new fault."""
    emu, _ = emulator
    now = as_stored(clock.now())
    created, fixed = now - timedelta(hours=3), now - timedelta(hours=1)
    await svc.db.tickets.create(factories.ticket(
        _id="FT-20261123-0009", status="resolved", priority="urgent", created_at=created, resolved_at=fixed,
        customer_notified_at=fixed, sla={"response_due": created + timedelta(hours=2),
                                         "restore_due": created + timedelta(hours=4),
                                         "responded_at": created + timedelta(minutes=20), "restored_at": fixed}))
    filled = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "还是不行，又断了",
              "fault_since": "刚才", "fault_confirm": True}
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=filled), domain)
    assert only(messages) == {**only(messages), "response": "utter_fault_reopened", "ticket_id": "FT-20261123-0009",
                              "restore_due": "11月23日11:00"}
    ticket = await svc.db.tickets.get("FT-20261123-0009")
    assert ticket is not None and ticket.status == "acknowledged" and ticket.sla is not None
    assert (ticket.resolved_at, ticket.sla.restored_at, ticket.customer_notified_at) == (None, None, None)
    assert ticket.sla.responded_at is not None and ticket.history[-1].action == "reopened"
    assert (ticket.history[-1].note, ticket.history[-1].sender_id) == ("还是不行，又断了（刚才）", "chat-user-1")
    assert await svc.db.tickets.count_for_customer("KA0000001") == 1
    [page] = [m["body"] for m in emu.messages.values() if m["to"] == "+8613920000001"]
    assert "紧急故障单FT-20261123-0009" in page and "客户反映故障未修复，工单已重新打开，修复时限11月23日11:00" in page
    await svc.db.tickets.resolve(ticket.id, TicketEvent(at=now - timedelta(hours=25), actor="test", action="resolve"))
    messages, _ = await run(ticket_submission.ActionSubmitFault(), tracker(slots=filled), domain)
    assert only(messages)["response"] == "utter_fault_created" and only(messages)["ticket_id"] != ticket.id


@pytest.mark.parametrize("ended_by", ["utter_no_circuits", "utter_fault_left_to_hotline",
                                      "utter_fault_left_to_manager", "utter_restored_noted"])
async def test_a_report_its_own_question_ended_is_not_called_unsubmitted(svc: Services, domain, ended_by) -> None:
    """"贵单位名下暂无在用电路" had been followed by "好的，未提交": there was nothing to submit or not."""
    said = [{"event": "bot", "text": "…", "metadata": {"utter_action": ended_by}}]
    messages, events = await run(ticket_submission.ActionSubmitFault(), tracker(slots=VERIFIED_A, after_user=said),
                                 domain)
    assert only(messages)["response"] == "utter_anything_else" and slots_of(events)["fault_circuit"] is None
