"""Answers about the verified customer's own account; nothing else is ever looked up.

Every query is keyed by the customer id of the verified identity: a ticket or
circuit id from another customer is "not found", never disclosed.
"""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions import circuit_choice
from actions.common import Identity, answer_follow_up, verified_action
from actions.message_reading import (
    BILL_DATE_QUESTION,
    BILL_DELIVERY,
    BILL_DISPUTED,
    COMPARE_QUESTION,
    EMAIL_REQUEST,
    HIGHER_QUESTION,
    LOWER_QUESTION,
    OWING_QUESTION,
    QUESTION_WORDS,
    TIER_COMPARISON,
    TIER_QUESTION,
    UPGRADE_ASKED,
    WHY_QUESTION,
    answered_month,
    last_said,
    month_alone,
    month_named,
    reply_just_before,
    responses_before_latest,
)
from actions.open_tickets import (
    TicketsAsked,
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
from actions.sla_record import availability, month_record
from actions.ticket_pointing import ticket_just_told_of, ticket_meant
from carecore.deadlines import fault_hours
from carecore.model import Circuit, Customer, UsageMonth, month_key
from carecore.months import (
    after_bill_day,
    month_span,
    month_step,
    months_between,
    months_named,
    parse_month,
    parse_span,
    shift_month,
    year_before,
)
from carecore.phones import readable
from carecore.texts import (
    bill_terms,
    bullet_lines,
    change_from_previous,
    circuit_line,
    customer_classes,
    fmt_date,
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


async def answer_usage(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                       who: Identity, lang: str) -> List[Dict[str, Any]]:
    """A month not billed yet ("本月账单", or last month before its bill day) is answered with when it will
    be, then the latest bill there is: what the customer asking wants to know. With no month named, a
    question of when ("账单什么时候出") is about the month still to be billed, any other about the last."""
    today, customer = svc.clock.today(), who[0]
    asked = last_said(tracker, "ask_usage")
    manager = await svc.db.managers.acting(customer.account_manager_id) if BILL_DELIVERY.search(asked) and not \
        EMAIL_REQUEST.search(asked) and tracker.active_loop_name is None else None
    if manager is not None:  # "账单也不用发了": the manager changes how bills reach the account; the call offered
        dispatcher.utter_message(response="utter_bill_delivery_to_manager", manager_name=manager.name,
                                 manager_mobile=readable(manager.mobile, lang))
        return []
    followed = await answer_follow_up(svc, tracker, dispatcher, who, lang)  # "那第三条呢", "上个月呢" of the SLA
    if followed is not None:
        return followed
    if OWING_QUESTION.search(asked) and not tracker.get_slot("month") and await _answer_owed(svc, dispatcher, customer,
                                                                                             lang):
        return []
    # a step from the month just answered ("再往前两个月呢") asks for one month, not the last two
    span = None if tracker.get_slot("month") or month_step(asked) else parse_span(asked, today)
    if span is not None:
        return await _answer_span(svc, dispatcher, customer, span, lang)
    when = BILL_DATE_QUESTION.search(asked)
    month = _month_meant(tracker, asked, today, bool(when))
    if when and month == parse_month("本月", today) and not tracker.get_slot("month"):
        # "when is the next bill": last month's, until billing has it (the 7th, bill day 14), then this month's
        last = shift_month(month, -1)
        month = last if await svc.db.usage.get(customer.id, last) is None else month
    against = None
    if COMPARE_QUESTION.search(asked) and not year_before(asked):
        month, against = months_compared(tracker, asked, month, today)
    usage = await svc.db.usage.get(customer.id, month)
    if usage is None:
        issued_on = after_bill_day(month, customer.billing.bill_day, 0)
        if today >= issued_on:
            dispatcher.utter_message(response="utter_usage_missing", month=month_label(month, lang))
            return [SlotSet("month", None)]
        due_on = after_bill_day(month, customer.billing.bill_day, svc.settings.payment_due_days)
        dispatcher.utter_message(response="utter_usage_not_yet", month=month_label(month, lang),
                                 issued_on=fmt_date(issued_on, lang), due_on=fmt_date(due_on, lang))
        latest = await svc.db.usage.history(customer.id, months=1)
        if not latest:
            return [SlotSet("month", None)]
        usage, month = latest[0], latest[0].month
    if year_before(asked):  # "同比": beside the same month a year earlier, whichever month was answered
        against = shift_month(month, -12)
    previous = await svc.db.usage.get(customer.id, shift_month(month, -1))
    dispatcher.utter_message(
        response="utter_usage_report",
        month=month_label(month, lang),
        voice_minutes=f"{usage.voice_minutes:,}",
        data_gb=f"{usage.data_mb / 1024:,.1f}",
        sms_count=f"{usage.sms_count:,}",
        amount=yuan(usage.amount_fen),
        change=change_from_previous(usage.amount_fen, previous.amount_fen if previous else None, lang),
    )
    # "and the data?" right after: whether the bill is paid was said
    told = month == answered_month(tracker, today, just_before=True) and \
        bool({"utter_bill_paid", "utter_bill_due", "utter_bill_overdue"} & set(responses_before_latest(tracker)))
    if usage.owed_fen is not None and not told:  # billing has said what was paid
        state, due_on = _bill_state(svc, customer, month, usage.owed_fen)
        dispatcher.utter_message(response=f"utter_bill_{state}", owed=yuan(usage.owed_fen),
                                 due_on=fmt_date(due_on, lang))
    if against is not None and against != month:
        other = await svc.db.usage.get(customer.id, against)
        if other is None:
            dispatcher.utter_message(response="utter_usage_missing", month=month_label(against, lang))
        else:  # the amount's change from the month before is in the answer already
            adjacent = against == shift_month(month, -1)
            dispatcher.utter_message(response="utter_usage_compared", previous_month=month_label(against, lang),
                                     changes=usage_changes(usage, other, lang, amount=not adjacent))
    elif previous is not None and WHY_QUESTION.search(asked):
        if usage.amount_fen < previous.amount_fen and HIGHER_QUESTION.search(asked) and not LOWER_QUESTION.search(asked):
            dispatcher.utter_message(response="utter_usage_not_higher", month=month_label(month, lang),
                                     previous_month=month_label(previous.month, lang))
        dispatcher.utter_message(response="utter_usage_compared", previous_month=month_label(previous.month, lang),
                                 changes=usage_changes(usage, previous, lang))
    if EMAIL_REQUEST.search(asked):
        dispatcher.utter_message(response="utter_bill_not_emailed")
    if BILL_DISPUTED.search(asked):  # the bill shown, and how to have it checked
        dispatcher.utter_message(response="utter_answer_disputed")
    return [SlotSet("month", None)]


# "那短信呢", "and the data?": right after a month's usage, another measure of that month
MEASURE_FOLLOW_UP = re.compile(r"(?:那|那么)?(?:短信|流量|通话|语音|话费|费用|金额|数据)\S{0,6}?呢?[?？。]?|"
                               r"(?:and|what about|how about) (?:the )?(?:sms|texts?|data|voice|calls?|minutes|"
                               r"amount|charges?)\s*[?？]?", re.I)


def _month_meant(tracker: Tracker, asked: str, today: date, when: bool) -> str:
    """A follow-up to a usage answer is about that answer's month: its neighbour for "the month before?", the month
    itself for "why is it so high", "同比呢" or another measure ("那短信呢"). Otherwise the month named; with none, a
    question of when is about the month still to be billed (``answer_usage`` makes it last month while billing has
    not had it), any other about the last."""
    just = answered_month(tracker, today, just_before=True)
    step = month_step(asked)
    if just and step:
        return shift_month(just, step)
    named = month_named(tracker, today)
    if named:
        return named
    if just and (WHY_QUESTION.search(asked) or year_before(asked) or MEASURE_FOLLOW_UP.fullmatch(asked)):
        return just
    month = parse_month("本月" if when else "上个月", today)
    assert month is not None
    return month


def months_compared(tracker: Tracker, asked: str, month: str, today: date) -> Tuple[str, str]:
    """The later and the earlier of two months to set side by side: the two named ("10月和8月比"), the one named and
    the one answered just before ("compare it with July"), or one of those and the month before it."""
    named = months_named(asked, today)
    answered = answered_month(tracker, today)
    if len(named) < 2:
        base = named[0] if named else (answered or month)
        named = [base, answered if answered and answered != base else shift_month(base, -1)]
    return max(named[:2]), min(named[:2])


async def _answer_span(svc: Services, dispatcher: CollectingDispatcher, customer: Customer, span: Tuple[str, str],
                       lang: str) -> List[Dict[str, Any]]:
    """Several months asked together ("最近三个月", "今年", "last year"): each month billing has sent, and their
    total."""
    first, last = span
    shown = span_label(first, last, lang)
    months = await svc.db.usage.between(customer.id, first, last)
    if not months:
        dispatcher.utter_message(response="utter_usage_span_missing", span=shown)
        return [SlotSet("month", None)]
    en = lang == "en"
    lines = [f"{month_label(u.month, lang)}: {yuan(u.amount_fen)} yuan, {u.voice_minutes:,} min, "
             f"{u.data_mb / 1024:,.1f} GB" if en else
             f"{month_label(u.month, lang)}：{yuan(u.amount_fen)}元，通话{u.voice_minutes:,}分钟，"
             f"流量{u.data_mb / 1024:,.1f}GB" for u in months]
    dispatcher.utter_message(response="utter_usage_span", span=shown, lines="\n".join(lines),
                             total=yuan(sum(u.amount_fen for u in months)), count=len(months),
                             expected=len(months_between(first, last)))
    return [SlotSet("month", None)]


def usage_changes(usage: UsageMonth, previous: UsageMonth, lang: str, amount: bool = False) -> str:
    """Each item of use against an earlier month ("通话+1,200分钟（+60.0%）"): what a customer asking why a bill
    changed can check against their own records; with the amount billed when that month is not the one before,
    whose change the usage answer gives already."""
    en = lang == "en"
    parts = []
    items = [("金额", "amount", "元", " yuan", usage.amount_fen / 100, previous.amount_fen / 100, "{:+,.2f}")] \
        if amount else []
    for name_zh, name_en, unit_zh, unit_en, now, before, fmt in items + [
            ("通话", "voice", "分钟", " min", usage.voice_minutes, previous.voice_minutes, "{:+,.0f}"),
            ("流量", "data", "GB", " GB", usage.data_mb / 1024, previous.data_mb / 1024, "{:+,.1f}"),
            ("短信", "SMS", "条", "", usage.sms_count, previous.sms_count, "{:+,.0f}")]:
        if fmt.format(now - before) in ("+0", "+0.0", "-0.0", "+0.00", "-0.00"):
            parts.append(f"{name_en} unchanged" if en else f"{name_zh}持平")
            continue
        change = fmt.format(now - before) + (unit_en if en else unit_zh)
        pct = f"{(now - before) * 100 / before:+.1f}%" if before else ""
        if en:
            parts.append(f"{name_en} {change}" + (f" ({pct})" if pct else ""))
        else:
            parts.append(f"{name_zh}{change}" + (f"（{pct}）" if pct else ""))
    return (", " if en else "，").join(parts)


def _bill_state(svc: Services, customer: Customer, month: str, owed_fen: int) -> Tuple[str, date]:
    """paid, due or overdue, and the day the bill of ``month`` is to be paid by."""
    due_on = after_bill_day(month, customer.billing.bill_day, svc.settings.payment_due_days)
    return ("paid" if owed_fen == 0 else ("overdue" if svc.clock.today() > due_on else "due")), due_on


async def _answer_owed(svc: Services, dispatcher: CollectingDispatcher, customer: Customer, lang: str) -> bool:
    """"我们欠费了吗", "do we owe anything": every bill not fully paid, not only last month's. False when billing
    has not said what was paid for the latest bill, so that nothing is called paid that is not known to be."""
    latest = await svc.db.usage.history(customer.id, months=1)
    if not latest or latest[0].owed_fen is None:
        return False
    owed = await svc.db.usage.owed(latest[0].month, [customer.id])
    if not owed:
        dispatcher.utter_message(response="utter_bills_all_paid")
        return True
    lines = []
    for _, month, fen in owed:
        state, due_on = _bill_state(svc, customer, month, fen)
        when = fmt_date(due_on, lang)
        if lang == "en":
            lines.append(f"{month_label(month, lang)}: {yuan(fen)} yuan, {'was ' if state == 'overdue' else ''}due by {when}")
        else:
            lines.append(f"{month_label(month, lang)}：{yuan(fen)}元，"
                         + (f"缴费期已于{when}截止" if state == "overdue" else f"请于{when}前缴纳"))
    dispatcher.utter_message(response="utter_bills_owed", lines=bullet_lines(lines),
                             total=yuan(sum(fen for _, _, fen in owed)))
    return True


async def answer_service_status(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                                who: Identity, lang: str) -> List[Dict[str, Any]]:
    """Every circuit's status, or the one circuit the question names ("ZJ-ZX-…", "circuit 2", "155M那条"). A ticket
    pointed at in the reply before ("is the first one fixed" after a list of tickets) gets its own status."""
    customer = who[0]
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
    dispatcher.utter_message(response="utter_service_status", lines=numbered(lines, circuits, customer),
                             total=len(customer.services))
    say_down_unreported(dispatcher, circuits, open_faults, lang)
    if MAINTENANCE_QUESTION.search(last_said(tracker, "ask_service_status")):
        under_way = bool(windows) or any(c.status == "maintenance" for c in circuits)
        await tell_planned_work(svc, circuits, dispatcher, lang, under_way=under_way)
    return [SlotSet("circuit_id", None)]


async def answer_sla(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                     who: Identity, lang: str) -> List[Dict[str, Any]]:
    """Each circuit's SLA class with the fault deadlines this contact gets on it and the credit for a late
    restore, then how this month's faults fared, or the month named ("上个月断过几次") or the months ("今年报了几次
    故障", to date): "did you meet our SLA?" is asked as often as the terms. A month alone ("上个月呢", following the
    SLA up) gets its record alone, as does a record asked of right after the terms, or anything asked right after a
    record ("那可用率呢": of that month). Right after a reply naming one ticket (a report's, a chase's), "多久能处理"
    asks of that ticket, not the contract; while a report is being made, of the answer it will get."""
    customer, contact = who
    circuit = circuit_choice.circuit_meant(customer, tracker, "ask_sla")  # "what's the SLA on circuit 2"
    asked, now = last_said(tracker, "ask_sla"), svc.clock.now()
    of_the_contract = bool(QUESTION_WORDS["ask_sla"].search(asked))  # "SLA", "服务水平": the terms asked for
    if not of_the_contract and await tell_report_deadline(svc, tracker, dispatcher, who, lang):
        return []
    of_a_record = tracker.get_slot("month") or parse_span(asked, now.date(), to_date=True)
    if ticket_just_told_of(tracker) and circuit is None and not (of_the_contract or of_a_record):
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
    terms_just_told = "utter_sla" in responses_before_latest(tracker) and circuit is None and not of_the_contract
    if month_alone(asked, now.date()) or (of_a_record and terms_just_told) or followed:  # "上个月的可用率达标了吗"
        if circuit is not None:  # "那第二条呢" right after a record: which circuit this one is of
            sep = ": " if lang == "en" else "："
            record["record"] = f"{numbered([circuit_line(circuit, lang)], [circuit], customer)}{sep}{record['record']}"
        dispatcher.utter_message(response="utter_sla_record", **record)
    else:
        dispatcher.utter_message(response="utter_sla", lines=numbered(lines, circuits, customer) or
                                 bullet_lines(["-"]), tier=label("tier", contact.tier, lang), **record)
    return [SlotSet("month", None)]


def record_answered(tracker: Tracker, today: date) -> Optional[str]:
    """The month of the SLA record the reply just before gave ("2026年11月暂无故障报修"), read from its words: "那可用率
    呢" right after asks the same of it, not of this month with the terms again."""
    said = reply_just_before(tracker, "utter_sla_record")
    return parse_month(said, today) if said else None


def numbered(lines: List[str], circuits: List[Circuit], customer: Customer) -> str:
    """A line per circuit, numbered as the circuit is in the customer's list, so that one answered alone keeps the
    number the customer may name it by ("circuit 3")."""
    return "\n".join(f"{customer.services.index(c) + 1}. {line}" for c, line in zip(circuits, lines, strict=True))


async def answer_ticket_status(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                               who: Identity, lang: str) -> List[Dict[str, Any]]:
    """The ticket named, else the newest open ones: of the circuit the question names, if it names one. Right after a
    reply naming one ticket (a report's, a chase's), "when will I hear back" is about it, unless a circuit or a kind
    is named."""
    customer = who[0]
    # asked as such, or as whether service is back ("100M那条恢复了吗": ``report_restored``)
    asked = tickets_asked(customer, tracker, "ask_ticket_status", "report_restored")
    wanted = ticket_meant(tracker) or ("" if asked != TicketsAsked() else ticket_just_told_of(tracker))
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
ActionUsage = verified_action("action_usage", answer_usage, asked_as="ask_usage")
ActionServiceStatus = verified_action("action_service_status", answer_service_status, asked_as="ask_service_status")
ActionSla = verified_action("action_sla", answer_sla, asked_as="ask_sla")
ActionTicketStatus = verified_action("action_ticket_status", answer_ticket_status, asked_as="ask_ticket_status")
