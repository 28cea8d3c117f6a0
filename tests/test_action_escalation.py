"""Escalation to the account manager, and hand-over after repeated fallbacks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from actions import compensation, escalation, usage
from actions.services import Services
from carecore.clock import as_stored
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, tracker


async def test_escalation_pages_the_manager_once_and_pauses(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    history = [{"event": "user", "text": "专线又断了"}, {"event": "slot", "name": "requested_slot", "value": "otp_code"},
               {"event": "user", "text": "482913"}, {"event": "slot", "name": "requested_slot", "value": None}]
    t = tracker(slots=VERIFIED_A, intent="request_human", text="转人工", events=history)
    messages, events = await run(escalation.ActionEscalate(), t, domain)
    m = only(messages)
    assert m["response"] == "utter_escalated" and m["manager_name"] == "林海燕" and m["contact_by"] == "11月23日12:00"
    assert [e["event"] for e in events] == ["pause"]
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "request_human"
    assert stored.summary == "专线又断了 / 转人工"  # how the customer was verified is left out
    await run(escalation.ActionEscalate(), t, domain)  # asked again while waiting: no second page
    pages = [x for x in emu.messages.values() if x["to"] == "+8613920000001"]
    assert len(pages) == 1 and "杭州华信物流有限公司" in pages[0]["body"] and "要求人工" in pages[0]["body"]
    assert "138 0013 8000" in pages[0]["body"]  # the number to call back, as dialled


async def test_a_call_back_never_runs_past_a_deadline_the_contacts_open_ticket_promised(svc: Services, domain,
                                                                                       emulator) -> None:
    svc.clock.advance(timedelta(days=5, hours=9))  # Saturday 28 November, 19:00: otherwise Monday 09:30
    now = svc.clock.now()
    for ticket_id, contact, response_due in (("FT-20261128-0001", "0000001-01", now + timedelta(hours=2)),
                                             ("FT-20261128-0002", "0000001-02", now + timedelta(hours=1)),  # a colleague's
                                             ("FT-20261128-0003", "0000001-01", now - timedelta(hours=1))):  # overdue
        await svc.db.tickets.create(factories.ticket(
            _id=ticket_id, contact_id=contact, created_at=now - timedelta(hours=3), updated_at=now,
            sla={"response_due": response_due, "restore_due": now + timedelta(hours=4)}))
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A, intent="request_human"), domain)
    assert only(messages)["contact_by"] == "11月28日21:00"
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.ticket_id == "FT-20261128-0001"
    assert "工单FT-20261128-0001" in next(iter(emulator[0].messages.values()))["body"]


async def test_a_call_back_time_asked_for_is_the_promise_and_the_page_says_so(svc: Services, domain, emulator) -> None:
    """Asked before verification: the time is read from this request, not from the code typed since nor from an
    earlier hand-over's; a time in the message's clause about the fault ("从早上九点断了") is not one."""
    asked = {"intent": {"name": "request_human"}}
    history = [{"event": "user", "text": "明天上午十点打给我", "parse_data": asked},  # a hand-over before this one
               {"event": "action", "name": "action_escalate"},
               {"event": "user", "text": "专线从早上九点断了，让客户经理明天下午三点给我回个电话", "parse_data": asked}]
    t = tracker(slots=VERIFIED_A, intent="inform", text="482913", events=history)
    messages, _ = await run(escalation.ActionEscalate(), t, domain)
    assert only(messages)["response"] == "utter_escalated_at" and only(messages)["contact_by"] == "11月24日15:00"
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.callback_asked
    assert stored.contact_by == datetime(2026, 11, 24, 15, 0, tzinfo=svc.clock.tz)
    [page] = emulator[0].messages.values()
    assert page["body"].endswith("客户约定11月24日15:00回电。")


@pytest.mark.parametrize("text, reason, shown", [
    ("那换个人联系我吧", "other_person", "客户要求换人联系"),
    ("能不能换个客户经理以外的人跟我联系", "other_person", "客户要求换人联系"),
    ("can someone else call me? not him", "other_person", "客户要求换人联系"),
    ("客户经理电话一直打不通", "manager_unreachable", "客户联系不上客户经理"),  # the manager is not answering
    ("our account manager never picks up", "manager_unreachable", "客户联系不上客户经理"),
])
async def test_someone_other_than_the_manager_is_their_supervisor(svc: Services, domain, emulator, text: str,
                                                                  reason: str, shown: str) -> None:
    emu, _ = emulator
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A, intent="request_human", text=text),
                            domain)
    assert only(messages)["response"] == "utter_escalated_above" and only(messages)["manager_name"] == "周敏"
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.manager_id == "AM-PZJ" and stored.reason == reason
    [page] = emu.messages.values()
    assert page["to"] == "+8613910000001" and f"原因：{shown}" in page["body"]


@pytest.mark.parametrize("slots, text, escalated", [
    (VERIFIED_A, "他电话打不通", True),  # told the hotline, and to say "转人工" for the manager not answering
    (VERIFIED_A, "打了客户经理电话好几次都没人接", True),
    (VERIFIED_A_EN, "she's not picking up", True),
    (VERIFIED_A_EN, "his phone is switched off", True),
    (VERIFIED_A, "你们的服务热线是多少", False),
    (VERIFIED_A, "10000号打不通", False),  # the hotline is not the manager
    (VERIFIED_A_EN, "the service hotline never picks up", False),
    ({"language": "zh"}, "他电话打不通", False),  # whose manager is not known: the hotline
])
async def test_a_manager_not_answering_goes_to_their_supervisor_however_it_was_read(
        svc: Services, domain, emulator, slots, text: str, escalated: bool) -> None:
    messages, _ = await run(escalation.ActionHotline(), tracker(slots=slots, intent="ask_hotline", text=text), domain)
    assert only(messages)["response"] == ("utter_escalated_above" if escalated else "utter_hotline")
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert (stored is not None and stored.reason == "manager_unreachable" and stored.manager_id == "AM-PZJ") is escalated


async def test_a_manager_not_answering_said_while_reporting_reaches_the_supervisor_and_the_report_goes_on(
        svc: Services, domain, emulator) -> None:
    """The form's hotline rule had told the hotline and the report's question."""
    asked = tracker(slots={**VERIFIED_A, "requested_slot": "fault_symptom"}, intent="ask_hotline", text="他电话打不通",
                    active_loop="fault_form")
    messages, events = await run(escalation.ActionHotline(), asked, domain)
    assert (only(messages)["response"], only(messages)["manager_name"]) == ("utter_escalated_above_form_goes_on", "周敏")
    assert events == []  # not paused: the form asks its question next
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "manager_unreachable"


async def test_a_customer_saying_they_will_leave_is_handed_to_their_manager(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    asked = tracker(slots={"language": "zh"}, intent="out_of_scope", text="我们准备下个月退网")
    messages, _ = await run(escalation.ActionOutOfScope(), asked, domain)  # not verified: whose account is unknown
    assert only(messages)["response"] == "utter_out_of_scope" and not emu.messages
    messages, events = await run(escalation.ActionOutOfScope(), tracker(slots=VERIFIED_A, intent="out_of_scope",
                                                                        text="天气怎么样"), domain)
    assert only(messages)["response"] == "utter_out_of_scope" and events == []
    messages, events = await run(escalation.ActionOutOfScope(), tracker(slots=VERIFIED_A, intent="out_of_scope",
                                                                        text="我们准备下个月退网"), domain)
    assert [m["response"] for m in messages] == ["utter_leaving_to_manager", "utter_escalated"]
    assert messages[1]["manager_name"] == "林海燕" and [e["event"] for e in events] == ["pause"]
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "leaving" and stored.manager_id == "AM-CZJ01"
    [page] = emu.messages.values()
    assert page["to"] == "+8613920000001" and "原因：客户表示要退网、拆机或不再续约" in page["body"]


async def test_leaving_said_while_reporting_reaches_the_manager_and_the_report_goes_on(svc: Services, domain,
                                                                                       emulator) -> None:
    emu, _ = emulator
    t = tracker(slots=VERIFIED_A, intent="out_of_scope", text="这么老是断，我们下个月就退网", active_loop="fault_form")
    messages, events = await run(escalation.ActionOutOfScope(), t, domain)
    assert [m["response"] for m in messages] == ["utter_leaving_to_manager", "utter_escalated_form_goes_on"]
    assert events == []  # not paused: the fault report is finished first
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "leaving"
    assert len(emu.messages) == 1  # the manager paged once
    order = tracker(slots=VERIFIED_A, intent="out_of_scope", text="顺便问下带宽升级", active_loop="complaint_form")
    messages, events = await run(escalation.ActionOutOfScope(), order, domain)
    assert only(messages)["response"] == "utter_out_of_scope" and events == []  # a yes would answer the form


async def test_leaving_the_model_could_not_read_still_reaches_the_manager(svc: Services, domain) -> None:
    t = tracker(slots=VERIFIED_A, intent="nlu_fallback", text="我们这么老是断，下个月就退网")
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    assert [m["response"] for m in messages] == ["utter_leaving_to_manager", "utter_escalated"]
    assert [e["event"] for e in events] == ["pause"]
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "leaving"


async def test_an_order_names_the_manager_and_a_yes_hands_it_to_them(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    order = tracker(slots={"language": "zh"}, intent="out_of_scope", text="我想把专线带宽升级到200M")
    messages, _ = await run(escalation.ActionOutOfScope(), order, domain)  # not verified: whose manager is unknown
    assert only(messages)["response"] == "utter_out_of_scope"
    messages, events = await run(escalation.ActionOutOfScope(), tracker(slots=VERIFIED_A, intent="out_of_scope",
                                                                        text="我想把专线带宽升级到200M"), domain)
    assert only(messages) == {**only(messages), "response": "utter_order_to_manager", "manager_name": "林海燕",
                              "manager_mobile": "139 2000 0001"}
    assert events == [] and not emu.messages  # offered, not made: a call nobody asked for pages nobody
    await svc.db.tickets.create(factories.ticket(sla={"response_due": as_stored(svc.clock.now()) + timedelta(hours=1)}))
    t = tracker(slots=VERIFIED_A, intent="affirm", text="好的", events=_after("utter_order_to_manager"))
    messages, events = await run(escalation.ActionYesOrNo(), t, domain)
    assert only(messages)["response"] == "utter_escalated" and [e["event"] for e in events] == ["pause"]
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "order" and stored.manager_id == "AM-CZJ01"
    assert stored.ticket_id is None  # the open fault's resolution must not close it
    [page] = emu.messages.values()
    assert "原因：客户要办理业务（升级、新装、移机、发票、续约等）" in page["body"]


@pytest.mark.parametrize("action, intent, text", [
    (usage.ActionUsage(), "ask_usage", "要多少钱"),  # had been answered with the bill
    (escalation.ActionOutOfScope(), "out_of_scope", "费用怎么算"),
    (escalation.ActionHandleFallback(), "nlu_fallback", "how much would that be"),
])
async def test_a_price_asked_right_after_an_order_is_the_orders(svc: Services, domain, action, intent,
                                                                  text) -> None:
    t = tracker(slots=VERIFIED_A, intent=intent, text=text, events=_after("utter_order_to_manager"))
    messages, _ = await run(action, t, domain)
    assert only(messages)["response"] == "utter_order_price_to_manager"
    messages, _ = await run(action, tracker(slots=VERIFIED_A, intent=intent, text=text, events=_after("utter_usage_report")),
                            domain)
    assert "utter_order_price_to_manager" not in [m["response"] for m in messages]  # no order offered: as asked


@pytest.mark.parametrize("action, intent, text, response", [
    (compensation.ActionCompensation(), "ask_compensation", "how much credit did we get last month?",
     "utter_no_compensation"),  # had been told prices are the manager's
    (usage.ActionUsage(), "ask_usage", "上个月账单多少钱", "utter_usage_report"),
])
async def test_the_accounts_own_money_asked_right_after_an_order_is_answered(svc: Services, domain, action, intent,
                                                                            text, response) -> None:
    t = tracker(slots=VERIFIED_A, intent=intent, text=text, events=_after("utter_order_to_manager"))
    messages, _ = await run(action, t, domain)
    assert response in [m["response"] for m in messages]
    assert "utter_order_price_to_manager" not in [m["response"] for m in messages]


@pytest.mark.parametrize("offer", ["utter_bill_delivery_to_manager", "utter_order_price_to_manager"])
async def test_a_yes_to_having_bills_sent_otherwise_or_to_a_quote_hands_it_to_the_manager(svc: Services, domain, emulator,
                                                                                         offer) -> None:
    t = tracker(slots=VERIFIED_A, intent="affirm", text="好的", events=_after(offer))
    messages, _ = await run(escalation.ActionYesOrNo(), t, domain)
    assert only(messages)["response"] == "utter_escalated"
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "order"


async def test_an_order_the_model_could_not_read_is_offered_all_the_same(svc: Services, domain) -> None:
    t = tracker(slots=VERIFIED_A, intent="nlu_fallback", text="你们能不能给我们减免一点费用")
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    assert only(messages)["response"] == "utter_order_to_manager"
    assert [e["event"] for e in events] == ["rewind", "slot"]  # the unread message set aside, as a miss is
    assert (await svc.db.escalations.open_for_sender("chat-user-1")) is None


async def test_a_bill_said_to_be_paid_is_told_how_payments_post(svc: Services, domain) -> None:
    t = tracker(slots=VERIFIED_A, intent="nlu_fallback", text="我已经交过了")
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    assert only(messages)["response"] == "utter_paid_not_posted" and [e["event"] for e in events] == ["rewind", "slot"]
    inside = tracker(slots=VERIFIED_A, intent="nlu_fallback", text="我已经交过了", active_loop="complaint_form")
    messages, _ = await run(escalation.ActionHandleFallback(), inside, domain)
    assert only(messages)["response"] == "utter_answer_the_question"  # a report's question stays open


async def test_someone_else_with_nobody_active_above_is_the_manager(svc: Services, domain, emulator) -> None:
    for manager_id in ("AM-PZJ", "AM-G001"):
        await svc.db.managers.set_active(manager_id, False)
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A, intent="request_human",
                                                                text="换个人联系我"), domain)
    assert only(messages)["response"] == "utter_escalated" and only(messages)["manager_name"] == "林海燕"


async def test_a_leavers_customer_is_handed_to_the_supervisor(svc: Services, domain, emulator) -> None:
    emu, _ = emulator
    await svc.db.managers.set_active("AM-CZJ01", False)  # left; the accounts are not reassigned yet
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A, intent="request_human"), domain)
    assert only(messages)["manager_name"] == "周敏"
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.manager_id == "AM-PZJ"
    assert [x["to"] for x in emu.messages.values()] == ["+8613910000001"]


async def test_escalation_outside_business_hours_promises_next_morning(svc: Services, domain, clock) -> None:
    clock.set(datetime(2026, 11, 27, 20, 30))  # Friday evening
    messages, _ = await run(escalation.ActionEscalate(), tracker(slots=VERIFIED_A_EN), domain)
    assert only(messages)["contact_by"] == "30 Nov 09:30"


async def test_unverified_request_for_a_human_gets_the_hotline(svc: Services, domain) -> None:
    messages, events = await run(escalation.ActionEscalate(), tracker(), domain)
    assert only(messages)["response"] == "utter_escalation_unverified" and events == []


async def test_second_fallback_in_a_row_hands_over(svc: Services, domain, emulator) -> None:
    messages, events = await run(escalation.ActionHandleFallback(), tracker(slots=VERIFIED_A_EN, text="asdf"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase" and events[0]["event"] == "rewind"
    assert events[1:] == [{"event": "slot", "timestamp": None, "name": "language", "value": "en"}]  # kept after it
    earlier = [{"event": "user", "text": "asdf"},
               {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_rephrase"}},
               {"event": "rewind"}]
    messages, events = await run(escalation.ActionHandleFallback(),
                                 tracker(slots=VERIFIED_A, text="qwer", events=earlier), domain)
    assert [m["response"] for m in messages] == ["utter_fallback_escalate", "utter_escalated"]
    assert any(e["event"] == "pause" for e in events)
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "fallback"


@pytest.mark.parametrize("text, ranked, said", [
    ("查一下上个月账单和专线状态", [("nlu_fallback", 0.55), ("ask_usage", 0.38), ("ask_service_status", 0.33)],
     ("账单", "专线状态")),
    ("our bill and our SLA", [("nlu_fallback", 0.55), ("ask_sla", 0.4), ("ask_usage", 0.3)], ("the SLA", "your bill")),
    ("查一下上个月账单专线状态", [("nlu_fallback", 0.55), ("ask_usage", 0.38), ("ask_service_status", 0.33)], None),
    ("账单 asdf", [("nlu_fallback", 0.55), ("ask_usage", 0.38), ("greet", 0.33)], None),  # one question: rephrase
])
async def test_two_questions_in_one_message_are_named_back_to_ask_one_at_a_time(svc: Services, domain, text: str,
                                                                                ranked, said) -> None:
    """Before verification; a verified customer has them answered (below)."""
    t = tracker(slots={"language": "zh" if "账单" in text else "en"}, intent="nlu_fallback", text=text)
    t.latest_message["intent_ranking"] = [{"name": name, "confidence": c} for name, c in ranked]
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    if said is None:
        assert only(messages)["response"] == "utter_ask_rephrase"
    else:
        assert (only(messages)["response"], only(messages)["first"], only(messages)["second"]) == (
            "utter_one_question_at_a_time", *said)
    assert events[0]["event"] == "rewind"


async def test_questions_the_model_could_not_choose_between_are_each_answered_once_verified(svc: Services,
                                                                                            domain) -> None:
    t = tracker(slots=VERIFIED_A, intent="nlu_fallback", text="查一下上个月账单、SLA和补偿")
    t.latest_message["intent_ranking"] = [{"name": name, "confidence": c} for name, c in
                                          [("nlu_fallback", 0.55), ("ask_compensation", 0.4), ("ask_sla", 0.3)]]
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    assert [m["response"] for m in messages][:3] == ["utter_usage_report", "utter_sla", "utter_no_compensation"]
    assert messages[0]["month"] == "2026年10月"  # "上个月", read from the message; the questions in the order named
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}


async def test_a_circuit_or_month_alone_after_an_answer_about_circuits_is_asked_the_same(svc: Services, domain) -> None:
    """"第二条呢" right after the SLA: that circuit's SLA, whether the model read it as the usage ("那…呢") or as
    nothing at all; after no answer about circuits, the fallback's usual reply."""
    await svc.db.customers.replace(factories.customer_with_two_circuits("down"))
    sla = [{"event": "user", "text": "SLA是什么", "parse_data": {"intent": {"name": "ask_sla"}}},
           {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_sla"}}]
    for action, intent in ((escalation.ActionHandleFallback(), "nlu_fallback"), (usage.ActionUsage(), "ask_usage")):
        messages, events = await run(action, tracker(slots=VERIFIED_A, intent=intent, text="那第二条呢", events=sla),
                                     domain)
        assert only(messages)["response"] == "utter_sla" and only(messages)["lines"].startswith("2. ZJ-LL-0000001-2")
    status = [*sla[:1], {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_service_status"}}]
    messages, _ = await run(usage.ActionUsage(), tracker(slots=VERIFIED_A_EN, intent="ask_usage",
                                                           text="and circuit 2?", events=status), domain)
    assert messages[0]["lines"] == "2. ZJ-LL-0000001-2 leased line 100M: down"
    messages, _ = await run(escalation.ActionHandleFallback(), tracker(slots=VERIFIED_A, intent="nlu_fallback",
                                                                       text="那第二条呢"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase"
    # a month alone follows the SLA up too, with that month's record
    messages, _ = await run(escalation.ActionHandleFallback(), tracker(
        slots={**VERIFIED_A, "month": "上个月"}, intent="nlu_fallback", text="上个月呢", events=sla), domain)
    assert only(messages)["response"] == "utter_sla_record" and only(messages)["record"] == "2026年10月暂无故障报修。"
    # a circuit alone right after that record: its record of that month, read where the message stands, named
    record = [*sla[:1], {"event": "bot", "text": "2026年10月暂无故障报修。", "metadata": {"utter_action": "utter_sla_record"}}]
    messages, _ = await run(escalation.ActionHandleFallback(), tracker(slots=VERIFIED_A, intent="nlu_fallback",
                                                                       text="那第二条呢", events=record), domain)
    assert (only(messages)["response"], only(messages)["record"]) == (
        "utter_sla_record", "2. ZJ-LL-0000001-2 专线 100M：2026年10月暂无故障报修。")


async def test_a_bare_mobile_number_starts_verification_with_it(svc: Services, domain) -> None:
    mobile = [{"entity": "phone_number", "value": "13800000010"}]
    messages, events = await run(escalation.ActionHandleFallback(),
                                 tracker(intent="inform", text="13800000010", entities=mobile), domain)
    assert messages == [] and events[-1] == {"event": "followup", "timestamp": None, "name": "verification_form"}
    for t in (tracker(slots=VERIFIED_A, intent="inform", text="13800000010", entities=mobile),  # verified already
              tracker(intent="inform", text="13800000010", entities=mobile, active_loop="fault_form"),
              tracker(intent="inform", text="上个月")):
        messages, events = await run(escalation.ActionHandleFallback(), t, domain)
        assert messages and not any(e["event"] == "followup" for e in events)


async def test_a_miss_inside_a_form_points_back_to_its_question(svc: Services, domain) -> None:
    t = tracker(text="KA0000007", active_loop="verification_form")
    messages, events = await run(escalation.ActionHandleFallback(), t, domain)
    assert only(messages)["response"] == "utter_answer_the_question" and events[0]["event"] == "rewind"
    earlier = [{"event": "user", "text": "KA0000007"},
               {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_answer_the_question"}},
               {"event": "rewind"}]
    t = tracker(text="KA0000007?", events=earlier, active_loop="verification_form")
    messages, _ = await run(escalation.ActionHandleFallback(), t, domain)
    assert [m["response"] for m in messages] == ["utter_fallback_escalate", "utter_escalation_unverified"]


def _after(*responses: str) -> list:
    """The customer's previous message, then the assistant's replies to it."""
    return [{"event": "user", "text": "…"}] + [{"event": "bot", "text": "…", "metadata": {"utter_action": name}}
                                              for name in responses]


async def test_a_yes_to_having_the_manager_call_escalates(svc: Services, domain, emulator) -> None:
    t = tracker(slots=VERIFIED_A, intent="affirm", text="好的", events=_after("utter_account_manager"))
    messages, events = await run(escalation.ActionYesOrNo(), t, domain)
    assert only(messages)["response"] == "utter_escalated" and [e["event"] for e in events] == ["pause"]
    # an unverified contact is told how to reach a person instead, nothing is recorded
    t = tracker(intent="affirm", text="好的", events=_after("utter_account_manager"), sender="chat-2")
    messages, events = await run(escalation.ActionYesOrNo(), t, domain)
    assert only(messages)["response"] == "utter_escalation_unverified"
    assert await svc.db.escalations.open_for_sender("chat-2") is None


@pytest.mark.parametrize("intent, before, reply", [
    ("deny", ("utter_account_manager",), "utter_anything_else"),  # "不用了": nothing more on that
    ("deny", ("utter_verified", "utter_anything_else"), "utter_goodbye"),  # "没有了" to "anything else?"
    ("affirm", ("utter_cancelled",), "utter_go_ahead"),  # "好的" to "anything else?": what do you need
    ("deny", ("utter_go_ahead",), "utter_goodbye"),
    ("deny", ("utter_thank",), "utter_goodbye"),  # "没有了" after "不客气"
    ("affirm", ("utter_thank",), "utter_goodbye"),
    ("affirm", ("utter_usage_report",), "utter_anything_else"),  # "OK" after an answer
    ("deny", ("utter_usage_report", "utter_bills_all_paid"), "utter_answer_disputed"),  # "不对，金额太高了"
    ("deny", (), "utter_anything_else"),
])
async def test_a_bare_yes_or_no_answers_what_was_said_last(svc: Services, domain, intent, before, reply) -> None:
    t = tracker(slots=VERIFIED_A, intent=intent, text="…", events=_after(*before))
    messages, events = await run(escalation.ActionYesOrNo(), t, domain)
    assert only(messages)["response"] == reply and events == []


def test_the_summary_a_manager_reads_leaves_out_how_the_customer_was_verified() -> None:
    """A mobile number and a code say nothing of what the customer needs, and a code is never shown."""
    def asked(slot):
        return {"event": "slot", "name": "requested_slot", "value": slot}

    def said(text):
        return {"event": "user", "text": text}

    events = [said("+86 138 0013 8000"), said("我要报障"), asked("verify_mobile"), said("13800138000"),
              asked("otp_code"), said("我要报障，密码是 482913"), asked(None), said("专线断了"), said("能分期付吗")]
    t = tracker(slots=VERIFIED_A, events=events)
    assert escalation.transcript_summary(t) == "我要报障 / 专线断了 / 能分期付吗"


async def test_service_said_to_be_back_read_as_nothing_is_noted(svc: Services, domain) -> None:
    """"the Hangzhou line is working again" read as nothing had been asked to rephrase."""
    await svc.db.tickets.create(factories.ticket())
    said = tracker(slots=VERIFIED_A_EN, intent="nlu_fallback", text="the line is working again")
    messages, _ = await run(escalation.ActionHandleFallback(), said, domain)
    assert only(messages)["response"] == "utter_restored_noted"
    unknown = tracker(slots={"language": "en"}, intent="nlu_fallback", text="the line is working again")
    messages, _ = await run(escalation.ActionHandleFallback(), unknown, domain)  # whose faults is not known
    assert only(messages)["response"] == "utter_ask_rephrase"
