"""What the verified customer is owed back: "will we be compensated for the outage?" answered from their own
credits and the cases still to be decided, never from the terms alone."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity, verified_action
from actions.services import Services
from carecore.model import CompensationClaim, Credit, Customer, Ticket
from carecore.texts import bullet_lines, month_label, yuan

LISTED = 5  # the credits on the latest bills, and the faults longest past their deadline, an answer lists; the rest
# are counted


def credit_line(credit: Credit, lang: str, minutes: int) -> str:
    bill = month_label(credit.apply_to_month, lang)
    amount = yuan(credit.amount_fen)
    if credit.reason == "sla_breach":
        return (f"{credit.id} fault restored late: {amount} yuan credit on the {bill} bill" if lang == "en"
                else f"{credit.id} 故障修复超时：补偿{amount}元，在{bill}账单中抵扣")
    minutes = credit.minutes or minutes
    return (f"{credit.id} bill not received in time: {minutes} minutes of basic call fee, {amount} yuan credit "
            f"on the {bill} bill" if lang == "en"
            else f"{credit.id} 账单未按时送达：补偿{minutes}分钟基本通话费{amount}元，在{bill}账单中抵扣")


def undecided_fault_line(ticket: Ticket, customer: Customer, svc: Services, lang: str) -> str:
    """A fault past its restore deadline: the credit its circuit's SLA class gives, being settled once it was
    restored, or due once it is."""
    amount = yuan(svc.settings.sla_credit_fen(customer.credit_class(ticket.circuit_id)))
    restored = ticket.sla is not None and ticket.sla.restored_at is not None
    if lang == "en":
        return (f"{ticket.id} on {ticket.circuit_id} restored late: {amount} yuan credit being settled" if restored
                else f"{ticket.id} on {ticket.circuit_id} is past its restore deadline: {amount} yuan credit "
                     f"once restored")
    return (f"{ticket.id}（电路{ticket.circuit_id}）修复超时：补偿{amount}元正在办理" if restored
            else f"{ticket.id}（电路{ticket.circuit_id}）已超过修复时限：修复后补偿{amount}元")


def claim_line(claim: CompensationClaim, lang: str) -> str:
    month = month_label(claim.month, lang)
    return (f"{claim.id} {month} bill not received: being checked against its delivery record" if lang == "en"
            else f"{claim.id} {month}账单未收到：正在核实送达记录")


async def answer_compensation(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher,
                              who: Identity, lang: str) -> List[Dict[str, Any]]:
    customer = who[0]
    minutes = svc.settings.bill_claim_credit_minutes
    credits = await svc.db.credits.for_customer(customer.id, limit=LISTED)
    faults = await svc.db.tickets.credit_undecided(customer.id, svc.clock.now())
    claims = await svc.db.claims.pending_for_customers([customer.id])
    if not (credits or faults or claims):
        dispatcher.utter_message(response="utter_no_compensation", minutes=minutes)
        return []
    lines = ([credit_line(c, lang, minutes) for c in credits] + [claim_line(c, lang) for c in claims]
             + [undecided_fault_line(t, customer, svc, lang) for t in faults[:LISTED]])
    text = bullet_lines(lines)
    earlier = await svc.db.credits.count_for_customer(customer.id) - len(credits) if len(credits) == LISTED else 0
    if earlier:
        text += f"\nAnd {earlier} earlier credits." if lang == "en" else f"\n另有{earlier}笔更早的补偿。"
    if len(faults) > LISTED:
        more = len(faults) - LISTED
        text += (f"\nAnd {more} more faults past their restore deadline." if lang == "en"
                 else f"\n另有{more}张故障单已超过修复时限。")
    dispatcher.utter_message(response="utter_compensation", lines=text)
    return []


ActionCompensation = verified_action("action_compensation", answer_compensation)
