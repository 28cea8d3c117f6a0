"""The usage and bill answer: a month's use and charges, several months together, what is owed, and how a month
differs from another; always of the verified customer's own account."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Dict, List, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

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
    WHY_QUESTION,
    answered_month,
    last_said,
    month_named,
    responses_before_latest,
)
from actions.services import Services
from carecore.model import Customer, UsageMonth
from carecore.months import (
    after_bill_day,
    month_step,
    months_between,
    months_named,
    parse_month,
    parse_span,
    shift_month,
    year_before,
)
from carecore.phones import readable
from carecore.texts import bullet_lines, change_from_previous, fmt_date, month_label, span_label, yuan


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


ActionUsage = verified_action("action_usage", answer_usage, asked_as="ask_usage")
