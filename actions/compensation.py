"""What the verified customer is owed back: "will we be compensated for the outage?" answered from their own
credits and the cases still to be decided, never from the terms alone."""

from __future__ import annotations

import re
from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity, answer_follow_up, verified_action
from actions.message_reading import last_said, responses_before_latest
from actions.services import Services
from carecore.credits import fault_credit_fen, owed_back
from carecore.model import CompensationClaim, Credit, Customer, Ticket
from carecore.texts import bullet_lines, label, month_label, yuan

# "怎么申请", "do we have to claim it": how compensation is had, not what is owed
HOW_TO_CLAIM = re.compile(r"(?:怎么|如何|要|需要|自己)\S{0,2}申请|申请吗|\b(?:apply|claim)\b", re.I)
TOLD_HOW = {"utter_compensation_how", "utter_no_compensation"}
# "什么时候到账", "when will it show": said right after a payment was said to be made, that payment's posting
PAYMENT_POSTED = re.compile(r"到账|入账|多久|几天|显示|\bpost(?:ed)?\b|\bshow (?:up|as paid)\b|how long", re.I)
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
    minutes = svc.settings.bill_claim_credit_minutes
    if "utter_paid_not_posted" in responses_before_latest(tracker) and \
            PAYMENT_POSTED.search(last_said(tracker, "ask_compensation")):
        dispatcher.utter_message(response="utter_paid_not_posted")  # "什么时候到账" of the payment just spoken of
        return []
    followed = await answer_follow_up(svc, tracker, dispatcher, who, lang)  # "补偿怎么算", right after
    if followed is not None:
        return followed
    if HOW_TO_CLAIM.search(last_said(tracker, "ask_compensation")) and TOLD_HOW & set(responses_before_latest(tracker)):
        dispatcher.utter_message(response="utter_compensation_how")  # the list was just given: not again
        return []
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


ActionCompensation = verified_action("action_compensation", answer_compensation, asked_as="ask_compensation")
