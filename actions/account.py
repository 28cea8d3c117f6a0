"""Answers about the verified customer's own account; nothing else is ever looked up.

Every query is keyed by the customer id of the verified identity: a ticket or
circuit id from another customer is "not found", never disclosed.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import circuit_choice
from actions.common import Identity, answer_follow_up, verified_action
from actions.fault_history import last_fault_asked, tell_last_fault, told_before
from actions.message_reading import (
    QUESTION_WORDS,
    TIER_COMPARISON,
    TIER_QUESTION,
    UPGRADE_ASKED,
    last_said,
    month_alone,
    month_named,
    reply_just_before,
    responses_before_latest,
)
from actions.open_tickets import (
    TicketsAsked,
    latest_asked,
    newest_open,
    open_beyond,
    say_down_unreported,
    say_none_open,
    say_resolution_notice,
    say_who_answers,
    tickets_asked,
)
from actions.planned_work import MAINTENANCE_QUESTION, tell_planned_work
from actions.service_terms import tell_report_deadline, tier_comparison, tier_terms
from actions.services import Services
from actions.sla_record import STABILITY_QUESTION, availability, month_record
from actions.ticket_pointing import ticket_just_told_of, ticket_meant
from carecore.deadlines import fault_hours
from carecore.model import month_key
from carecore.months import month_span, parse_month, parse_span
from carecore.phones import readable
from carecore.texts import (
    bill_terms,
    bullet_lines,
    circuit_line,
    customer_classes,
    fmt_time,
    label,
    month_label,
    span_label,
    ticket_deadline,
    yuan,
)

log = logging.getLogger(__name__)

# The words that name each card tier in a question about tiers.
TIER_WORDS = {"diamond": r"钻石|diamond", "gold": r"金卡|gold", "silver": r"银卡|silver", "vip": r"贵宾|\bvip\b"}

Answer = Callable[[Services, Tracker, CollectingDispatcher, Identity, str], Awaitable[List[Dict[str, Any]]]]


async def answer_account_summary(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                                 who: Identity, lang: str) -> List[Dict[str, Any]]:
    """The account at a glance; asked what the card tier gives ("金卡有什么权益"), what it gives instead."""
    customer, contact = who
    manager = await svc.db.managers.acting(customer.account_manager_id)
    asked = last_said(tracker, "ask_account_summary")
    if TIER_QUESTION.search(asked) and UPGRADE_ASKED.search(asked) and \
            "utter_tier_benefits" in responses_before_latest(tracker):  # the terms just told: who decides, alone
        dispatcher.utter_message(response="utter_tier_review_to_manager", manager_name=manager.name if manager else "-")
        return []
    if TIER_QUESTION.search(asked):
        lines = tier_terms(svc.settings, contact.tier, customer.customer_class, manager.name if manager else "-", lang)
        if TIER_COMPARISON.search(asked) or any(re.search(words, asked, re.I) for tier, words in TIER_WORDS.items()
                                                if tier != contact.tier):  # "钻石卡有哪些特权", asked by gold
            lines.append(tier_comparison(svc.settings, customer.customer_class, lang))
        dispatcher.utter_message(response="utter_tier_benefits", tier=label("tier", contact.tier, lang),
                                 lines=bullet_lines(lines), manager_name=manager.name if manager else "-")
        return []
    kinds = sorted({label("circuit_type", c.type, lang) for c in customer.services})
    sep = ", " if lang == "en" else "、"
    dispatcher.utter_message(
        response="utter_account_summary",
        company_name=customer.company_name,
        customer_id=customer.id,
        customer_class=customer_classes(customer.customer_class, customer.high_value, lang),
        tier=label("tier", contact.tier, lang),
        services=sep.join(kinds) or ("none" if lang == "en" else "暂无"),
        manager_name=manager.name if manager else "-",
        billing=bill_terms(customer.billing, lang),
    )
    return []


async def answer_account_manager(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                                 who: Identity, lang: str) -> List[Dict[str, Any]]:
    manager = await svc.db.managers.acting(who[0].account_manager_id)
    if manager is None:
        dispatcher.utter_message(response="utter_escalation_unverified")
        return []
    dispatcher.utter_message(response="utter_account_manager", manager_name=manager.name,
                             manager_mobile=readable(manager.mobile, lang), manager_email=manager.email)
    return []


async def answer_service_status(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                                who: Identity, lang: str) -> List[Dict[str, Any]]:
    """Every circuit's status, or the one circuit the question names ("ZJ-ZX-…", "circuit 2", "155M那条"). A ticket
    pointed at in the reply before ("is the first one fixed" after a list of tickets) gets its own status."""
    customer = who[0]
    followed = await answer_follow_up(svc, tracker, dispatcher, who, lang, besides="ask_service_status")
    if followed is not None:  # "and the internet one?" right after the SLA, or its last fault: asked of that one
        return followed
    wanted = tracker.get_slot("circuit_id")
    if not wanted and ticket_meant(tracker):
        return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
    circuits = customer.services
    if wanted:
        circuit = customer.circuit(wanted)
        if circuit is None:
            dispatcher.utter_message(response="utter_circuit_not_found", circuit_id=wanted)
            return [SlotSet("circuit_id", None)]
        circuits = [circuit]
    else:
        named = circuit_choice.circuit_meant(customer, tracker, "ask_service_status")
        circuits = [named] if named else circuits
    if not circuits:
        dispatcher.utter_message(response="utter_no_circuits")
        return []
    open_faults = {t.circuit_id for t in await svc.db.tickets.for_customer(customer.id, open_only=True)
                   if t.kind == "fault"}
    # Planned maintenance shows from its windows, over the status network management reported.
    windows = await svc.db.maintenance.active_for_circuits([c.circuit_id for c in circuits], svc.clock.now())
    lines = []
    for c in circuits:
        window = windows.get(c.circuit_id)
        status = label("circuit_status", "maintenance" if window else c.status, lang)
        if window is not None:
            end = fmt_time(window.end, lang, svc.clock.tz)
            status += (f" (planned maintenance {window.id} until {end})" if lang == "en"
                       else f"（计划维护{window.id}，预计{end}结束）")
        elif c.status == "maintenance":  # reported by network management, with no window announced: no end known
            status += (" (no announced window, so no end time yet: your account manager can find out)" if lang == "en"
                       else "（无已公告的维护窗口，暂无结束时间，可咨询客户经理）")
        line = f"{circuit_line(c, lang)}{': ' if lang == 'en' else '：'}{status}"
        if c.circuit_id in open_faults:
            line += " (open fault ticket)" if lang == "en" else "（有未结故障单）"
        lines.append(line)
    # The account's count, even when one circuit is asked about: "我们有几条专线" is answered by it.
    dispatcher.utter_message(response="utter_service_status", lines=circuit_choice.numbered(lines, circuits, customer),
                             total=len(customer.services))
    say_down_unreported(dispatcher, circuits, open_faults, lang)
    if MAINTENANCE_QUESTION.search(last_said(tracker, "ask_service_status")):
        under_way = bool(windows) or any(c.status == "maintenance" for c in circuits)
        await tell_planned_work(svc, circuits, dispatcher, lang, under_way=under_way)
    return [SlotSet("circuit_id", None)]


async def answer_sla(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                     who: Identity, lang: str) -> List[Dict[str, Any]]:
    """Each circuit's SLA class with the fault deadlines this contact gets on it and the credit for a late
    restore, then how this month's faults fared: "did you meet our SLA?" is asked as often as the terms. A month or
    months asked of without the terms ("上个月断过几次", "今年报了几次故障", to date), or alone ("上个月呢", following
    the SLA up), get their record alone, as does anything asked right after a record ("那可用率呢": of that month). Right after a reply naming one ticket (a report's, a chase's), "多久能处理"
    asks of that ticket, not the contract; while a report is being made, of the answer it will get. "When was it last
    down?" gets the latest fault."""
    customer, contact = who
    circuit = circuit_choice.circuit_meant(customer, tracker, "ask_sla")  # "what's the SLA on circuit 2"
    asked, now = last_said(tracker, "ask_sla"), svc.clock.now()
    if last_fault_asked(tracker, asked, customer, circuit):  # "when was it last down?": not a month's count
        await tell_last_fault(svc, dispatcher, customer, circuit, lang, besides=told_before(tracker))
        return [SlotSet("month", None)]
    of_the_contract = bool(QUESTION_WORDS["ask_sla"].search(asked))  # "SLA", "服务水平": the terms asked for
    if not of_the_contract and await tell_report_deadline(svc, tracker, dispatcher, who, lang):
        return []
    of_a_record = tracker.get_slot("month") or parse_span(asked, now.date(), to_date=True)
    record_asked = of_a_record or STABILITY_QUESTION.search(asked)  # "专线最近稳定吗": how the lines have run
    if ticket_just_told_of(tracker) and circuit is None and not (of_the_contract or record_asked):
        return await answer_ticket_status(svc, tracker, dispatcher, who, lang)
    circuits = [circuit] if circuit else customer.services
    lines = []
    for c in circuits:
        response_h, restore_h, _ = fault_hours(contact.tier, c.sla_class, svc.settings.fault_sla_hours,
                                               svc.settings.circuit_sla_hours)
        credit = yuan(svc.settings.sla_credit_fen(c.sla_class))
        terms = (f"respond within {response_h:g} h, restore within {restore_h:g} h, {credit} yuan credit if late"
                 if lang == "en" else f"{response_h:g}小时响应、{restore_h:g}小时修复，超时补偿{credit}元")
        lines.append(f"{circuit_line(c, lang)}: {label('sla_class', c.sla_class, lang)}, {terms}" if lang == "en"
                     else f"{circuit_line(c, lang)}：{label('sla_class', c.sla_class, lang)}，{terms}")
    span = None if tracker.get_slot("month") else parse_span(asked, now.date(), to_date=True)
    followed = None if of_a_record or of_the_contract else record_answered(tracker, now.date())  # "那可用率呢"
    month = month_named(tracker, now.date()) or followed or month_key(now)
    first, last = span or (month, month)
    start, end = month_span(first, svc.clock.tz)[0], month_span(last, svc.clock.tz)[1]
    # a fault still down when the months began counts in their availability, not in their record
    tickets = [t async for t in svc.db.tickets.opened_between(start - timedelta(days=31), end, [customer.id])
               if t.kind == "fault" and (circuit is None or t.circuit_id == circuit.circuit_id)]
    shown = span_label(first, last, lang) if span else None if month == month_key(now) else month_label(month, lang)
    record = {"record": month_record([t for t in tickets if t.created_at >= start], now, lang, shown),
              "availability": availability(tickets, circuits, start, min(end, now), lang, asked, shown)}
    # "上个月断过几次", "did we have any downtime in November?", "专线最近稳定吗": the record asked for, the terms not
    if month_alone(asked, now.date()) or (record_asked and not of_the_contract) or followed:
        if circuit is not None:  # "那第二条呢" right after a record: which circuit this one is of
            sep = ": " if lang == "en" else "："
            record["record"] = f"{circuit_choice.numbered_circuit(customer, circuit, lang)}{sep}{record['record']}"
        dispatcher.utter_message(response="utter_sla_record", **record)
    else:
        dispatcher.utter_message(response="utter_sla", lines=circuit_choice.numbered(lines, circuits, customer) or
                                 bullet_lines(["-"]), tier=label("tier", contact.tier, lang), **record)
    return [SlotSet("month", None)]


def record_answered(tracker: Tracker, today: date) -> Optional[str]:
    """The month of the SLA record the reply just before gave ("2026年11月暂无故障报修"), read from its words: "那可用率
    呢" right after asks the same of it, not of this month with the terms again."""
    said = reply_just_before(tracker, "utter_sla_record")
    return parse_month(said, today) if said else None


async def answer_ticket_status(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                               who: Identity, lang: str) -> List[Dict[str, Any]]:
    """The ticket named, else the newest open ones: of the circuit the question names, if it names one. Right after a
    reply naming one ticket (a report's, a chase's), "when will I hear back" is about it, unless a circuit or a kind
    is named; "上次报的故障修好了吗" is about the latest of those asked of, resolved or not."""
    customer = who[0]
    # asked as such, or as whether service is back ("100M那条恢复了吗": ``report_restored``)
    asked = tickets_asked(customer, tracker, "ask_ticket_status", "report_restored")
    said = last_said(tracker, "ask_ticket_status", "report_restored")
    wanted = ticket_meant(tracker) or ("" if asked != TicketsAsked() else ticket_just_told_of(tracker)) or \
        await latest_asked(svc, customer.id, asked, said)
    if not wanted and not QUESTION_WORDS["ask_ticket_status"].search(last_said(tracker, "ask_ticket_status")) and \
            await tell_report_deadline(svc, tracker, dispatcher, who, lang):  # "how long will this take", mid-report
        return []
    tz = svc.clock.tz
    if wanted:
        ticket = await svc.db.tickets.get(wanted, customer_id=customer.id)
        if ticket is None:
            dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=wanted)
            return [SlotSet("ticket_id", None)]
        deadline = ticket_deadline(ticket, lang, tz, svc.clock.now())
        if deadline:
            deadline = f"{deadline[:1].upper()}{deadline[1:]}." if lang == "en" else f"{deadline}。"
        dispatcher.utter_message(response="utter_ticket_status", ticket_id=ticket.id,
                                 kind=label("ticket_kind", ticket.kind, lang),
                                 status=label("ticket_status", ticket.status, lang), deadline=deadline)
        await say_who_answers(svc, tracker, dispatcher, customer, [ticket], lang)
        say_resolution_notice(tracker, dispatcher, [ticket])
        return [SlotSet("ticket_id", None)]
    tickets = await newest_open(svc, customer.id, asked)
    if not tickets:
        await say_none_open(svc, dispatcher, customer.id, asked, lang)
        return []
    lines, now = [], svc.clock.now()
    for t in tickets:
        deadline = ticket_deadline(t, lang, tz, now)
        kind, status = label("ticket_kind", t.kind, lang), label("ticket_status", t.status, lang)
        if lang == "en":
            lines.append(f"{t.id} {kind}: {status}" + (f" ({deadline})" if deadline else ""))
        else:
            lines.append(f"{t.id} {kind}：{status}" + (f"（{deadline}）" if deadline else ""))
    text, more = bullet_lines(lines), await open_beyond(svc, customer.id, tickets, asked)
    if more:
        text += (f"\nAnd {more} more: ask about one by its number." if lang == "en"
                 else f"\n另有{more}张未结工单，可报工单号查询。")
    dispatcher.utter_message(response="utter_open_tickets", lines=text)
    await say_who_answers(svc, tracker, dispatcher, customer, tickets, lang)
    say_resolution_notice(tracker, dispatcher, tickets)
    return []

ActionAccountSummary = verified_action("action_account_summary", answer_account_summary, asked_as="ask_account_summary")
ActionAccountManager = verified_action("action_account_manager", answer_account_manager, asked_as="ask_account_manager")
ActionServiceStatus = verified_action("action_service_status", answer_service_status, asked_as="ask_service_status")
ActionSla = verified_action("action_sla", answer_sla, asked_as="ask_sla")
ActionTicketStatus = verified_action("action_ticket_status", answer_ticket_status, asked_as="ask_ticket_status")
