"""What the verified customer is owed back: "will we be compensated for the outage?" answered from their own
credits and the cases still to be decided, never from the terms alone."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity, answer_follow_up, verified_action
from actions.message_reading import last_said, responses_before_latest
from actions.services import Services
from actions.ticket_pointing import ticket_just_told_of, ticket_meant
from carecore.credits import fault_credit_fen, owed_back
from carecore.model import OPEN_TICKET_STATUSES, CompensationClaim, Credit, Customer, Ticket, TicketKind
from carecore.texts import bullet_lines, fmt_time, label, month_label, yuan

# "怎么申请", "do we have to claim it": how compensation is had, not what is owed
HOW_TO_CLAIM = re.compile(r"(?:怎么|如何|要|需要|自己)\S{0,2}申请|申请吗|\b(?:apply|claim)\b", re.I)
TOLD_HOW = {"utter_compensation_how", "utter_no_compensation"}
# "什么时候到账", "when will it show": said right after a payment was said to be made, that payment's posting
PAYMENT_POSTED = re.compile(r"到账|入账|多久|几天|显示|\bpost(?:ed)?\b|\bshow (?:up|as paid)\b|how long", re.I)
# "我们总共有多少补偿", "all our credits so far": the account's, even right after a reply naming one ticket
ALL_ASKED = re.compile(r"总共|一共|所有|全部|哪些|今年|\ball\b|\btotal\b|so far|this year", re.I)
LISTED = 5  # the credits on the latest bills, and the faults longest past their deadline, an answer lists; the rest
# are counted


def credit_line(credit: Credit, lang: str, minutes: int) -> str:
    bill, amount = month_label(credit.apply_to_month, lang), yuan(credit.amount_fen)
    why = label("credit_reason", str(credit.reason), lang)
    call_fee = credit.reason == "bill_not_received"
    minutes = credit.minutes or minutes
    if lang == "en":
        fee = f"{minutes} minutes of basic call fee, " if call_fee else ""
        return f"{credit.id} {why}: {fee}{amount} yuan credit on the {bill} bill"
    fee = f"{minutes}分钟基本通话费" if call_fee else ""
    return f"{credit.id} {why}：补偿{fee}{amount}元，在{bill}账单中抵扣"


def undecided_fault_line(ticket: Ticket, customer: Customer, svc: Services, lang: str) -> str:
    """A fault past its restore deadline: the credit it earns, being settled once it was restored, or due once it is;
    either way taken off a bill to come, which is what "什么时候到账" asks."""
    amount = yuan(fault_credit_fen(svc.settings, customer, ticket.circuit_id))
    restored = ticket.sla is not None and ticket.sla.restored_at is not None
    if lang == "en":
        return (f"{ticket.id} on {ticket.circuit_id} restored late: {amount} yuan credit being settled, for a "
                f"coming bill" if restored else f"{ticket.id} on {ticket.circuit_id} is past its restore deadline: "
                f"{amount} yuan credit on a coming bill once restored")
    return (f"{ticket.id}（电路{ticket.circuit_id}）修复超时：补偿{amount}元正在办理，将在之后的账单中抵扣" if restored
            else f"{ticket.id}（电路{ticket.circuit_id}）已超过修复时限：修复后补偿{amount}元，在之后的账单中抵扣")


def claim_line(claim: CompensationClaim, lang: str) -> str:
    month = month_label(claim.month, lang)
    return (f"{claim.id} {month} bill not received: being checked against its delivery record" if lang == "en"
            else f"{claim.id} {month}账单未收到：正在核实送达记录")


async def answer_compensation(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                              who: Identity, lang: str) -> List[Dict[str, Any]]:
    customer = who[0]
    minutes, asked = svc.settings.bill_claim_credit_minutes, last_said(tracker, "ask_compensation")
    if "utter_paid_not_posted" in responses_before_latest(tracker) and PAYMENT_POSTED.search(asked):
        dispatcher.utter_message(response="utter_paid_not_posted")  # "什么时候到账" of the payment just spoken of
        return []
    followed = await answer_follow_up(svc, tracker, dispatcher, who, lang)  # "补偿怎么算", right after
    if followed is not None:
        return followed
    if HOW_TO_CLAIM.search(asked) and TOLD_HOW & set(responses_before_latest(tracker)):
        dispatcher.utter_message(response="utter_compensation_how")  # the list was just given: not again
        return []
    wanted = ticket_meant(tracker) or ("" if ALL_ASKED.search(asked) else ticket_just_told_of(tracker))
    if wanted:  # "FT-…有补偿吗", "will we get compensated for it?" right after its report or its last fault
        await tell_ticket_credit(svc, dispatcher, customer, wanted, lang)
        return [SlotSet("ticket_id", None)]  # answered: the next question names its own
    owed = await owed_back(svc.db, customer.id, svc.clock.now(), credits_listed=LISTED)
    if not owed:
        dispatcher.utter_message(response="utter_no_compensation", minutes=minutes,
                                 credit=yuan(svc.settings.bill_claim_credit_fen))
        return []
    lines = ([credit_line(c, lang, minutes) for c in owed.credits] + [claim_line(c, lang) for c in owed.claims]
             + [undecided_fault_line(t, customer, svc, lang) for t in owed.late_faults[:LISTED]])
    text = bullet_lines(lines)
    if owed.earlier_credits:
        earlier = owed.earlier_credits
        text += (f"\nAnd {earlier} earlier credit{'s' if earlier > 1 else ''}." if lang == "en"
                 else f"\n另有{earlier}笔更早的补偿。")
    if len(owed.late_faults) > LISTED:
        more = len(owed.late_faults) - LISTED
        text += (f"\nAnd {more} more fault{'s' if more > 1 else ''} past the restore deadline." if lang == "en"
                 else f"\n另有{more}张故障单已超过修复时限。")
    dispatcher.utter_message(response="utter_compensation", lines=text)
    dispatcher.utter_message(response="utter_compensation_how")
    return []


async def tell_ticket_credit(svc: Services, dispatcher: CollectingDispatcher, customer: Customer, ticket_id: str,
                             lang: str) -> None:
    """What one ticket earns back: a credit on a bill, one being settled, one due if the restore comes after a
    deadline still ahead, or none, and why. The account's list would not say whether this outage counts."""
    ticket = await svc.db.tickets.get(ticket_id, customer_id=customer.id)
    if ticket is None:
        dispatcher.utter_message(response="utter_ticket_not_found", ticket_id=ticket_id)
        return
    en, now = lang == "en", svc.clock.now()
    sla = ticket.sla
    if ticket.kind != TicketKind.fault or sla is None or sla.restore_due is None:
        line = (f"{ticket.id} has no restore deadline, so no SLA credit applies: those are for faults restored late."
                if en else f"{ticket.id}没有修复时限，不涉及SLA补偿：补偿针对修复超时的故障。")
    elif ticket.maintenance_id:
        line = (f"{ticket.id} was raised during planned maintenance {ticket.maintenance_id}, which earns no credit."
                if en else f"{ticket.id}发生在计划维护{ticket.maintenance_id}期间，不予补偿。")
    elif ticket.compensation is not None:  # settled: the credit on its bill, if any
        credit = await svc.db.credits.get(ticket.id) if ticket.compensation.credit_fen else None
        if credit is None:
            line = f"{ticket.id} was reviewed: no credit is due." if en else f"{ticket.id}已核定，不涉及补偿。"
        else:
            paid, bill = yuan(credit.amount_fen), month_label(credit.apply_to_month, lang)
            line = (f"{ticket.id} was restored late: {paid} yuan is credited on the {bill} bill." if en
                    else f"{ticket.id}修复超时，已补偿{paid}元，在{bill}账单中抵扣。")
    elif (sla.restored_at is not None and sla.restored_at > sla.restore_due) or \
            (sla.restored_at is None and ticket.status in OPEN_TICKET_STATUSES and sla.restore_due < now):
        line = undecided_fault_line(ticket, customer, svc, lang) + ("." if en else "。")
    elif sla.restored_at is not None:
        line = (f"{ticket.id} was restored within its deadline, so no credit is due." if en
                else f"{ticket.id}在修复时限内恢复，不涉及补偿。")
    elif ticket.status in OPEN_TICKET_STATUSES:
        amount = yuan(fault_credit_fen(svc.settings, customer, ticket.circuit_id or ""))
        due = fmt_time(sla.restore_due, lang, svc.clock.tz)
        line = (f"{ticket.id} is still within its restore deadline ({due}). If it is restored later, {amount} yuan is "
                f"credited automatically, with no application needed." if en else
                f"{ticket.id}尚在修复时限内（{due}）。如超时修复，将自动补偿{amount}元，无需申请。")
    else:  # closed with no restore: ``Ticket.withdrawn``
        line = (f"{ticket.id} was closed with no restore recorded, so no credit is due." if en
                else f"{ticket.id}已关闭，无修复记录，不涉及补偿。")
    dispatcher.utter_message(response="utter_ticket_credit", line=line)


ActionCompensation = verified_action("action_compensation", answer_compensation, asked_as="ask_compensation")
