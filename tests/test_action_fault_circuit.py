"""The circuit a fault report is about: the list to choose from, and what is told of the one chosen."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions import fault_circuit, forms
from actions.services import Services
from carecore.clock import FixedClock, as_stored
from carecore.model import Customer
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, code_sent_to, only, run, slots_of, tracker


async def test_a_circuit_with_a_fault_open_is_told_of_its_ticket_when_chosen(svc: Services, domain) -> None:
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    t = tracker(slots=VERIFIED_A, active_loop="fault_form")
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    assert dispatcher.messages == []  # nothing open on it
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0007", status="acknowledged"))
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0008", kind="complaint", circuit_id=None,
                                                 sla={"response_due": factories.ticket()["created_at"]}))
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    told = dispatcher.messages[-1]  # the fault's ticket, not the complaint's
    assert {k: told[k] for k in ("response", "ticket_id", "opened", "restore_due")} == {
        "response": "utter_fault_open_on_circuit", "ticket_id": "FT-20261123-0007", "opened": "11月23日10:00",
        "restore_due": "11月23日14:00"}
    en = CollectingDispatcher()
    await form.validate_fault_circuit("1", en, tracker(slots=VERIFIED_A_EN, active_loop="fault_form"), domain)
    assert (en.messages[-1]["opened"], en.messages[-1]["restore_due"]) == ("23 Nov 10:00", "23 Nov 14:00")


async def test_a_circuit_whose_fault_was_resolved_lately_is_told_of_its_ticket(svc: Services, domain) -> None:
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    t = tracker(slots=VERIFIED_A, active_loop="fault_form")
    fixed = datetime(2026, 11, 23, 1, 30, tzinfo=timezone.utc)  # 09:30, half an hour ago
    await svc.db.tickets.create(factories.ticket(_id="FT-20261122-0003", status="resolved", resolved_at=fixed))
    assert await form.validate_fault_circuit("1", dispatcher, t, domain) == {"fault_circuit": "ZJ-2M-0000001-1"}
    told = only(dispatcher.messages)
    assert {k: told[k] for k in ("response", "ticket_id", "resolved")} == {
        "response": "utter_fault_fixed_lately", "ticket_id": "FT-20261122-0003", "resolved": "11月23日09:30"}


@pytest.mark.parametrize("text, fixed_hours_ago, fixed_circuits, meant", [
    ("还是不行啊，网速还是很慢", 2, ["ZJ-LL-0000001-2"], "ZJ-LL-0000001-2"),
    ("the line is still down", 2, ["ZJ-LL-0000001-2"], "ZJ-LL-0000001-2"),
    ("专线又断了", 23, ["ZJ-2M-0000001-1"], "ZJ-2M-0000001-1"),
    ("专线断了", 2, ["ZJ-LL-0000001-2"], None),  # says nothing of a fix
    ("还是不行啊，网速还是很慢", 25, ["ZJ-LL-0000001-2"], None),  # too long ago: a new fault
    ("还是不行啊，网速还是很慢", 2, ["ZJ-2M-0000001-1", "ZJ-LL-0000001-2"], None),  # which one is for the customer
])
async def test_a_fault_said_to_be_still_there_is_on_the_circuit_fixed_lately(svc: Services, clock: FixedClock, text,
                                                                             fixed_hours_ago, fixed_circuits,
                                                                             meant) -> None:
    customer = Customer.parse_obj(factories.customer_with_two_circuits())
    fixed = as_stored(clock.now()) - timedelta(hours=fixed_hours_ago)
    for number, circuit_id in enumerate(fixed_circuits, start=1):
        await svc.db.tickets.create(factories.ticket(_id=f"FT-20261122-000{number}", circuit_id=circuit_id,
                                                     status="resolved", resolved_at=fixed))
    assert await fault_circuit.fixed_lately(svc, customer, text) == meant


async def test_a_report_that_the_fault_is_still_there_needs_no_choice_of_circuit(svc: Services, clock: FixedClock,
                                                                                 domain) -> None:
    """The circuit whose fix did not hold is taken, and the customer told that going on reopens its ticket."""
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    fixed = as_stored(clock.now()) - timedelta(hours=2)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261122-0003", circuit_id="ZJ-LL-0000001-2",
                                                 status="resolved", resolved_at=fixed))
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text="还是不行啊，网速还是很慢")
    messages, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-LL-0000001-2"
    assert [m["response"] for m in messages] == ["utter_fault_fixed_lately"]


@pytest.mark.parametrize("intent, text, told, chosen", [
    ("deny", "不知道是哪条", ["utter_circuit_unknown"], None),
    ("deny", "not sure which one", ["utter_circuit_unknown"], None),
    ("deny", "not sure, maybe 20 minutes ago", ["utter_circuit_unknown"], None),  # the start kept
    ("inform", "不清楚，可能是100M那条", [], "ZJ-LL-0000001-2"),  # named after all
])
async def test_a_customer_who_does_not_know_which_circuit_is_told_how_else_to_name_it(svc: Services, domain, intent,
                                                                                     text, told, chosen) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    asked = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent=intent, text=text,
                    active_loop="fault_form", after_user=[] if intent == "deny" else [
                        {"event": "slot", "name": "fault_circuit", "value": text}])
    messages, events = await run(forms.ValidateFaultForm(), asked, domain)
    assert [m["response"] for m in messages] == told
    assert slots_of(events)["fault_circuit"] == chosen
    assert slots_of(events).get("fault_since") == ("20 minutes ago" if "minutes" in text else None)


@pytest.mark.parametrize("intent, text, told, found", [
    ("inform", "since 9am", ["utter_fault_since_noted"], {"fault_circuit": None, "fault_since": "since 9am"}),
    ("inform", "第二条，从早上九点开始", [], {"fault_circuit": "ZJ-LL-0000001-2", "fault_since": "从早上九点开始"}),
    ("affirm", "yes", [], {"fault_circuit": None}),  # no circuit, and nothing wrong said: the list again
    ("inform", "1和2", ["utter_one_circuit_at_a_time"], {"fault_circuit": None}),  # one ticket and clock each
    ("inform", "两条都断了", ["utter_one_circuit_at_a_time"], {"fault_circuit": None}),
    ("inform", "both of them since 9am", ["utter_one_circuit_at_a_time"],
     {"fault_circuit": None, "fault_since": "since 9am"}),
    ("inform", "that's all", ["utter_circuit_needed"], {"fault_circuit": None}),  # no "all" of the circuits
    ("inform", "办公室那条", ["utter_circuit_not_placed"], {"fault_circuit": None}),  # not "none of yours"
    ("inform", "ok can you log it", ["utter_circuit_needed"], {"fault_circuit": None}),  # not quoted back
    ("report_fault", "my line is down", [], {"fault_circuit": None}),  # told again: the list, not "not yours"
    ("report_fault", "第五条断了", ["utter_circuit_not_yours"], {"fault_circuit": None}),
])
async def test_an_answer_to_which_circuit_that_says_when_it_began_or_names_several(svc: Services, domain, intent, text,
                                                                           told, found) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    asked = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit", "fault_circuit": text}, intent=intent,
                    text=text, active_loop="fault_form",
                    after_user=[{"event": "slot", "name": "fault_circuit", "value": text}])
    messages, events = await run(forms.ValidateFaultForm(), asked, domain)
    assert [m["response"] for m in messages] == told
    assert {k: v for k, v in slots_of(events).items() if k != "requested_slot"} == found


async def test_a_bandwidth_none_of_the_circuits_has_is_told_once_with_the_list(svc: Services, domain) -> None:
    """"our 155M line is slow", with a 2M and a 100M circuit, had been shown the list as if it named none."""
    await svc.db.customers.replace(factories.customer_with_two_circuits())
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text="our 155M line is slow")
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), opened, domain)
    assert [(m["response"], m.get("bandwidth")) for m in messages] == [("utter_bandwidth_not_served", "155M"),
                                                                      ("utter_ask_fault_circuit", None)]
    told = [{"event": "user", "text": "our 155M line is slow", "parse_data": {"intent": {"name": "report_fault"}}},
            {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_bandwidth_not_served"}}]
    again = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent="inform", text="嗯", events=told)
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), again, domain)
    assert [m["response"] for m in messages] == ["utter_ask_fault_circuit"]  # once is enough


async def test_a_landline_fault_with_no_voice_trunk_is_told_where_it_goes(svc: Services, domain, emulator) -> None:
    """"公司座机打不通" from a customer with one 2M circuit had become a fault on that circuit. It is not assumed:
    the customer hears once that landlines are the hotline's, and may still choose a circuit."""
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text="公司座机打不通")
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert "fault_circuit" not in slots_of(events) and slots_of(events)["requested_slot"] == "fault_circuit"
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), opened, domain)
    assert [m["response"] for m in messages] == ["utter_no_voice_service", "utter_ask_fault_circuit"]
    told = [{"event": "user", "text": "公司座机打不通", "parse_data": {"intent": {"name": "report_fault"}}},
            {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_no_voice_service"}}]
    again = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent="inform", text="5", events=told)
    messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), again, domain)
    assert [m["response"] for m in messages] == ["utter_ask_fault_circuit"]  # once is enough
    # Verified inside the form, the only circuit is not taken with the code either.
    emu, _ = emulator
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    asking = tracker(active_loop="fault_form", slots={"requested_slot": "otp_code"}, events=told[:1])
    await form.validate_verify_mobile("13800138000", dispatcher, asking, domain)
    result = await form.validate_otp_code(code_sent_to(emu, "+8613800138000"), dispatcher, asking, domain)
    assert result["verified"] is True and result["fault_circuit"] is None
    # With a voice trunk, that is the one meant.
    trunk = factories.customer_with_two_circuits()
    trunk["services"].append({"circuit_id": "ZJ-YY-0000001-3", "type": "voice", "bandwidth": "E1",
                              "sla_class": "standard"})
    await svc.db.customers.replace(trunk)
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert slots_of(events)["fault_circuit"] == "ZJ-YY-0000001-3"


@pytest.mark.parametrize("intent, text, ends", [
    ("affirm", "好的", True),
    ("nlu_fallback", "知道了", True),
    ("thank", "知道了，谢谢", True),  # had been read as a circuit's name, "not yours"
    ("deny", "都不是", True),
    ("ask_hotline", "行，我打热线", True),
    ("inform", "1", False),
    ("deny", "不是，是第一条", False),  # a circuit after all
])
@pytest.mark.parametrize("report, notice, ending", [
    ("公司座机打不通", "utter_no_voice_service", "utter_fault_left_to_hotline"),
    ("我们南京办公室的专线断了", "utter_place_not_served", "utter_fault_left_to_manager"),
])
async def test_told_the_fault_may_be_on_a_line_not_listed_an_answer_that_takes_it_in_ends_the_report(
        svc: Services, domain, intent, text, ends, report, notice, ending) -> None:
    """After the landline notice, "好的" and "知道了，谢谢" listed the circuits again, or were told they name none of
    them; after "no circuit ends in 南京", "都不是" was asked to answer or cancel."""
    one = factories.customer()
    one["services"][0].update(a_end="上海金桥大厦", z_end="杭州数据中心")
    await svc.db.customers.replace(one)
    told = [{"event": "user", "text": report, "parse_data": {"intent": {"name": "report_fault"}}},
            {"event": "bot", "text": "…", "metadata": {"utter_action": notice}}]
    answered = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit", "fault_circuit": text}, intent=intent,
                       text=text, active_loop="fault_form", events=told)
    form, dispatcher = forms.ValidateFaultForm(), CollectingDispatcher()
    if intent in ("deny", "ask_hotline", "thank"):  # which the domain's mapping leaves out: the form takes them
        assert await form.extract_fault_circuit(dispatcher, answered, domain) == {"fault_circuit": text}
    found = await form.validate_fault_circuit(text, dispatcher, answered, domain)
    assert (found == {"fault_circuit": None} and dispatcher.messages == []) is ends
    messages, events = await run(fault_circuit.ActionAskFaultCircuit(), answered, domain)
    if ends:
        assert [m["response"] for m in messages] == [ending]
        assert events[0]["event"] == "active_loop" and events[0]["name"] is None
        assert slots_of(events)["fault_circuit"] is None
        if notice == "utter_place_not_served":
            assert messages[0]["place"] == "南京"
    else:
        assert found == {"fault_circuit": "ZJ-2M-0000001-1"}
    if text == "好的":  # not yet told, it is no answer to the notice: the notice and the list
        plain = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent=intent, text=text,
                        events=told[:1])
        messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), plain, domain)
        assert [m["response"] for m in messages] == [notice, "utter_ask_fault_circuit"]
    if text == "都不是":  # not told, a no to the list is not taken as a circuit's name
        plain = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent=intent, text=text,
                        active_loop="fault_form", events=told[:1])
        assert await form.extract_fault_circuit(CollectingDispatcher(), plain, domain) == {}


@pytest.mark.parametrize("report, assumed", [("我们南京办公室的专线断了", False), ("杭州那边的专线断了", True)])
async def test_a_place_no_circuit_ends_in_is_not_put_on_the_only_circuit(svc: Services, domain, report, assumed) -> None:
    """"我们南京办公室的专线断了" from a customer whose one circuit runs from Shanghai to Hangzhou had become a fault
    on it: it may be a line the operator does not serve them. They hear so once, and may choose it."""
    one = factories.customer()
    one["services"][0].update(a_end="上海金桥大厦", z_end="杭州数据中心")
    await svc.db.customers.replace(one)
    opened = tracker(slots=VERIFIED_A, intent="report_fault", text=report)
    _, events = await run(forms.ValidateFaultForm(), opened, domain)
    assert (slots_of(events).get("fault_circuit") == "ZJ-2M-0000001-1") is assumed
    if not assumed:
        messages, _ = await run(fault_circuit.ActionAskFaultCircuit(), opened, domain)
        assert [(m["response"], m.get("place")) for m in messages] == [("utter_place_not_served", "南京"),
                                                                      ("utter_ask_fault_circuit", None)]
        # Reported again at "which circuit?", it hears of the place again, not that it names no circuit of theirs;
        # told of it, "南京那条" does.
        told = [{"event": "user", "text": report, "parse_data": {"intent": {"name": "report_fault"}}},
                {"event": "bot", "text": "…", "metadata": {"utter_action": "utter_place_not_served"}}]
        for intent, text, said in (("report_fault", report, []), ("inform", "南京那条", ["utter_circuit_not_yours"])):
            asked = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent=intent, text=text,
                            active_loop="fault_form", events=told)
            dispatcher = CollectingDispatcher()
            assert await forms.ValidateFaultForm().validate_fault_circuit(text, dispatcher, asked, domain) == {
                "fault_circuit": None}
            assert [m["response"] for m in dispatcher.messages] == said


async def test_a_place_several_circuits_end_in_asks_which_of_them(svc: Services, domain) -> None:
    two = factories.customer_with_two_circuits()
    two["services"][0].update(a_end="深圳东方大厦", z_end="济南数据中心")
    two["services"][1].update(a_end="深圳海纳大厦", z_end="成都数据中心")
    await svc.db.customers.replace(two)
    asked = tracker(slots={**VERIFIED_A, "requested_slot": "fault_circuit"}, intent="inform", text="深圳那条",
                    active_loop="fault_form")
    dispatcher = CollectingDispatcher()
    found = await forms.ValidateFaultForm().validate_fault_circuit("深圳那条", dispatcher, asked, domain)
    assert found == {"fault_circuit": None}
    assert [(m["response"], m["place"], m["count"]) for m in dispatcher.messages] == [
        ("utter_circuits_share_place", "深圳", 2)]
