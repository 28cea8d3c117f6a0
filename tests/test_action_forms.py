"""The complaint and fault forms: validation, submission, deadlines and cancelling."""

from __future__ import annotations

from datetime import timedelta

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import account, escalation, fault_circuit, forms, ticket_submission, verification
from actions.services import Services
from carecore.clock import FixedClock
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, code_sent_to, only, run, slots_of, tracker

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
    # an answer that also says what went wrong is the description too
    both = await form.validate_complaint_category("客户经理态度很差，打电话一直不接", dispatcher, t, domain)
    assert both == {"complaint_category": "客户经理", "complaint_urgent": False,
                    "complaint_description": "客户经理态度很差，打电话一直不接"}
    # a bare yes names no category: asked again; a "no" that names one is that one
    yes = tracker(slots=VERIFIED_A_EN, intent="affirm", text="yes")
    assert await form.validate_complaint_category("yes", dispatcher, yes, domain) == {"complaint_category": None}
    assert dispatcher.messages[-1]["response"] == "utter_answer_the_question"
    no = tracker(slots=VERIFIED_A, intent="deny", text="不是，是账单问题")
    assert (await form.validate_complaint_category("不是，是账单问题", dispatcher, no, domain))["complaint_category"] == "账单费用"
    for text in ("都不是", "none of those"):  # the list's last: "other"
        none = tracker(slots=VERIFIED_A, intent="deny", text=text)
        assert (await form.validate_complaint_category(text, dispatcher, none, domain))["complaint_category"] == "其他"
    assert await form.validate_complaint_description("   ", dispatcher, t, domain) == {"complaint_description": None}
    assert dispatcher.messages[-1]["response"] == "utter_description_too_short"
    ok = await form.validate_complaint_description("上个月多扣了两千元", dispatcher, t, domain)
    assert ok == {"complaint_description": "上个月多扣了两千元", "complaint_urgent": False}
    filled = {**VERIFIED_A, "complaint_category": "账单费用", "complaint_description": "上个月多扣了两千元",
              "complaint_confirm": True}
    submitted = tracker(slots=filled)
    messages, events = await run(ticket_submission.ActionSubmitComplaint(), submitted, domain)
    m = only(messages)
    assert m["response"] == "utter_complaint_created" and m["ticket_id"] == "CP-20261123-0001"
    ticket = await svc.db.tickets.get("CP-20261123-0001", customer_id="KA0000001")
    assert ticket is not None and ticket.category == "billing" and ticket.priority == "normal"
    assert ticket.sender_id == submitted.sender_id  # its manager reads the conversation that led to it
    assert ticket.sla is not None and ticket.sla.restore_due is None  # a complaint's deadline is its reply
    assert ticket.sla.response_due == ticket.created_at + timedelta(hours=4) == clock.now() + timedelta(hours=4)
    assert slots_of(events)["complaint_description"] is None
    messages, _ = await run(ticket_submission.ActionSubmitComplaint(), tracker(slots={**filled, "complaint_confirm": False}), domain)
    assert only(messages)["response"] == "utter_not_submitted"
    assert await svc.db.tickets.get("CP-20261123-0002") is None


@pytest.mark.parametrize("text, found", [
    ("我要投诉，上个月账单多扣了钱", {"complaint_category": "账单费用",
                               "complaint_description": "我要投诉，上个月账单多扣了钱"}),
    ("我要投诉你们的维修速度", {"complaint_category": "装机维修时效"}),  # names the subject, not what went wrong
    ("we were charged twice for october, i want to complain", {
        "complaint_category": "账单费用",
        "complaint_description": "we were charged twice for october, i want to complain"}),
    ("我要投诉，很紧急", {}),  # nothing to take: both questions follow
    ("我要投诉，昨天打了三次电话都没有人回复", {"complaint_description": "我要投诉，昨天打了三次电话都没有人回复"}),
    ("I want to complain, your engineer never showed up yesterday", {  # late for a repair
        "complaint_category": "装机维修时效",
        "complaint_description": "I want to complain, your engineer never showed up yesterday"}),
])
async def test_the_opening_message_answers_what_it_already_says(svc: Services, domain, text, found) -> None:
    _, events = await run(forms.ValidateComplaintForm(), tracker(slots=VERIFIED_A, intent="file_complaint", text=text),
                          domain)
    slots = {k: v for k, v in slots_of(events).items() if v is not None}
    asked = slots.pop("requested_slot")
    assert slots == ({**found, "complaint_urgent": False} if found else {})
    assert asked == next(s for s in ("complaint_category", "complaint_description", "complaint_confirm")
                         if s not in found)
    # Mid-form, an answer is read by the question asked, not taken again from the message.
    later = tracker(slots={**VERIFIED_A, "requested_slot": "otp_code"}, intent="file_complaint", text=text)
    assert await forms.ValidateComplaintForm().extract_complaint_category(CollectingDispatcher(), later, domain) == {}


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
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), t, domain)
    assert "1. ZJ-2M-0000001-1" in only(messages)["lines"]


async def test_a_customer_with_one_circuit_is_not_asked_which(svc: Services, domain, emulator) -> None:
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text="我要报故障")
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    slots = slots_of(events)
    assert (slots["fault_circuit"], slots["requested_slot"]) == ("ZJ-2M-0000001-1", "fault_symptom")
    # Verified inside the form: the only circuit is taken with the code.
    emu, _ = emulator
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    asking = tracker(active_loop="fault_form", slots={"requested_slot": "otp_code"})
    await form.validate_verify_mobile("13800138000", dispatcher, asking, domain)
    result = await form.validate_otp_code(code_sent_to(emu, "+8613800138000"), dispatcher, asking, domain)
    assert result["verified"] is True and result["fault_circuit"] == "ZJ-2M-0000001-1"
    # With two circuits the customer chooses; the list names each type once.
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text="我要报故障")  # run() filled the first one's slots
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert "fault_circuit" not in slots_of(events) and slots_of(events)["requested_slot"] == "fault_circuit"
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), opened, domain)
    assert only(messages)["lines"].split("\n") == ["1. ZJ-2M-0000001-1 2M数字电路", "2. ZJ-LL-0000001-2 专线 100M"]
    # One of them named by its bandwidth when reporting: taken, with the symptom and no greeting or introduction.
    hinted = tracker(slots=VERIFIED_A, intent="report_fault", text="你好，我是刘秀博，100M专线断了")
    _, events = await run(forms.ValidateFaultForm(), hinted, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-LL-0000001-2" and slots_of(events)["fault_symptom"] == "100M专线断了"
    # Named by its place in the list the customer was just shown, or pointed back at when the reply named it alone.
    placed = tracker(slots=VERIFIED_A_EN, intent="report_fault", text="the second one seems slow, can you check")
    _, events = await run(forms.ValidateFaultForm(), placed, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-LL-0000001-2"
    answered = [{"event": "bot", "text": "Your circuits (1 in all):\n1. ZJ-2M-0000001-1 2M digital circuit: up"}]
    pointed = tracker(slots=VERIFIED_A_EN, intent="report_fault", text="it keeps dropping", events=answered)
    _, events = await run(forms.ValidateFaultForm(), pointed, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-2M-0000001-1"
    # "报修", answering the status's "电路…目前还没有故障单。如需报修，请回复“报修”": that circuit
    offered = [{"event": "bot", "text": "电路ZJ-LL-0000001-2目前还没有故障单。如需报修，请回复“报修”。",
                "metadata": {"utter_action": "utter_down_unreported"}}]
    _, events = await run(forms.ValidateFaultForm(), tracker(slots=VERIFIED_A, intent="report_fault", text="报修",
                                                             events=offered), domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-LL-0000001-2"


async def test_the_circuit_the_opening_message_names_is_taken_once_verified(svc: Services, domain, emulator) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    opening = {"event": "user", "text": "你好，我们的第二条专线断了", "parse_data": {"intent": {"name": "report_fault"}}}
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    asking = tracker(active_loop="fault_form", slots={"requested_slot": "otp_code"}, events=[opening])
    await form.validate_verify_mobile("13800138000", dispatcher, asking, domain)
    result = await form.validate_otp_code(code_sent_to(emulator[0], "+8613800138000"), dispatcher, asking, domain)
    assert result["verified"] is True and result["fault_circuit"] == "ZJ-LL-0000001-2"


@pytest.mark.parametrize("text, symptom, since, asked", [
    ("专线时断时续，麻烦看一下", "专线时断时续，麻烦看一下", None, "fault_since"),
    ("the line keeps dropping", "the line keeps dropping", None, "fault_since"),
    ("专线从早上九点开始断了", "专线从早上九点开始断了", "从早上九点开始", "fault_confirm"),
    ("我要报故障", None, None, "fault_symptom"),  # says nothing of what is wrong
    ("为什么停机了", "为什么停机了", None, "fault_since"), ("our line has been cut off", "our line has been cut off", None,
                                                          "fault_since"),  # service stopped, said as such
    ("我们的专线延迟很高", "我们的专线延迟很高", None, "fault_since"),
    ("latency spikes on our circuit all day", "latency spikes on our circuit all day", None, "fault_since"),
    ("the link has been flapping since 9am", "the link has been flapping since 9am", "since 9am", "fault_confirm"),
    ("155M电路有误码", "155M电路有误码", None, "fault_since"),
    ("光猫灯不亮了", "光猫灯不亮了", None, "fault_since"), ("施工把光缆挖断了", "施工把光缆挖断了", None, "fault_since"),
    ("the fiber is cut", "the fiber is cut", None, "fault_since"),
    ("我们的固话没有声音", "我们的固话没有声音", None, "fault_circuit"),  # a landline: no circuit assumed
    ("no dial tone on our desk phones", "no dial tone on our desk phones", None, "fault_circuit"),
    ("we can't take incoming calls", "we can't take incoming calls", None, "fault_circuit"),
    ("我要报修光纤专线", None, None, "fault_symptom"), ("report a fault on our fiber line", None, None, "fault_symptom"),
])
async def test_what_the_opening_message_says_is_not_asked_again(svc: Services, domain, text, symptom, since,
                                                                asked) -> None:
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text=text)
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    found = slots_of(events)
    assert (found.get("fault_symptom"), found.get("fault_since"), found["requested_slot"]) == (symptom, since, asked)
    later = tracker(slots={**VERIFIED_A, "requested_slot": "fault_confirm"}, intent="report_fault", text=text)
    assert await forms.ValidateFaultForm().extract_fault_symptom(CollectingDispatcher(), later, domain) == {}
    assert await forms.ValidateFaultForm().extract_fault_since(CollectingDispatcher(), later, domain) == {}


@pytest.mark.parametrize("form, asked, intent, text, found", [
    (forms.ValidateComplaintForm(), "complaint_description", "ask_usage", "上个月多扣了两千块钱",
     {"complaint_description": "上个月多扣了两千块钱", "complaint_urgent": False}),
    (forms.ValidateComplaintForm(), "complaint_description", "ask_usage", "上个月账单是多少？", {}),  # a question
    (forms.ValidateComplaintForm(), "complaint_description", "ask_sla", "多久能处理", {}),  # asked how long
    (forms.ValidateComplaintForm(), "complaint_category", "ask_usage", "账单问题", {"complaint_category": "账单费用",
                                                                                "complaint_urgent": False}),
    (forms.ValidateFaultForm(), "fault_symptom", "ask_service_status", "专线状态一直不正常",
     {"fault_symptom": "专线状态一直不正常"}),
    (forms.ValidateFaultForm(), "fault_symptom", "ask_service_status", "专线现在什么状态", {}),
    (forms.ValidateFaultForm(), "fault_symptom", "ask_service_status", "什么网站都打不开", {"fault_symptom": "什么网站都打不开"}),
    (forms.ValidateFaultForm(), "fault_symptom", "ask_service_status", "帮我查一下专线状态", {}),  # a request
    (forms.ValidateFaultForm(), "fault_symptom", "deny", "就是不能用", {"fault_symptom": "就是不能用"}),  # read as a no
    (forms.ValidateFaultForm(), "fault_symptom", "deny", "不", {}),
    (forms.ValidateFaultForm(), "fault_symptom", "file_complaint", "我要投诉，网络老是断",
     {"fault_symptom": "我要投诉，网络老是断"}),
    (forms.ValidateFaultForm(), "fault_symptom", "file_complaint", "我要投诉", {}),  # the report first
    (forms.ValidateFaultForm(), "fault_symptom", "thank", "谢谢，网络很慢", {"fault_symptom": "谢谢，网络很慢"}),
    (forms.ValidateFaultForm(), "fault_symptom", "thank", "thanks, that's all", {}),  # had become the symptom
    (forms.ValidateComplaintForm(), "complaint_description", "deny", "不对，是账单问题",
     {"complaint_category": "账单费用", "complaint_urgent": False}),
    (forms.ValidateComplaintForm(), "complaint_description", "deny", "不是", {}),
    (forms.ValidateComplaintForm(), "complaint_category", "thank", "谢谢", {}),  # had been the category "other"
    (forms.ValidateComplaintForm(), "complaint_description", "thank", "谢谢，上个月账单多扣了两千块",
     {"complaint_description": "谢谢，上个月账单多扣了两千块", "complaint_urgent": False}),
])
async def test_an_answer_that_sounds_like_a_question_is_taken(svc: Services, domain, form, asked, intent, text,
                                                               found) -> None:
    """Left out by the domain's mappings, so the form would stop to answer it (or, with nothing taken, fall back)."""
    slots = {**VERIFIED_A, "requested_slot": asked, "fault_circuit": "ZJ-2M-0000001-1", "complaint_category": "网络质量"}
    if asked == "complaint_category":
        del slots["complaint_category"]
    said = tracker(slots=slots, intent=intent, text=text, active_loop=form.for_form)
    _, events = await run(form, said, domain)
    assert {k: v for k, v in slots_of(events).items() if k != "requested_slot"} == found


@pytest.mark.parametrize("asked, intent, text, found, next_asked", [
    ("fault_symptom", "report_fault", "专线断了，两个小时了", {"fault_symptom": "专线断了，两个小时了", "fault_since": "两个小时了"},
     "fault_confirm"),  # the symptom's answer says when, too
    ("fault_symptom", "inform", "从早上九点开始", {"fault_symptom": None, "fault_since": "从早上九点开始"},
     "fault_symptom"),  # when and nothing else: kept, and the symptom asked again
    ("fault_since", "deny", "不对，是三个小时前", {"fault_since": "三个小时前"}, "fault_confirm"),  # left out by the mapping
    ("fault_since", "affirm", "对", {"fault_since": None}, "fault_since"),  # a yes says no time: asked again
    ("fault_since", "inform", "不清楚", {"fault_since": "不清楚"}, "fault_confirm"),
    ("fault_since", "deny", "no idea when it started", {"fault_since": "no idea when it started"}, "fault_confirm"),
    ("fault_since", "thank", "thanks, about an hour ago", {"fault_since": "about an hour ago"}, "fault_confirm"),
    ("fault_since", "inform", "网络质量", {"fault_since": None}, "fault_since"),  # no time in it: asked once more
    ("fault_since", "inform", "完全断了", {"fault_since": None, "fault_symptom": "中断，完全断了"},
     "fault_since"),  # more of the symptom, no time: kept there, and asked once more
    ("fault_since", "inform", "从今天早上八点开始完全不通",  # the time, and more of the symptom
     {"fault_since": "从今天早上八点开始", "fault_symptom": "中断，完全不通"}, "fault_confirm"),
])
async def test_when_the_fault_began_is_read_from_any_answer_that_says_it(svc: Services, domain, asked, intent, text,
                                                                        found, next_asked) -> None:
    slots = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "requested_slot": asked,
             **({"fault_symptom": "中断"} if asked == "fault_since" else {})}
    mapped = [] if intent in ("deny", "thank") else [{"event": "slot", "name": asked, "value": text}]  # as Rasa's
    said = tracker(slots={**slots, **({asked: text} if mapped else {})}, intent=intent, text=text,
                   active_loop="fault_form", after_user=mapped)
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert slots_of(events) == {**found, "requested_slot": next_asked}
    unclear = {"网络质量": ["utter_fault_since_unclear"], "完全断了": ["utter_fault_since_unclear_symptom_noted"]}
    assert [m["response"] for m in messages if m.get("response", "").startswith("utter_fault_since_unclear")] == \
        unclear.get(text, [])  # what a symptom added is said to be kept
    assert ("utter_fault_since_noted" in [m.get("response") for m in messages]) is (next_asked == "fault_symptom")


# The model reads most of these as out of scope, which the domain's mappings leave out: the form takes them itself.
@pytest.mark.parametrize("form, asked, intent, text, kept", [
    (forms.ValidateFaultForm(), "fault_since", "inform", "这么老是断，我们下个月就退网", None),  # no start: asked again
    (forms.ValidateFaultForm(), "fault_symptom", "out_of_scope", "老是断，下个月就退网", "老是断，下个月就退网"),
    (forms.ValidateComplaintForm(), "complaint_description", "out_of_scope", "服务这么差，合同到期不续了",
     "服务这么差，合同到期不续了"),
    (forms.ValidateComplaintForm(), "complaint_category", "out_of_scope", "服务态度太差，我们要退网", "服务态度"),
    (forms.ValidateComplaintForm(), "complaint_category", "inform", "服务态度太差，我们要退网", "服务态度"),
])
async def test_leaving_said_in_answer_to_a_question_reaches_the_manager(svc: Services, domain, form, asked, intent,
                                                                        text, kept) -> None:
    slots = {**VERIFIED_A, "requested_slot": asked,
             **({"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "中断"} if asked == "fault_since" else {}),
             **({"complaint_category": "服务态度"} if asked == "complaint_description" else {})}
    mapped = [] if intent == "out_of_scope" else [{"event": "slot", "name": asked, "value": text}]
    said = tracker(slots={**slots, **({asked: text} if mapped else {})}, intent=intent, text=text,
                   active_loop=form.for_form, after_user=mapped)
    messages, events = await run(form, said, domain)
    assert slots_of(events)[asked] == kept
    said_to_customer = [m["response"] for m in messages]
    assert said_to_customer[:2] == ["utter_leaving_to_manager", "utter_escalated_form_goes_on"]
    assert said_to_customer.count("utter_leaving_to_manager") == 1
    stored = await svc.db.escalations.open_for_sender("chat-user-1")
    assert stored is not None and stored.reason == "leaving"


@pytest.mark.parametrize("intent, text, category", [
    ("urge_ticket", "the engineer never showed up yesterday and nobody answered", "installation or repair time"),
    ("urge_ticket", "chase my ticket please", None),  # a chase: the rule for it answers
    ("request_human", "my account manager never replies to messages", "account manager"),
    ("request_human", "my account manager never replies, can someone call me", None),  # a person asked for
    ("request_human", "那帮我联系一下客户经理", None),  # had been the complaint, "其他：那帮我联系一下客户经理"
    ("ask_hotline", "your hotline never picks up", "staff attitude"),
    ("ask_hotline", "what's the hotline number", None),  # asked: the rule for it answers
])
async def test_an_answer_read_otherwise_that_names_what_went_wrong_is_the_complaint(svc: Services, domain, intent,
                                                                                   text, category) -> None:
    said = tracker(slots={**VERIFIED_A_EN, "requested_slot": "complaint_category"}, intent=intent, text=text,
                   active_loop="complaint_form")
    _, events = await run(forms.ValidateComplaintForm(), said, domain)
    assert slots_of(events).get("complaint_category") == category
    if category:
        assert slots_of(events)["complaint_description"] == text


async def test_leaving_alone_answers_no_question(svc: Services, domain) -> None:
    """"我们要退网" says nothing of the fault: the form takes no answer, and the rule for out of scope hands over."""
    said = tracker(slots={**VERIFIED_A, "requested_slot": "fault_symptom", "fault_circuit": "ZJ-2M-0000001-1"},
                   intent="out_of_scope", text="我们下个月就退网", active_loop="fault_form")
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert "fault_symptom" not in slots_of(events) and messages == []


async def test_leaving_said_in_a_message_answering_two_questions_reaches_the_manager_once(svc: Services,
                                                                                           domain) -> None:
    text = "客户经理态度太差，打电话一直不接，我们要退网"
    said = tracker(slots={**VERIFIED_A, "requested_slot": "complaint_category", "complaint_category": text,
                          "complaint_description": text}, intent="inform", text=text, active_loop="complaint_form",
                   after_user=[{"event": "slot", "name": "complaint_category", "value": text},
                               {"event": "slot", "name": "complaint_description", "value": text}])
    messages, _ = await run(forms.ValidateComplaintForm(), said, domain)
    said_to_customer = [m["response"] for m in messages]
    assert said_to_customer.count("utter_leaving_to_manager") == 1
    assert said_to_customer.count("utter_escalated_form_goes_on") == 1


@pytest.mark.parametrize("slots, text", [(VERIFIED_A, "明天早上"), (VERIFIED_A_EN, "tomorrow at 9")])
async def test_a_start_still_to_come_is_asked_again(svc: Services, domain, slots, text) -> None:
    said = tracker(slots={**slots, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "中断",
                          "requested_slot": "fault_since", "fault_since": text}, intent="inform", text=text,
                   active_loop="fault_form", after_user=[{"event": "slot", "name": "fault_since", "value": text}])
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert slots_of(events) == {"fault_since": None, "requested_slot": "fault_since"}
    assert [m["response"] for m in messages] == ["utter_fault_since_future"]


@pytest.mark.parametrize("text, found, told", [
    ("质量很差", {"fault_since": "质量很差"}, "utter_fault_since_unclear"),
    ("完全断了", {"fault_since": "不清楚", "fault_symptom": "中断，完全断了"},  # had read back as the start
     "utter_fault_since_unclear"),
    ("完全断了", {"fault_since": "不清楚", "fault_symptom": "中断，完全断了"}, "utter_fault_since_unclear_symptom_noted"),
])
async def test_an_answer_with_no_time_asked_about_once_is_taken_as_said(svc: Services, domain, text, found,
                                                                        told) -> None:
    slots = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "中断", "requested_slot": "fault_since",
             "fault_since": text}
    before = [{"event": "user", "text": "网络质量"},
              {"event": "bot", "text": "…", "metadata": {"utter_action": told}},
              {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_ask_fault_since"}}]
    said = tracker(slots=slots, intent="inform", text=text, active_loop="fault_form", events=before,
                   after_user=[{"event": "slot", "name": "fault_since", "value": text}])
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert slots_of(events) == {**found, "requested_slot": "fault_confirm"}
    assert not [m for m in messages if m.get("response", "").startswith("utter_fault_since_unclear")]


@pytest.mark.parametrize("form, slots, text, changed", [
    (forms.ValidateFaultForm(), {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "中断", "fault_since": "两个小时了"},
     "不对，是三个小时前", {"fault_since": "三个小时前"}),
    (forms.ValidateFaultForm(), {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "down", "fault_since": "9am"},
     "no, it began about 30 minutes ago", {"fault_since": "about 30 minutes ago"}),
    (forms.ValidateFaultForm(),
     {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "专线从下午三点开始时断时续", "fault_since": "从下午三点开始"},
     "不对，是下午两点开始的", {"fault_since": "下午两点开始", "fault_symptom": "专线时断时续"}),  # the old time goes
    (forms.ValidateFaultForm(), {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "中断", "fault_since": "凌晨"},
     "昨天晚上开始", {"fault_since": "昨天晚上开始"}),  # the time alone, no "不对"
    (forms.ValidateComplaintForm(), {"complaint_category": "其他", "complaint_description": "多扣了两千元"},
     "不对，是账单问题", {"complaint_category": "账单费用"}),
    (forms.ValidateComplaintForm(), {"complaint_category": "账单费用", "complaint_description": "charged twice"},
     "it's about your staff attitude", {"complaint_category": "服务态度"}),  # not a "no" at all
    (forms.ValidateComplaintForm(), {"complaint_category": "服务态度", "complaint_description": "the engineer was rude"},
     "no, it's about billing: we were charged twice this month", {
         "complaint_category": "账单费用",
         "complaint_description": "it's about billing: we were charged twice this month"}),  # the complaint anew
    (forms.ValidateFaultForm(),
     {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "line down", "fault_since": "9am"},
     "专线断了，两个小时了", {"fault_symptom": "专线断了，两个小时了", "fault_since": "两个小时了"}),  # told anew
    (forms.ValidateComplaintForm(), {"complaint_category": "网络质量", "complaint_description": "网速慢"},
     "我要投诉，上个月账单多扣了钱", {"complaint_category": "账单费用", "complaint_description": "我要投诉，上个月账单多扣了钱"}),
])
async def test_a_no_that_corrects_a_detail_changes_it_and_asks_again(svc: Services, domain, form, slots, text,
                                                                     changed) -> None:
    confirm = "fault_confirm" if "fault_since" in slots else "complaint_confirm"
    no = text.startswith(("不对", "no"))  # Rasa's mapping sets a "no", and nothing for another intent
    told = "report_fault" if confirm == "fault_confirm" else "file_complaint"
    said = tracker(slots={**VERIFIED_A, **slots, "requested_slot": confirm, **({confirm: False} if no else {})},
                   intent="deny" if no else told, text=text, active_loop=form.for_form,
                   after_user=[{"event": "slot", "name": confirm, "value": False}] if no else [])
    _, events = await run(form, said, domain)
    assert {k: v for k, v in slots_of(events).items() if k != "complaint_urgent"} == {
        **changed, confirm: None, "requested_slot": confirm}
    for plain in ("不用了", "no"):  # a plain no, or one that says what is already there, ends the form unsent
        said = tracker(slots={**VERIFIED_A, **slots, **changed, "requested_slot": confirm, confirm: False},
                       intent="deny", text=plain if plain != "no" else text, active_loop=form.for_form,
                       after_user=[{"event": "slot", "name": confirm, "value": False}])
        _, events = await run(form, said, domain)
        assert slots_of(events)[confirm] is False and slots_of(events).get("requested_slot") is None


@pytest.mark.parametrize("form, slots, intent, text, changed, told", [
    (forms.ValidateFaultForm(), {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "网速很慢", "fault_since": "上午"},
     "inform", "加上：影响全公司", {"fault_symptom": "网速很慢；影响全公司"}, []),
    (forms.ValidateComplaintForm(), {"complaint_category": "账单费用", "complaint_description": "多扣了两千元"},
     "inform", "补充一下，上个月也多扣了", {"complaint_description": "多扣了两千元；上个月也多扣了"}, []),
    (forms.ValidateComplaintForm(), {"complaint_category": "装机或维修时效", "complaint_description": "engineer no-show"},
     "file_complaint", "also he was rude on the phone",  # read as a complaint of its own, it had replaced this one
     {"complaint_description": "engineer no-show；he was rude on the phone"}, []),
    (forms.ValidateFaultForm(), {"fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "网速很慢", "fault_since": "上午"},
     "out_of_scope", "改一下", {}, ["utter_how_to_confirm"]),  # read as out of scope: "this I cannot handle"
])
async def test_at_confirmation_more_said_is_added_and_a_change_asked_for_is_told_how(svc: Services, domain, form,
                                                                                    slots, intent, text, changed,
                                                                                    told) -> None:
    confirm = "fault_confirm" if "fault_since" in slots else "complaint_confirm"
    said = tracker(slots={**VERIFIED_A, **slots, "requested_slot": confirm}, intent=intent, text=text,
                   active_loop=form.for_form)
    messages, events = await run(form, said, domain)
    assert [m["response"] for m in messages] == told
    assert {k: v for k, v in slots_of(events).items() if k not in ("requested_slot", "complaint_urgent")} == {
        **changed, confirm: None}


@pytest.mark.parametrize("asked, intent, text", [
    ("fault_confirm", "report_fault", "also the 100M line is slow"),
    ("fault_confirm", "report_fault", "第二条也断了"),
    ("fault_since", "report_fault", "100M那条也断了"),
])
async def test_a_fault_on_another_circuit_told_mid_report_is_its_own_report_next(svc: Services, domain, asked,
                                                                                intent, text) -> None:
    """It had joined this circuit's symptom, or been taken as the start."""
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    slots = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "fault_symptom": "网速很慢", "requested_slot": asked,
             **({"fault_since": "上午"} if asked == "fault_confirm" else {})}
    said = tracker(slots={**slots, asked: text}, intent=intent, text=text, active_loop="fault_form",
                   after_user=[{"event": "slot", "name": asked, "value": text}])
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert [(m["response"], m["other_id"]) for m in messages] == [("utter_fault_other_circuit_next", "ZJ-LL-0000001-2")]
    assert {k: v for k, v in slots_of(events).items() if k != "requested_slot"} == {asked: None}
    await svc.db.tickets.create(factories.ticket(circuit_id="ZJ-LL-0000001-2"))  # reported already: said so
    messages, _ = await run(forms.ValidateFaultForm(), said, domain)
    assert [(m["response"], m["ticket_id"]) for m in messages] == [("utter_fault_other_circuit_open", "FT-20261123-0001")]


@pytest.mark.parametrize("asked, intent, text", [
    ("fault_since", "deny", "不对，是第二条"),
    ("fault_symptom", "inform", "wrong circuit, it's ZJ-LL-0000001-2"),  # Rasa's mapping takes it as the symptom
    ("fault_confirm", "deny", "no, it's the 100M line"),
    ("fault_confirm", "inform", "换成第二条"),  # no "no" at all
])
async def test_a_correction_naming_another_circuit_changes_it_and_asks_again(svc: Services, domain, asked, intent,
                                                                            text) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    slots = {**VERIFIED_A, "fault_circuit": "ZJ-2M-0000001-1", "requested_slot": asked,
             **({"fault_symptom": "中断"} if asked != "fault_symptom" else {}),
             **({"fault_since": "9点"} if asked == "fault_confirm" else {})}
    mapped = [] if intent == "deny" else [{"event": "slot", "name": asked, "value": text}]
    if asked == "fault_confirm":
        mapped = [{"event": "slot", "name": asked, "value": False}]
    said = tracker(slots={**slots, **{e["name"]: e["value"] for e in mapped}}, intent=intent, text=text,
                   active_loop="fault_form", after_user=mapped)
    messages, events = await run(forms.ValidateFaultForm(), said, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-LL-0000001-2" and slots_of(events)["requested_slot"] == asked
    assert slots_of(events).get(asked) is None and messages == []  # the step is asked again, nothing else said
    # a time that says "3号" or "3点" names no circuit
    said = tracker(slots=slots, intent="deny", text="不对，是3号开始的", active_loop="fault_form")
    _, events = await run(forms.ValidateFaultForm(), said, domain)
    assert "fault_circuit" not in slots_of(events)


async def test_a_yes_asked_back_as_a_question_submits_nothing(svc: Services, domain) -> None:
    slots = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "专线经常掉线",
             "requested_slot": "complaint_confirm", "complaint_confirm": True}
    for text, kept in (("嗯？", None), ("嗯", True)):
        said = tracker(slots=slots, intent="affirm", text=text, active_loop="complaint_form",
                       after_user=[{"event": "slot", "name": "complaint_confirm", "value": True}])
        _, events = await run(forms.ValidateComplaintForm(), said, domain)
        assert slots_of(events)["complaint_confirm"] is kept


async def test_cancel_resets_the_form(svc: Services, domain) -> None:
    messages, events = await run(forms.ActionCancelForm(), tracker(slots={"fault_symptom": "x"}, intent="cancel",
                                                                   text="取消", active_loop="fault_form"), domain)
    assert only(messages)["response"] == "utter_cancelled"
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events
                                                       if e["event"] == "active_loop"]
    assert slots_of(events)["fault_symptom"] is None


@pytest.mark.parametrize("form, asked, intent, text, taken", [
    (forms.ValidateFaultForm(), "fault_symptom", "cancel", "不清楚", "不清楚"),
    (forms.ValidateFaultForm(), "fault_symptom", "deny", "不知道", "不知道"),
    (forms.ValidateFaultForm(), "fault_symptom", "ask_service_status", "不知道什么情况", "不知道什么情况"),
    (forms.ValidateFaultForm(), "fault_since", "cancel", "不清楚", "不清楚"),
    (forms.ValidateComplaintForm(), "complaint_category", "cancel", "不清楚", "其他"),  # the list's last
    (forms.ValidateFaultForm(), "fault_symptom", "cancel", "不清楚，算了", None),  # a cancel all the same
])
async def test_not_knowing_the_answer_answers_the_question(svc: Services, domain, form, asked: str, intent: str,
                                                           text: str, taken) -> None:
    """"不清楚", asked the symptom, was read as a cancel and the report dropped, or as a no or a question and the
    question asked again with no word why. It is the answer: the ticket says what the customer knows."""
    loop = form.for_form
    slots = {**VERIFIED_A, "fault_circuit": "HZ-ZX-0000001-1", "fault_symptom": "专线中断", "requested_slot": asked}
    slots = {key: value for key, value in slots.items() if key != asked}
    said = tracker(slots=slots, intent=intent, text=text, active_loop=loop)
    if intent == "cancel":
        messages, events = await run(forms.ActionCancelForm(), said, domain)
        if taken is None:
            assert only(messages)["response"] == "utter_cancelled"
            return
        assert messages == [] and events == [{"event": "followup", "name": loop, "timestamp": None}]
    _, events = await run(form, said, domain)
    assert slots_of(events)[asked] == taken


@pytest.mark.parametrize("text, asked, outcome", [
    ("哦，网络刚刚恢复了", "fault_symptom", "dropped"), ("oh wait, it's working again now", "fault_confirm", "dropped"),
    ("恢复了但还是很慢", "fault_symptom", "symptom"),           # a reservation: the symptom, when that is asked
    ("it's back but still dropping", "fault_confirm", "asked again"),
    ("现在几点了", "fault_symptom", "asked again"),            # read as service back with no word saying so
    ("the problem is back", "fault_symptom", "symptom"),     # out again: the symptom, not service back
])
async def test_service_back_while_reporting_the_fault_drops_the_report(svc: Services, domain, text: str, asked: str,
                                                                      outcome: str) -> None:
    said = tracker(slots={**VERIFIED_A, "fault_circuit": "HZ-ZX-0000001-1", "requested_slot": asked},
                   intent="report_restored", text=text, active_loop="fault_form")
    messages, events = await run(forms.ActionCancelForm(), said, domain)
    if outcome == "dropped":
        assert only(messages)["response"] == "utter_fault_report_dropped"
        assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
        assert slots_of(events)["fault_circuit"] is None
    else:
        assert [m["response"] for m in messages] == ([] if outcome == "symptom" else ["utter_answer_the_question"])
        assert slots_of(events) == ({"fault_symptom": text} if outcome == "symptom" else {})
        assert events[-1]["event"] == "followup" and events[-1]["name"] == "fault_form"
    assert not await svc.db.tickets.for_customer("KA0000001")


async def test_cancel_right_after_a_report_asks_to_withdraw_its_ticket(svc: Services, domain) -> None:
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0007"))
    created = [{"event": "user", "text": "确认"},
               {"event": "bot", "text": "故障已受理，工单号FT-20261123-0007。", "metadata": {"utter_action": "utter_fault_created"}}]
    messages, _ = await run(forms.ActionCancelForm(), tracker(slots=VERIFIED_A, intent="cancel", text="取消",
                                                              events=created), domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_withdraw_noted", "FT-20261123-0007")
    assert (await svc.db.tickets.get("FT-20261123-0007")).history[-1].action == "customer_withdraw"
    later = created + [{"event": "user", "text": "谢谢"}, {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_thank"}}]
    messages, _ = await run(forms.ActionCancelForm(), tracker(slots=VERIFIED_A, intent="cancel", text="取消",
                                                              events=later), domain)
    assert only(messages)["response"] == "utter_nothing_to_cancel"  # names no ticket, and none was just opened
    # naming one before verification: verified first, the request kept for after
    messages, events = await run(forms.ActionCancelForm(), tracker(intent="cancel", text="取消投诉"), domain)
    assert only(messages)["response"] == "utter_need_verification"
    assert slots_of(events)["pending_request"] == "cancel"
    assert (events[-1]["event"], events[-1]["name"]) == ("followup", "verification_form")


@pytest.mark.parametrize("text", ["接下来会怎么处理", "what happens now"])
async def test_a_message_read_as_a_cancel_that_says_none_cancels_nothing(svc: Services, domain, text) -> None:
    """"接下来会怎么处理" (read as a cancel, 0.86) right after a report had asked to withdraw its ticket."""
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0007"))
    created = [{"event": "user", "text": "确认"},
               {"event": "bot", "text": "故障已受理，工单号FT-20261123-0007。", "metadata": {"utter_action": "utter_fault_created"}}]
    messages, _ = await run(forms.ActionCancelForm(), tracker(slots=VERIFIED_A, intent="cancel", text=text,
                                                              events=created), domain)
    assert (messages[0]["response"], messages[0]["ticket_id"]) == ("utter_ticket_status", "FT-20261123-0007")
    assert not (await svc.db.tickets.get("FT-20261123-0007")).history  # nothing written on it
    messages, _ = await run(forms.ActionCancelForm(), tracker(slots=VERIFIED_A, intent="cancel", text=text), domain)
    assert only(messages)["response"] == "utter_ask_rephrase"  # nothing to cancel was said either
    reporting = tracker(slots={**VERIFIED_A, "requested_slot": "fault_symptom"}, intent="cancel", text=text,
                        active_loop="fault_form")
    messages, events = await run(forms.ActionCancelForm(), reporting, domain)
    assert only(messages)["response"] == "utter_answer_the_question"
    assert [(e["event"], e.get("name")) for e in events] == [("followup", "fault_form")]  # the report goes on


async def test_a_complaint_set_aside_for_a_fault_is_told_and_forgotten(svc: Services, domain) -> None:
    slots = {**VERIFIED_A, "complaint_category": "网络质量", "complaint_description": "全公司断网", "requested_slot":
             "complaint_confirm"}
    messages, events = await run(forms.ActionSetComplaintAside(), tracker(slots=slots), domain)
    assert only(messages)["response"] == "utter_complaint_set_aside"
    assert {name: slots_of(events)[name] for name in ("requested_slot", "complaint_category",
                                                      "complaint_description")} == dict.fromkeys(
        ("requested_slot", "complaint_category", "complaint_description"))


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


@pytest.mark.parametrize("intent, text, chosen", [
    ("ask_service_status", "第二条", "第二条"), ("ask_service_status", "是第二条", "是第二条"),
    ("ask_service_status", "第二条现在正常吗", None),  # a question about it is answered
    ("ask_sla", "the Wuhan one", "the Wuhan one"),  # read as the SLA (0.97): by its place
    ("ask_sla", "武汉那条的SLA", None),  # names the question: answered as asked
    ("ask_service_status", "第四条", "第四条"),  # of two: none of theirs, which the form says
    ("out_of_scope", "actually it's the 100M one", "actually it's the 100M one"),  # had been told "I can't do that"
    ("out_of_scope", "升级到200M", None),  # an order: told whose it is
])
async def test_a_choice_read_as_a_question_is_the_circuit_chosen(svc: Services, domain, intent: str, text: str,
                                                                  chosen) -> None:
    """"第二条", asked which circuit, was read as a status question: it got that circuit's status and the list again;
    read as out of scope, a choice was told it is not something the assistant handles."""
    two = factories.customer_with_two_circuits()
    two["services"][1].update(a_end="杭州长城大厦", z_end="武汉数据中心")
    await svc.db.customers.replace(two)
    said = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent=intent, text=text,
                   active_loop="fault_form")
    action = {"ask_service_status": account.ActionServiceStatus(), "ask_sla": account.ActionSla(),
              "out_of_scope": escalation.ActionOutOfScope()}[intent]
    messages, _ = await run(action, said, domain)
    assert (messages == []) is (chosen is not None)
    _, events = await run(forms.ValidateFaultForm(), said, domain)
    assert slots_of(events).get("fault_circuit") == (chosen and "ZJ-LL-0000001-2" if chosen != "第四条" else None)


@pytest.mark.parametrize("slots, said", [
    (VERIFIED_A_EN, "utter_restored_noted"),  # noted on the open fault, as when read as a restore
    ({"language": "en"}, "utter_fault_report_dropped"),  # whose tickets they are is not known
])
async def test_a_restore_read_as_a_fault_report_ends_the_report_as_it_opens(svc: Services, domain, slots,
                                                                            said) -> None:
    """"the Wuhan line is working again", read as a fault report, had asked for the symptom of a line that works."""
    await svc.db.tickets.create(factories.ticket())
    opened = tracker(slots=slots, intent="report_fault", text="the line is working again", active_loop="fault_form")
    messages, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert [m["response"] for m in messages] == [said]
    assert {"event": "active_loop", "name": None} in [{k: e.get(k) for k in ("event", "name")} for e in events]
    ticket = await svc.db.tickets.get("FT-20261123-0001")
    assert [e.action for e in ticket.history] == (["customer_restored"] if slots is VERIFIED_A_EN else [])
    messages, events = await run(forms.ValidateFaultForm(), tracker(  # a fault named: the report goes on
        slots=VERIFIED_A_EN, intent="report_fault", text="the line keeps dropping", active_loop="fault_form"), domain)
    assert all(e.get("event") != "active_loop" for e in events)
    midway = tracker(slots={**VERIFIED_A_EN, "requested_slot": "fault_since", "fault_circuit": "ZJ-2M-0000001-1",
                            "fault_symptom": "down"}, intent="report_fault", text="the line is working again",
                     active_loop="fault_form")  # had been taken as the start
    messages, events = await run(forms.ValidateFaultForm(), midway, domain)
    assert [m["response"] for m in messages] == ["utter_fault_report_dropped"]
    assert slots_of(events)["fault_since"] is None and slots_of(events)["requested_slot"] is None
