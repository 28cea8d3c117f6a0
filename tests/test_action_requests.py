"""Requests a verified customer makes: a missing bill, chasing a ticket, SMS consent, the profile's language."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from actions import account, forms, requests
from actions.services import Services
from carecore.clock import FixedClock
from carecore.model import TicketEvent
from tests import factories
from tests.action_kit import VERIFIED_A, VERIFIED_A_EN, only, run, slots_of, tracker


async def test_bill_not_received_is_recorded_once_and_only_once_the_bill_is_issued(svc: Services, domain) -> None:
    # bill day 31: on Monday 23 November, October's bill is not issued yet (30 November); nothing is recorded
    messages, _ = await run(requests.ActionBillNotReceived(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert (m["response"], m["month"], m["issued_on"], m["due_on"]) == (
        "utter_bill_claim_too_early", "2026年10月", "2026年11月30日", "2026年12月7日")
    assert await svc.db.claims.find("KA0000001", "bill_not_received", "2026-10") is None
    september = {**VERIFIED_A, "month": "9月"}
    messages, _ = await run(requests.ActionBillNotReceived(), tracker(slots=september, text="9月账单没收到"), domain)
    m = only(messages)
    assert (m["response"], m["month"], m["minutes"], m["credit"]) == ("utter_bill_claim_recorded", "2026年9月", 5, "1.00")
    claim = await svc.db.claims.find("KA0000001", "bill_not_received", "2026-09")
    assert claim is not None and claim.status == "pending_verification" and claim.id == m["claim_id"]
    messages, _ = await run(requests.ActionBillNotReceived(), tracker(slots={**VERIFIED_A_EN, "month": "September"}),
                            domain)
    assert (only(messages)["response"], only(messages)["month"]) == ("utter_bill_claim_exists", "September 2026")


async def test_service_said_to_be_back_is_noted_on_the_contacts_open_faults(svc: Services, domain) -> None:
    said = {"slots": VERIFIED_A, "intent": "report_restored", "text": "网络恢复了"}
    messages, _ = await run(requests.ActionReportRestored(), tracker(**said), domain)
    assert only(messages)["response"] == "utter_restored_no_fault"
    await svc.db.tickets.create(factories.ticket())  # FT-20261123-0001, this contact's
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0002", contact_id="0000001-02"))  # a colleague's
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0001", kind="complaint"))
    messages, _ = await run(requests.ActionReportRestored(), tracker(**said), domain)
    assert (only(messages)["response"], only(messages)["ticket_ids"]) == ("utter_restored_noted", "FT-20261123-0001")
    ticket = await svc.db.tickets.get("FT-20261123-0001")
    assert (ticket.history[-1].action, ticket.history[-1].note, ticket.history[-1].actor) == (
        "customer_restored", "网络恢复了", "contact:0000001-01")
    assert ticket.status == "open" and ticket.sla.restored_at is None  # resolving is the operator's
    for other in ("FT-20261123-0002", "CP-20261123-0001"):
        assert (await svc.db.tickets.get(other)).history == []
    messages, _ = await run(requests.ActionReportRestored(), tracker(**{**said, "text": "已经好了吗"}), domain)
    assert only(messages)["response"] == "utter_open_tickets"  # asked, not told: the status answer
    # nothing says service is back, or it says service is out again: not understood, noted nowhere
    for misread in ("现在几点了", "i'm bored", "the problem is back", "又不通了"):
        messages, events = await run(requests.ActionReportRestored(), tracker(**{**said, "text": misread}), domain)
        assert messages == [] and events == [{"event": "followup", "timestamp": None, "name": "action_handle_fallback"}]
    assert len((await svc.db.tickets.get("FT-20261123-0001")).history) == 1
    # the colleague's own fault is theirs to say
    messages, _ = await run(requests.ActionReportRestored(), tracker(**{**said, "slots": VERIFIED_A_EN}), domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0002"
    # named: that ticket, whoever reported it, however many newer ones there are; closed or another's: its status
    for n in range(2, 8):
        await svc.db.tickets.create(factories.ticket(_id=f"FT-20261124-000{n}", created_at=datetime(
            2026, 11, 24, n, tzinfo=timezone.utc)))
    named = tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261123-0002"}, intent="report_restored",
                    text="FT-20261123-0002恢复了")
    messages, _ = await run(requests.ActionReportRestored(), named, domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0002"
    foreign = tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261120-0099"}, intent="report_restored",
                      text="FT-20261120-0099恢复了")
    messages, _ = await run(requests.ActionReportRestored(), foreign, domain)
    assert only(messages)["response"] == "utter_ticket_not_found"


async def test_a_circuit_named_narrows_service_back_status_and_chase_to_its_faults(svc: Services, domain,
                                                                                    emulator) -> None:
    await svc.db.customers.replace(factories.customer_with_two_circuits("down"))
    await svc.db.tickets.create(factories.ticket())  # on the 2M circuit
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0002", circuit_id="ZJ-LL-0000001-2"))
    for text, noted in (("100M那条专线恢复了", "utter_restored_noted"), ("the 2M circuit is back", "utter_restored_noted"),
                        ("网络恢复了", "utter_restored_noted")):
        messages, _ = await run(requests.ActionReportRestored(), tracker(slots=VERIFIED_A, intent="report_restored",
                                                                         text=text), domain)
        assert only(messages)["response"] == noted
    said = [[e.note for e in (await svc.db.tickets.get(t)).history] for t in ("FT-20261123-0001", "FT-20261123-0002")]
    assert said == [["the 2M circuit is back", "网络恢复了"], ["100M那条专线恢复了", "网络恢复了"]]  # none named: both
    # said before verification: read from that message, not from the code that verified the customer
    asked = [{"event": "user", "text": "100M那条也恢复了", "parse_data": {"intent": {"name": "report_restored"}}}]
    messages, _ = await run(requests.ActionReportRestored(), tracker(slots=VERIFIED_A, intent="inform", text="123456",
                                                                     events=asked), domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0002"
    assert (await svc.db.tickets.get("FT-20261123-0002")).history[-1].note == "100M那条也恢复了"
    # the status and a chase of one circuit's faults: that circuit's tickets alone
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A, intent="ask_ticket_status",
                                                                  text="100M那条的故障修好了吗"), domain)
    assert only(messages)["lines"].startswith("1. FT-20261123-0002 ") and "\n" not in only(messages)["lines"]
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                 text="催一下2M电路的故障"), domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0001"
    await svc.db.tickets.resolve("FT-20261123-0001", TicketEvent(at=datetime(2026, 11, 23, 3, tzinfo=timezone.utc),
                                                                actor="manager:AM-ZJ001", action="resolved"))
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_ticket_status",
                                                                  text="any news on the 2M circuit's fault?"), domain)
    assert [(m["response"], m.get("circuit_id") or m.get("ticket_id")) for m in messages] == [
        ("utter_no_open_tickets_on_circuit", "ZJ-2M-0000001-1"),
        ("utter_latest_resolved", "FT-20261123-0001")]  # resolved an hour before: "修好了吗" hears that it was
    messages, _ = await run(requests.ActionReportRestored(), tracker(slots=VERIFIED_A, intent="report_restored",
                                                                     text="2M电路恢复了"), domain)
    assert (only(messages)["response"], only(messages)["circuit_id"]) == (  # the 100M one's fault is still open
        "utter_restored_no_fault_on_circuit", "ZJ-2M-0000001-1")


async def test_a_ticket_to_withdraw_is_noted_on_it_for_its_manager(svc: Services, domain) -> None:
    said = {"slots": VERIFIED_A, "intent": "cancel", "text": "我们想取消投诉"}
    messages, _ = await run(forms.ActionCancelForm(), tracker(**said), domain)
    assert only(messages)["response"] == "utter_no_open_tickets"
    await svc.db.tickets.create(factories.ticket())  # a fault: not a complaint
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0001", kind="complaint"))
    messages, _ = await run(forms.ActionCancelForm(), tracker(**said), domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_withdraw_noted", "CP-20261123-0001")
    event = (await svc.db.tickets.get("CP-20261123-0001")).history[-1]
    assert (event.action, event.note, event.actor) == ("customer_withdraw", "我们想取消投诉", "contact:0000001-01")
    assert (await svc.db.tickets.get("CP-20261123-0001")).status == "open"  # closing is the manager's
    # two open tickets, "撤销工单": which one; named, that one; another customer's, its status (not found)
    messages, _ = await run(forms.ActionCancelForm(), tracker(**{**said, "text": "撤销工单"}), domain)
    assert (only(messages)["response"], only(messages)["ticket_ids"]) == (
        "utter_withdraw_which", "FT-20261123-0001、CP-20261123-0001")
    named = tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261123-0001"}, intent="cancel", text="撤销FT-20261123-0001")
    messages, events = await run(forms.ActionCancelForm(), named, domain)
    assert only(messages)["ticket_id"] == "FT-20261123-0001" and slots_of(events) == {"ticket_id": None}
    foreign = tracker(slots={**VERIFIED_A, "ticket_id": "FT-20261120-0099"}, intent="cancel", text="撤销FT-20261120-0099")
    messages, _ = await run(forms.ActionCancelForm(), foreign, domain)
    assert only(messages)["response"] == "utter_ticket_not_found"


@pytest.mark.parametrize("fault_id, text, response, meant", [
    # a fault's and a complaint's of one day: their numbers do not tell which is older, so which is asked
    ("FT-20261123-0001", "帮我撤销最早那个", "utter_withdraw_which", None),
    ("FT-20261123-0001", "withdraw the oldest one", "utter_withdraw_which", None),
    ("FT-20261123-0001", "算了", "utter_nothing_to_cancel", None),  # a bare "never mind" withdraws nothing
    ("FT-20261120-0002", "帮我撤销最早那个", "utter_withdraw_noted", "FT-20261120-0002"),  # days apart: they do
    ("FT-20261120-0002", "withdraw the newest one", "utter_withdraw_noted", "CP-20261123-0001"),
])
async def test_a_withdrawal_right_after_a_list_of_tickets(svc: Services, domain, fault_id, text, response,
                                                          meant) -> None:
    await svc.db.tickets.create(factories.ticket(_id=fault_id))
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0001", kind="complaint"))
    listed = [{"event": "user", "text": "我的工单呢"},
              {"event": "bot", "text": f"贵单位未结工单：\n1. CP-20261123-0001 投诉：已受理\n2. {fault_id} 故障：已受理",
               "metadata": {"utter_action": "utter_ticket_status"}}]
    messages, _ = await run(forms.ActionCancelForm(), tracker(slots=VERIFIED_A, intent="cancel", text=text,
                                                              events=listed), domain)
    assert (only(messages)["response"], only(messages).get("ticket_id")) == (response, meant)
    noted = [t.id for t in await svc.db.tickets.for_customer("KA0000001")
             if t.history and t.history[-1].action == "customer_withdraw"]
    assert noted == ([meant] if meant else [])


async def test_opt_out_and_in_update_consent(svc: Services, domain) -> None:
    await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A, intent="opt_out_sms", text="退订关怀短信"), domain)
    contact = (await svc.db.customers.find_by_contact("0000001-01"))[1]
    assert contact.sms_opt_out is True and contact.opt_out_source == "assistant"
    messages, _ = await run(requests.ActionOptInSms(), tracker(slots=VERIFIED_A, intent="opt_in_sms",
                                                               text="我要恢复短信通知"), domain)
    assert only(messages)["response"] == "utter_opted_in"
    assert (await svc.db.customers.find_by_contact("0000001-01"))[1].sms_opt_out is False
    history = await svc.db.audit.for_entity("contact", "0000001-01")
    assert [(e.action, e.source, e.actor) for e in history] == [("opted_in", "assistant", "contact:0000001-01"),
                                                              ("opted_out", "assistant", "contact:0000001-01")]


async def test_a_fix_notice_misread_as_an_opt_in_is_the_tickets_question(svc: Services, domain) -> None:
    """"修好了短信告诉我一声" had resubscribed a customer who had opted out of care messages."""
    await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A, intent="opt_out_sms", text="退订关怀短信"), domain)
    await svc.db.tickets.create(factories.ticket(_id="FT-20261122-0001", customer_id="KA0000001"))
    messages, _ = await run(requests.ActionOptInSms(), tracker(slots=VERIFIED_A, intent="opt_in_sms",
                                                               text="修好了短信告诉我一声"), domain)
    assert [m["response"] for m in messages] == ["utter_open_tickets", "utter_resolution_notice"]
    messages, _ = await run(requests.ActionOptInSms(), tracker(slots=VERIFIED_A, intent="opt_in_sms",
                                                               text="不知道"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase"
    assert (await svc.db.customers.find_by_contact("0000001-01"))[1].sms_opt_out is True


async def test_a_message_misread_as_an_opt_out_unsubscribes_nobody(svc: Services, domain) -> None:
    messages, events = await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A, intent="opt_out_sms",
                                                                    text="I don't know what's wrong"), domain)
    assert only(messages)["response"] == "utter_ask_rephrase" and events == []
    contact = (await svc.db.customers.find_by_contact("0000001-01"))[1]
    assert contact.reachable and not contact.sms_opt_out


async def test_a_number_its_holder_disowns_is_no_contacts_any_more(svc: Services, domain) -> None:
    """"我已经离职了" from the billing contact: nothing more is sent to the number, it verifies nobody, this
    conversation loses the account, and the bills go to the next contact."""
    said = "我已经离职了，别再给我发短信"
    messages, events = await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A, intent="opt_out_sms",
                                                                    text=said), domain)
    assert only(messages)["response"] == "utter_number_disowned"
    assert slots_of(events)["verified"] is False and slots_of(events)["customer_id"] is None
    assert events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}  # nothing more to do
    customer, contact = await svc.db.customers.find_by_contact("0000001-01")
    assert contact.sms_opt_out is True and contact.number_disowned_at is not None and not contact.reachable
    assert customer.billing_contact().contact_id == "0000001-02"
    assert await svc.db.customers.find_by_mobile("+8613800138000") is None
    history = await svc.db.audit.for_entity("contact", "0000001-01")
    assert [(e.action, e.note) for e in history] == [("number_disowned", said)]
    # the slots as they were before this reply: the account is refused all the same
    messages, _ = await run(account.ActionAccountSummary(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_need_verification"


async def test_another_contact_said_to_have_left_changes_nothing_of_the_writers(svc: Services, domain) -> None:
    messages, events = await run(requests.ActionOptOutSms(), tracker(slots=VERIFIED_A, intent="opt_out_sms",
                                                                    text="王总已经离职了，别再给他发了"), domain)
    assert only(messages)["response"] == "utter_other_contact_left" and events == []
    contact = (await svc.db.customers.find_by_contact("0000001-01"))[1]
    assert contact.reachable and not contact.sms_opt_out


async def test_change_language_is_saved_to_the_profile(svc: Services, domain) -> None:
    messages, events = await run(requests.ActionChangeLanguage(), tracker(slots=VERIFIED_A, text="english please"), domain)
    assert slots_of(events) == {"profile_language": "en", "language": "en"}
    assert only(messages)["text"] == "Sure, I'll reply in English from now on."  # written in the language it sets
    assert (await svc.db.customers.find_by_contact("0000001-01"))[1].language == "en"
    [entry] = await svc.db.audit.for_entity("contact", "0000001-01")
    assert (entry.source, entry.changes) == ("assistant", {"language": ["zh", "en"]})
    messages, events = await run(requests.ActionChangeLanguage(), tracker(slots={"language": "en"}, text="换语言"),
                                 domain)
    assert slots_of(events)["language"] == "zh" and only(messages)["text"] == "好的，之后我将用中文回复您。"


async def test_chasing_a_ticket_pages_its_manager_once_a_window(svc: Services, domain, clock: FixedClock,
                                                                emulator) -> None:
    emu, _ = emulator
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_no_open_tickets"
    await svc.db.tickets.create(factories.ticket())  # FT-20261123-0001, open, the diamond contact's
    for _ in range(2):  # chased twice in one window: one page, one line of history
        messages, events = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert (m["response"], m["ticket_ids"], m["manager_name"]) == ("utter_tickets_urged", "FT-20261123-0001", "林海燕")
    [page] = [x["body"] for x in emu.messages.values() if x["to"] == "+8613920000001"]
    assert page == ("【中国电信】客户催办：杭州华信物流有限公司（钻石卡）王伟 138 0013 8000催办FT-20261123-0001（修复时限："
                    "11月23日14:00）。请尽快处理：http://127.0.0.1:8080/console/tickets/FT-20261123-0001")
    ticket = await svc.db.tickets.get("FT-20261123-0001")
    assert [(e.action, e.actor) for e in ticket.history] == [("urged", "contact:0000001-01")]
    clock.advance(timedelta(hours=2))  # the next window: paged again
    await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    assert len([x for x in emu.messages.values() if x["to"] == "+8613920000001"]) == 2
    # Several open: one SMS names each with its deadline and links the customer's page.
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None,
                                                 category="billing", sla={"response_due": clock.now()}))
    clock.advance(timedelta(hours=2))
    await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    pages = [x["body"] for x in emu.messages.values() if x["to"] == "+8613920000001"]
    assert len(pages) == 3 and "CP-20261123-0003（答复时限：11月23日12:00，已超时）" in pages[-1]
    assert "FT-20261123-0001（修复时限：11月23日14:00）" in pages[-1]
    assert pages[-1].endswith("/console/customers/KA0000001")
    # A named ticket that is closed, or another customer's, gets its status answer; nobody is paged.
    await svc.db.tickets.create(factories.ticket(_id="FT-20261123-0002", status="resolved"))
    for named in ("FT-20261123-0002", "FT-20261123-0099"):
        messages, events = await run(requests.ActionUrgeTicket(), tracker(slots={**VERIFIED_A, "ticket_id": named}),
                                     domain)
        assert only(messages)["response"] in ("utter_ticket_status", "utter_ticket_not_found")
        assert slots_of(events)["ticket_id"] is None
    assert len([x for x in emu.messages.values() if x["to"] == "+8613920000001"]) == 3


async def test_a_chase_of_many_open_tickets_says_which_it_left(svc: Services, domain, emulator) -> None:
    """Seven open: the newest five chased in one SMS, and the customer told that two were not."""
    emu, _ = emulator
    for n in range(1, 8):
        await svc.db.tickets.create(factories.ticket(_id=f"FT-20261123-{n:04d}",
                                                     created_at=datetime(2026, 11, 23, 1, n, tzinfo=timezone.utc)))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    assert [m["response"] for m in messages] == ["utter_tickets_urged", "utter_tickets_not_chased"]
    assert messages[0]["ticket_ids"].split("、") == [f"FT-20261123-{n:04d}" for n in range(7, 2, -1)]
    assert messages[1]["count"] == 2
    [page] = [x["body"] for x in emu.messages.values() if x["to"] == "+8613920000001"]
    assert "FT-20261123-0003" in page and "FT-20261123-0002" not in page


async def test_a_complaint_about_the_manager_is_chased_with_the_supervisor_who_answers_it(svc: Services, domain,
                                                                                         emulator) -> None:
    emu, _ = emulator
    await svc.db.tickets.create(factories.ticket())  # a fault: chased with the manager
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None,
                                                 category="manager", manager_id="AM-CZJ01",
                                                 sla={"response_due": svc.clock.now()}))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    assert [(m["response"], m["ticket_ids"], m["manager_name"]) for m in messages] == [
        ("utter_tickets_urged", "FT-20261123-0001", "林海燕"),
        ("utter_tickets_urged_above", "CP-20261123-0003", "周敏")]
    pages = {x["to"]: x["body"] for x in emu.messages.values()}
    assert "CP-20261123-0003" not in pages["+8613920000001"] and "FT-20261123-0001" in pages["+8613920000001"]
    assert "催办CP-20261123-0003（涉及客户经理林海燕，答复时限：" in pages["+8613910000001"]
    assert pages["+8613910000001"].endswith("/console/tickets/CP-20261123-0003")
    ticket = await svc.db.tickets.get("CP-20261123-0003")
    assert [(e.action, e.note) for e in ticket.history] == [("urged", "paged AM-PZJ")]


async def test_a_chase_at_night_waits_for_the_morning_unless_a_deadline_comes_first(svc: Services, domain,
                                                                                    clock: FixedClock,
                                                                                    emulator) -> None:
    emu, _ = emulator
    clock.advance(timedelta(hours=13))  # 23:00
    due = clock.now() + timedelta(hours=15)  # 14:00 tomorrow
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None,
                                                 category="billing", sla={"response_due": due}))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    m = only(messages)
    assert (m["response"], m["manager_name"], m["morning"]) == ("utter_tickets_urged_morning", "林海燕", "11月24日08:00")
    assert emu.messages == {}
    ticket = await svc.db.tickets.get("CP-20261123-0003")
    assert [(e.action, e.note) for e in ticket.history] == [("urged", "held until 08:00")]
    await svc.db.tickets.create(factories.ticket())  # a fault overdue since 14:00: the chase of both goes now
    clock.advance(timedelta(hours=2))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A), domain)
    assert only(messages)["response"] == "utter_tickets_urged"
    [page] = emu.messages.values()
    assert "FT-20261123-0001" in page["body"] and "CP-20261123-0003" in page["body"]


async def test_a_chase_naming_a_kind_of_ticket_chases_that_kind_alone(svc: Services, domain, emulator) -> None:
    await svc.db.tickets.create(factories.ticket())
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                 text="投诉怎么还没回复，催一下"), domain)
    assert only(messages)["ticket_ids"] == "CP-20261123-0003"
    [page] = emulator[0].messages.values()
    assert "CP-20261123-0003" in page["body"] and "FT-20261123-0001" not in page["body"]


async def test_a_chase_naming_none_right_after_a_list_chases_the_tickets_listed(svc: Services, domain,
                                                                               emulator) -> None:
    """"能快点吗" right after the faults' progress had chased every open ticket, the complaint too."""
    await svc.db.tickets.create(factories.ticket())
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None))
    listed = [{"event": "bot", "text": "您的未结工单：\n1. FT-20261123-0001 故障：已受理",
               "metadata": {"utter_action": "utter_open_tickets"}}]
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                 text="能快点吗", events=listed), domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0001"
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                 text="能快点吗"), domain)
    assert set(only(messages)["ticket_ids"].split("、")) == {"FT-20261123-0001", "CP-20261123-0003"}  # every open one


async def test_a_chase_right_after_a_reply_naming_one_ticket_chases_it(svc: Services, domain, emulator) -> None:
    """"算了，那就催一下吧" right after "电路…已有处理中的故障单FT-…，如需催促，请说“催办”", in the middle of a report
    on that circuit, had chased every open ticket, the complaint too, and the report had gone on."""
    await svc.db.tickets.create(factories.ticket())
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None))
    told = [{"event": "bot", "text": "电路ZJ-2M-0000001-1已有处理中的故障单FT-20261123-0001（…）。如需催促，请说“催办”。",
             "metadata": {"utter_action": "utter_fault_open_on_circuit"}}]
    reporting = {**VERIFIED_A, "requested_slot": "fault_since", "fault_circuit": "ZJ-2M-0000001-1"}
    for text, left in (("催一下", False), ("算了，那就催一下吧", True)):
        messages, events = await run(requests.ActionUrgeTicket(), tracker(
            slots=reporting, intent="urge_ticket", text=text, events=told, active_loop="fault_form"), domain)
        assert messages[0]["ticket_ids"] == "FT-20261123-0001"
        assert [m["response"] for m in messages[1:]] == (["utter_report_left_for_chase"] if left else [])
        assert ({"event": "active_loop", "name": None, "timestamp": None} in events) is left
        assert (events[-1] == {"event": "followup", "name": "action_listen", "timestamp": None}) is left


@pytest.mark.parametrize("fault_open, text, outcome", [
    (True, "还是断的，催一下", "FT-20261123-0001"),  # the fault alone is chased
    (False, "专线还是断的，怎么还没修好", "utter_nothing_to_chase_reporting"),  # none open: it is reported
    (False, "你们处理太慢了", "CP-20261123-0003"),  # slow may be the handling: every open ticket
])
async def test_a_chase_saying_the_line_is_out_is_of_the_fault(svc: Services, domain, emulator, fault_open: bool,
                                                              text: str, outcome: str) -> None:
    """With a complaint open too, "还是断的" had chased the complaint and left the fault unreported."""
    await svc.db.tickets.create(factories.ticket(status="open" if fault_open else "resolved"))
    await svc.db.tickets.create(factories.ticket(_id="CP-20261123-0003", kind="complaint", circuit_id=None))
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket", text=text),
                            domain)
    assert only(messages).get("ticket_ids", only(messages)["response"]) == outcome


@pytest.mark.parametrize("text, found", [
    ("都断了三个小时了还没修好", {"fault_symptom": "都断了三个小时了还没修好", "fault_since": "三个小时了"}),
    ("the line is still not fixed", {"fault_symptom": "the line is still not fixed"}),
    ("催一下", None),  # nothing said of a fault: nothing to report
])
async def test_a_chase_of_a_fault_with_none_open_reports_it(svc: Services, domain, text, found) -> None:
    """Resolved, or phoned in and never logged: the fault is reported now, with what the chase says of it (the fault
    form's submission reopens a fix of the last day)."""
    await svc.db.tickets.create(factories.ticket(status="resolved"))
    messages, events = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                      text=text), domain)
    if found is None:
        assert only(messages)["response"] == "utter_no_open_tickets" and events == []
        return
    assert only(messages)["response"] == "utter_nothing_to_chase_reporting"
    assert slots_of(events) == found and (events[-1]["event"], events[-1]["name"]) == ("followup", "fault_form")


async def test_a_ticket_pointed_at_in_the_reply_before_is_the_one_chased(svc: Services, domain, emulator) -> None:
    for n in (1, 2):
        await svc.db.tickets.create(factories.ticket(_id=f"FT-20261123-000{n}",
                                                     created_at=datetime(2026, 11, 23, 2, n, tzinfo=timezone.utc)))
    listed = [{"event": "bot", "text": "Your open tickets:\n1. FT-20261123-0002 fault: open\n2. FT-20261123-0001 fault: "
                                       "open", "metadata": {"utter_action": "utter_open_tickets"}}]
    for text, chased in (("why is the first one taking so long", "FT-20261123-0002"), ("催一下第二个", "FT-20261123-0001")):
        messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket", text=text,
                                                                     events=listed), domain)
        assert only(messages)["ticket_ids"] == chased, text
    # by the number the list gave it, among lines that are no tickets
    credits = [{"event": "bot", "text": "贵单位的补偿：\n1. BC-20261105-0001 账单未按时送达：…\n2. FT-20261123-0001（电路…）…"}]
    messages, _ = await run(requests.ActionUrgeTicket(), tracker(slots=VERIFIED_A, intent="urge_ticket",
                                                                 text="催一下第二个", events=credits), domain)
    assert only(messages)["ticket_ids"] == "FT-20261123-0001"
    # "it": the one ticket the reply named alone; with several named, every open one as before
    said = [{"event": "bot", "text": "工单FT-20261123-0001：已受理。", "metadata": {"utter_action": "utter_ticket_status"}}]
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_ticket_status",
                                                                  text="when will it be fixed", events=said), domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_ticket_status", "FT-20261123-0001")
    messages, _ = await run(account.ActionTicketStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_ticket_status",
                                                                  text="when will it be fixed", events=listed), domain)
    assert only(messages)["response"] == "utter_open_tickets"
    # read as a question about circuits, it is still about the ticket pointed at
    messages, _ = await run(account.ActionServiceStatus(), tracker(slots=VERIFIED_A_EN, intent="ask_service_status",
                                                                   text="is the first one fixed", events=listed), domain)
    assert (only(messages)["response"], only(messages)["ticket_id"]) == ("utter_ticket_status", "FT-20261123-0002")


@pytest.mark.parametrize("text, restored", [
    ("the Wuhan line is working again", True), ("专线恢复了", True), ("网络已经好了，谢谢", True),
    ("the line is back up now", True),
    ("网络不正常", False), ("网络不稳定", False),  # a symptom, however "正常" / "稳定" read
    ("断了两个小时，现在恢复了", False),  # it names the fault too: the report stands
    ("恢复了但是还是很慢", False), ("the problem is back", False), ("not working again", False),
    ("什么时候能恢复", False),
])
def test_a_restore_read_as_a_fault_report_says_service_is_back_plainly(text: str, restored: bool) -> None:
    assert requests.restore_read_as_fault(text) is restored
