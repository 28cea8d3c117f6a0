"""Requests that change something: bill-not-received claims, chasing open tickets (催办), service said to be back,
SMS consent, reply language."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from typing import Any, Dict, List, Optional

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.account import answer_ticket_status
from actions.circuit_choice import circuit_asked
from actions.common import (
    COMPLAINT_SLOTS,
    FAULT_SLOTS,
    IDENTITY_SLOTS,
    Identity,
    form_ended,
    lang_of,
    latest_user_event,
    read_as,
    response_in,
    verified_action,
    verified_identity,
)
from actions.message_reading import (
    ASKED_WHETHER,
    CANCEL_WORDS,
    NOT_REPAIRED,
    RESERVATION,
    RESTORED_WORDS,
    SYMPTOM_WORDS,
    fault_said,
    just_created,
    last_said,
    month_named,
    says_restored,
    since_in,
    spoken,
)
from actions.open_tickets import (
    OPEN_TICKETS_LISTED,
    TicketsAsked,
    listed_open,
    newest_open,
    open_beyond,
    say_none_open,
    tickets_asked,
)
from actions.opt_out_words import fix_notice_asked, number_disowned, opt_in_said, opt_out_said, someone_else_left
from actions.services import Services, services
from actions.ticket_pointing import (
    ANY_TICKET,
    one_of_tickets_listed,
    ticket_just_told_of,
    ticket_kinds_named,
    ticket_meant,
)
from carecore import ticket_chase
from carecore.clock import as_stored
from carecore.deadlines import next_send_window
from carecore.model import OPEN_TICKET_STATUSES, Ticket, TicketEvent
from carecore.months import after_bill_day, parse_month
from carecore.repository import DatabaseError, DuplicateRecordError
from carecore.texts import fmt_date, fmt_time, month_label, yuan

log = logging.getLogger(__name__)


async def bill_not_received(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                            lang: str) -> List[Dict[str, Any]]:
    """Log a claim for the month named, or last month; the care scheduler verifies and settles it. A bill not
    issued yet cannot have failed to arrive: the customer hears when it is issued and is due, and nothing is
    logged (a claim would otherwise be verified later if no delivery were ever recorded)."""
    customer, contact = who
    today = svc.clock.today()
    month = month_named(tracker, today) or parse_month("上个月", today)
    assert month is not None
    issued_on = after_bill_day(month, customer.billing.bill_day, 0)
    if today < issued_on:
        dispatcher.utter_message(response="utter_bill_claim_too_early", month=month_label(month, lang),
                                 issued_on=fmt_date(issued_on, lang),
                                 due_on=fmt_date(issued_on + timedelta(days=svc.settings.bill_delivery_days), lang))
        return [SlotSet("month", None)]
    existing = await svc.db.claims.find(customer.id, "bill_not_received", month)
    if existing is None:
        now = as_stored(svc.clock.now())
        try:
            existing = await svc.db.claims.create({
                "_id": await svc.db.claims.next_id(today), "customer_id": customer.id,
                "contact_id": contact.contact_id, "month": month, "created_at": now, "updated_at": now,
            })
            dispatcher.utter_message(response="utter_bill_claim_recorded", month=month_label(month, lang),
                                     claim_id=existing.id, minutes=svc.settings.bill_claim_credit_minutes,
                                     credit=yuan(svc.settings.bill_claim_credit_fen))
            return [SlotSet("month", None)]
        except DuplicateRecordError:  # logged concurrently from another channel
            existing = await svc.db.claims.find(customer.id, "bill_not_received", month)
    assert existing is not None
    dispatcher.utter_message(response="utter_bill_claim_exists", month=month_label(month, lang), claim_id=existing.id)
    return [SlotSet("month", None)]


async def _open_ticket_named(svc: Services, customer_id: str, ticket_id: str) -> Optional[Ticket]:
    """The customer's ticket named, while open; None for a closed one or another customer's, whose status answer
    (closed, or not found) is given instead of chasing or withdrawing it."""
    ticket = await svc.db.tickets.get(ticket_id, customer_id=customer_id)
    return ticket if ticket is not None and ticket.status in OPEN_TICKET_STATUSES else None


async def urge_tickets(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                       lang: str) -> List[Dict[str, Any]]:
    """催办: the ticket named, or the customer's open ones (of the circuit named, if one is), chased with whoever
    answers them (``ticket_chase``) and written in their history. A named ticket that is closed, or not the
    customer's, gets its status answer instead."""
    customer, contact = who
    wanted, told = ticket_meant(tracker), None
    if wanted:
        ticket = await _open_ticket_named(svc, customer.id, wanted)
        if ticket is None:
            return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
        tickets, asked = [ticket], TicketsAsked()
    else:
        asked = tickets_asked(customer, tracker, "urge_ticket")
        if not asked.kinds and fault_said(last_said(tracker, "urge_ticket")):
            asked = asked._replace(kinds=("fault",))  # "还是断的" with a complaint open too: the fault is chased
        listed = await listed_open(svc, customer.id, tracker) if asked == TicketsAsked() else []
        # right after a reply naming one ("已有处理中的故障单…如需催促，请说“催办”"): that one
        just = ticket_just_told_of(tracker) if asked == TicketsAsked() and not listed else ""
        told = await _open_ticket_named(svc, customer.id, just) if just else None
        tickets = listed or ([told] if told else []) or await newest_open(svc, customer.id, asked)
    said = last_said(tracker, "urge_ticket")
    if not tickets and "fault" in (asked.kinds or ("fault",)) and tracker.active_loop_name is None and \
            (SYMPTOM_WORDS.search(said) or NOT_REPAIRED.search(said)):
        # "都断了三个小时了还没修好" with no fault open (resolved, or phoned in and never logged): reported now,
        # with what it says; a fix of the last day that did not hold reopens its ticket
        dispatcher.utter_message(response="utter_nothing_to_chase_reporting")
        since = since_in(said)
        return [SlotSet("fault_symptom", said[:500]), *([SlotSet("fault_since", since)] if since else []),
                FollowupAction("fault_form")]
    if not tickets:
        await say_none_open(svc, dispatcher, customer.id, asked, lang)
        return []
    now = svc.clock.now()
    window = ticket_chase.window_of(now)
    for chase in await ticket_chase.chases(svc.db, customer.account_manager_id, tickets):
        manager, held = chase.manager, chase.manager is not None and ticket_chase.waits(now, chase.tickets)
        fresh = [t for t in chase.tickets if ticket_chase.alert_key(t, window) not in t.alerts]
        if fresh and manager is not None and not held:
            key = ticket_chase.sms_key(window, fresh)
            await svc.gateway.send(await ticket_chase.chase_sms(svc.db, svc.settings, svc.clock.tz, key, manager,
                                                                fresh, customer, contact, now=now))
        note = (ticket_chase.HELD if held else f"paged {manager.id}") if manager else "no active manager to page"
        for ticket in fresh:
            await svc.db.tickets.record_alert(ticket.id, ticket_chase.alert_key(ticket, window), TicketEvent(
                at=as_stored(now), actor=f"contact:{contact.contact_id}", action=ticket_chase.URGED, note=note))
        response = "utter_tickets_urged_morning" if held else (
            "utter_tickets_urged_above" if chase.above else "utter_tickets_urged")
        dispatcher.utter_message(response=response,
                                 ticket_ids=(", " if lang == "en" else "、").join(t.id for t in chase.tickets),
                                 manager_name=manager.name if manager is not None else "",
                                 morning=fmt_time(next_send_window(now), lang, svc.clock.tz))
    more = 0 if wanted or told else await open_beyond(svc, customer.id, tickets, asked)
    if more:
        dispatcher.utter_message(response="utter_tickets_not_chased", count=more)
    if tracker.active_loop_name in ("fault_form", "complaint_form") and REPORT_LEFT.match(said):
        # "算了，那就催一下吧": the chase instead of the report, which ends unsent
        dispatcher.utter_message(response="utter_report_left_for_chase")
        return [SlotSet("ticket_id", None), *form_ended(COMPLAINT_SLOTS + FAULT_SLOTS), FollowupAction("action_listen")]
    return [SlotSet("ticket_id", None)]


# A chase said instead of going on with the report under way ("算了，催一下吧", "never mind, just chase it")
REPORT_LEFT = re.compile(r"\s*(?:算了|不用了|不报了|不用报了|不提交了|never ?mind|forget (?:it|the report))", re.I)


# Said plainly that service is back ("专线恢复了", "the Wuhan line is working again"): a message the model read as a
# fault report with this, and no symptom, reserve or fault again in it, tells of a restore.
RESTORED_TOLD = re.compile(r"恢复了|恢复正常|已恢复|已经好了|又好了|好了|通了|修好了|没事了|能用了|可以用了|正常了|"
                           r"\b(?:back (?:up|online|on|to normal)|working (?:again|now|fine|normally)|(?:is|'s|are) back|"
                           r"restored|fixed|resolved)\b", re.I)


def restore_read_as_fault(text: str) -> bool:
    """Whether a message the model read as something else says plainly, and only, that service is back."""
    return bool(RESTORED_TOLD.search(text)) and says_restored(text) and not SYMPTOM_WORDS.search(text) \
        and not RESERVATION.search(text)


async def restore_misread(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                          lang: str) -> List[Dict[str, Any]]:
    """``report_restored`` for the latest message, whatever the model read it as (a fault report, nothing)."""
    return await report_restored(svc, read_as(tracker, latest_user_event(tracker), "report_restored"), dispatcher, who,
                                 lang)


async def report_restored(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                          lang: str) -> List[Dict[str, Any]]:
    """"网络恢复了": noted, in the customer's words, on the open tickets it is about (the one named, else this
    contact's open faults, else the company's; of the circuit named, "155M那条好了", if one is), where the manager
    resolving them sees it. The assistant resolves nothing: the restore time decides the SLA and its credit, and the
    operator records it. A ticket named that is closed or not theirs gets its status answer, as a chase or a
    withdrawal of it does."""
    said = last_said(tracker, "report_restored")  # after verification, the latest message is the code
    if RESTORED_WORDS.search(said) and ASKED_WHETHER.search(said):  # "恢复了吗": asked, not told
        return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
    if not says_restored(said):  # misread ("现在几点了"), or out again ("the problem is back"): noted on no ticket
        return [FollowupAction("action_handle_fallback")]
    customer, contact = who
    named = ticket_meant(tracker)
    if named:  # looked up by itself: among the newest open ones only, an older one named was "no open fault"
        ticket = await _open_ticket_named(svc, customer.id, named)
        if ticket is None:
            return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
        faults = [ticket]
    else:
        circuit = circuit_asked(customer, tracker, "report_restored")
        faults = [t for t in await svc.db.tickets.for_customer(customer.id, open_only=True, limit=OPEN_TICKETS_LISTED,
                                                               circuit_id=circuit) if t.kind == "fault"]
        faults = [t for t in faults if t.contact_id == contact.contact_id] or faults
        if not faults and circuit:  # "杭州那条好了", with a fault open on another: not "none for your company"
            dispatcher.utter_message(response="utter_restored_no_fault_on_circuit", circuit_id=circuit)
            return [SlotSet("ticket_id", None)]
    if not faults:
        dispatcher.utter_message(response="utter_restored_no_fault")
        return [SlotSet("ticket_id", None)]
    for ticket in faults:
        await svc.db.tickets.add_event(ticket.id, TicketEvent(at=as_stored(svc.clock.now()),
                                                              actor=f"contact:{contact.contact_id}",
                                                              action="customer_restored", note=said[:200]))
    dispatcher.utter_message(response="utter_restored_noted",
                             ticket_ids=(", " if lang == "en" else "、").join(t.id for t in faults))
    return [SlotSet("ticket_id", None)]


async def withdraw_ticket(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                          lang: str) -> List[Dict[str, Any]]:
    """"取消投诉" / "撤销工单FT-…": the request is written on the ticket (the one named, or the customer's only open
    one of that kind), where its manager sees it and closes the ticket after checking; only the operator closes
    tickets. Several open ones are listed to be named; one named that is closed or not theirs gets its status."""
    customer, contact = who
    said = last_said(tracker, "cancel") or str(tracker.latest_message.get("text") or "")
    if not CANCEL_WORDS.search(said):  # "接下来会怎么处理" right after the report: a question about its ticket
        return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
    named = ticket_meant(tracker) or (just_created(tracker) or "").upper()
    if named:
        ticket = await _open_ticket_named(svc, customer.id, named)
        if ticket is None:
            return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
        tickets = [ticket]
    else:
        # with no kind named, right after a list of tickets: one of those ("撤销最早那个"), asked which
        kinds = ticket_kinds_named(said) or (ANY_TICKET if one_of_tickets_listed(tracker) else ())
        tickets = [t for t in await svc.db.tickets.for_customer(customer.id, open_only=True) if t.kind in kinds]
        tickets = [t for t in tickets if t.contact_id == contact.contact_id] or tickets
    ids = (", " if lang == "en" else "、").join(t.id for t in tickets)
    if not tickets:
        dispatcher.utter_message(response="utter_no_open_tickets")
    elif len(tickets) > 1:
        dispatcher.utter_message(response="utter_withdraw_which", ticket_ids=ids)
    else:
        await svc.db.tickets.add_event(tickets[0].id, TicketEvent(at=as_stored(svc.clock.now()),
                                                                  actor=f"contact:{contact.contact_id}",
                                                                  action="customer_withdraw", note=said[:200]))
        dispatcher.utter_message(response="utter_withdraw_noted", ticket_id=tickets[0].id)
    return [SlotSet("ticket_id", None)]


async def _set_consent(svc: Services, dispatcher: CollectingDispatcher, who: Identity, opted_out: bool) -> None:
    await svc.db.customers.set_sms_opt_out(who[1].contact_id, opted_out, source="assistant",
                                          actor=f"contact:{who[1].contact_id}")
    dispatcher.utter_message(response="utter_opted_out" if opted_out else "utter_opted_in")


async def opt_out(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                  lang: str) -> List[Dict[str, Any]]:
    """An opt-out; when the number's holder says it no longer reaches the contact ("我已经离职了", "wrong number"),
    the number is disowned instead: nothing more goes to it, the conversation loses the account, and the manager
    is shown a contact to mend. Said of another contact ("王总已经离职了"), it changes nothing of the writer's: the
    manager keeps the contacts, and the writer is told to ask for them."""
    said = last_said(tracker, "opt_out_sms")
    if not opt_out_said(said):  # "no idea": asked again rather than unsubscribed
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
    if someone_else_left(said):  # the writer's own consent is not what they spoke of
        dispatcher.utter_message(response="utter_other_contact_left")
        return []
    if not number_disowned(said):
        await _set_consent(svc, dispatcher, who, True)
        return []
    contact_id = who[1].contact_id
    await svc.db.customers.disown_number(contact_id, source="assistant", actor=f"contact:{contact_id}",
                                         at=as_stored(svc.clock.now()), note=said[:500])
    dispatcher.utter_message(response="utter_number_disowned")
    # the conversation loses the account; with its identity gone the policies would guess a next step: there is none
    return [*[SlotSet(name, None) for name in IDENTITY_SLOTS], SlotSet("verified", False), FollowupAction("action_listen")]


async def opt_in(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                 lang: str) -> List[Dict[str, Any]]:
    """An opt-in, when the message asks for care messages again: "修好了短信告诉我一声" had resubscribed a customer
    who asked to hear of a fix. That is the ticket's question; anything else is asked again."""
    said = latest_user_event(tracker)
    if fix_notice_asked(spoken(said)):
        return await answer_ticket_status(svc, read_as(tracker, said, "ask_ticket_status"), dispatcher, who, lang)
    if not opt_in_said(spoken(said)):
        dispatcher.utter_message(response="utter_ask_rephrase")
        return []
    await _set_consent(svc, dispatcher, who, False)
    return []

ActionBillNotReceived = verified_action("action_bill_not_received", bill_not_received)
ActionUrgeTicket = verified_action("action_urge_ticket", urge_tickets)
ActionReportRestored = verified_action("action_report_restored", report_restored)
ActionOptOutSms = verified_action("action_opt_out_sms", opt_out)
ActionOptInSms = verified_action("action_opt_in_sms", opt_in)


def wanted_language(text: str, current: str) -> str:
    lowered = text.lower()
    if any(w in lowered for w in ("english", "英文", "英语")):
        return "en"
    if any(w in lowered for w in ("chinese", "mandarin", "中文", "普通话", "汉语")):
        return "zh"
    return "en" if current == "zh" else "zh"


class ActionChangeLanguage(Action):
    """Switch the reply language; a verified contact's preference is saved to the profile."""

    def name(self) -> str:
        return "action_change_language"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: Dict[str, Any]) -> List[Dict[str, Any]]:
        target = wanted_language(tracker.latest_message.get("text") or "", lang_of(tracker))
        svc = await services()
        try:
            who = await verified_identity(tracker, svc)
            if who is not None:
                await svc.db.customers.set_contact_language(who[1].contact_id, target, source="assistant",
                                                          actor=f"contact:{who[1].contact_id}")
        except DatabaseError:
            log.exception("language preference not saved: database unavailable")
        dispatcher.utter_message(text=response_in(domain, "utter_language_changed", target),
                                 utter_action="utter_language_changed")
        return [SlotSet("profile_language", target), SlotSet("language", target)]
