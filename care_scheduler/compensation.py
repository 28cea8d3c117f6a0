"""Compensation notices for bill-not-received claims and SLA breaches: credit first, then the notice.

``settle`` writes the decision and the credit in one transaction keyed by the claim or ticket, so a
credit exists once; a crash before the notice leaves a decided case the next run only notifies.
Service notices: no send window, no consent check.
"""

from __future__ import annotations

import logging
from datetime import datetime, time
from typing import AsyncIterator, Optional, Tuple
from zoneinfo import ZoneInfo

from care_scheduler.planning import PlanContext, Planned, render_into, when_final
from carecore.clock import utcnow
from carecore.credits import fault_credit_fen
from carecore.model import (
    BillDeliveryRecord,
    ClaimStatus,
    CompensationClaim,
    Credit,
    CreditReason,
    Customer,
    Settlement,
    Ticket,
    month_key,
)
from carecore.months import after_bill_day, shift_month
from carecore.texts import fmt_duration, fmt_time, month_label, yuan

log = logging.getLogger(__name__)

KIND = "compensation"


def bill_due_by(ctx: PlanContext, customer: Customer, month: str) -> datetime:
    """End of the stated time for ``month``'s bill: the bill day of the next month plus the stated days."""
    due = after_bill_day(month, customer.billing.bill_day, ctx.settings.bill_delivery_days)
    return datetime.combine(due, time(23, 59, 59), tzinfo=ZoneInfo(ctx.settings.timezone))


def bill_claim_outcome(delivery: Optional[BillDeliveryRecord], due_by: datetime,
                       now: datetime) -> Optional[Tuple[ClaimStatus, str]]:
    """The verification: (decision, detail), or None while the stated time has not run out.

    A bill delivered within the stated time rejects the claim; one delivered late,
    or with no delivery on record once the time is up, verifies it: the operator
    cannot show the customer had it.
    """
    if delivery is not None:
        due_by = delivery.due_by
        if delivery.delivered_at is not None:
            if delivery.delivered_at <= due_by:
                return ClaimStatus.rejected, f"delivered {delivery.delivered_at.isoformat()}"
            return ClaimStatus.verified, f"delivered late {delivery.delivered_at.isoformat()}"
    if now <= due_by:
        return None
    return ClaimStatus.verified, "no delivery recorded" if delivery is None else "not delivered"


async def _plan_claim(ctx: PlanContext, claim: CompensationClaim) -> Optional[Planned]:
    found = await ctx.case_contact(f"claim {claim.id}", claim.customer_id, claim.contact_id)
    if found is None:
        return None
    customer, contact = found
    key = f"comp:{claim.id}"
    settlement = claim.settlement
    status = ClaimStatus(claim.status)
    credit: Optional[Credit] = None
    delivery = await ctx.db.bill_deliveries.get(customer.id, claim.month)  # decides, and dates a rejection
    if settlement is None:
        outcome = bill_claim_outcome(delivery, bill_due_by(ctx, customer, claim.month), ctx.now)
        if outcome is None:
            log.info("claim %s waits: the stated delivery time of %s has not run out", claim.id, claim.month)
            return None
        status, detail = outcome
        amount = ctx.settings.bill_claim_credit_fen if status == ClaimStatus.verified else 0
        settlement = Settlement(decided_at=ctx.now, credit_fen=amount, detail=detail, notice_key=key,
                                credit_id=claim.id if amount else None)
        if amount:
            credit = Credit(_id=claim.id, customer_id=customer.id, reason=CreditReason.bill_not_received,
                            amount_fen=amount, minutes=ctx.settings.bill_claim_credit_minutes,
                            apply_to_month=shift_month(month_key(ctx.now), 1), created_at=utcnow(),
                            note=f"bill {claim.month} {detail}"[:200])
    lang = contact.language
    plan = Planned.to_contact(key, KIND, customer, contact)
    values = {"contact_name": contact.name, "company_name": customer.company_name,
              "month_label": month_label(claim.month, lang)}
    if status == ClaimStatus.verified:
        render_into(plan, ctx, "comp_bill", {**values, "credit": yuan(settlement.credit_fen),
                                             "minutes": ctx.settings.bill_claim_credit_minutes})
    else:
        delivered = delivery.delivered_at if delivery and delivery.delivered_at else settlement.decided_at
        render_into(plan, ctx, "comp_bill_rejected", {
            **values, **ctx.manager_values(customer, contact.language),
            "delivered_on": fmt_time(delivered, lang, ZoneInfo(ctx.settings.timezone))})
    plan.notes.append(f"claim {claim.id}: {status.value} ({settlement.detail})")
    if claim.settlement is None:
        decision, decided_credit = settlement, credit

        async def settle() -> None:
            if not await ctx.db.claims.decide(claim.id, status, decision, decided_credit):
                current = await ctx.db.claims.get(claim.id)
                if current is None or current.status != status:  # decided differently meanwhile
                    raise RuntimeError(f"claim {claim.id} was decided elsewhere; notice left to the next run")
        plan.settle = settle
    plan.after = when_final(lambda at, notice: ctx.db.claims.mark_notified(claim.id, at, notice))
    return plan


async def _plan_breach(ctx: PlanContext, ticket: Ticket) -> Optional[Planned]:
    assert ticket.sla is not None and ticket.sla.restored_at is not None  # selected that way
    found = await ctx.case_contact(f"ticket {ticket.id}", ticket.customer_id, ticket.contact_id)
    if found is None:
        return None
    customer, contact = found
    key = f"comp:{ticket.id}"
    sla_class = customer.credit_class(ticket.circuit_id)
    overdue = ticket.sla.restored_at - ticket.sla.restore_due
    settlement = ticket.compensation
    credit: Optional[Credit] = None
    if settlement is None:
        amount = fault_credit_fen(ctx.settings, customer, ticket.circuit_id)
        settlement = Settlement(decided_at=ctx.now, credit_fen=amount, credit_id=ticket.id, notice_key=key,
                                detail=f"{sla_class}, restored {int(overdue.total_seconds() // 60)} min late")
        credit = Credit(_id=ticket.id, customer_id=customer.id, reason=CreditReason.sla_breach, amount_fen=amount,
                        apply_to_month=shift_month(month_key(ctx.now), 1), created_at=utcnow(),
                        note=settlement.detail)
    lang = contact.language
    plan = Planned.to_contact(key, KIND, customer, contact)
    render_into(plan, ctx, "comp_sla", {
        "contact_name": contact.name, "company_name": customer.company_name, "ticket_id": ticket.id,
        "circuit_id": ticket.circuit_id, "overdue": fmt_duration(overdue, lang), "credit": yuan(settlement.credit_fen)})
    plan.notes.append(f"ticket {ticket.id}: SLA {sla_class}, {settlement.detail}")
    if customer.circuit(ticket.circuit_id) is None:
        plan.notes.append(f"circuit {ticket.circuit_id} not on the account: basic SLA credit assumed")
    if ticket.compensation is None:
        decision, decided_credit = settlement, credit

        async def settle() -> None:
            if not await ctx.db.tickets.settle_compensation(ticket.id, decision, decided_credit):
                log.info("ticket %s was settled by another run; its notice goes under the same key", ticket.id)
        plan.settle = settle
    plan.after = when_final(lambda at, notice: ctx.db.tickets.mark_compensation_notified(ticket.id, at, notice))
    return plan


async def plan_compensation(ctx: PlanContext) -> AsyncIterator[Planned]:
    """Every open case at ``ctx.now``: claims to verify or notify, breached faults to credit or notify."""
    async for claim in ctx.db.claims.unsettled():
        plan = await _plan_claim(ctx, claim)
        if plan is not None:
            yield plan
    async for ticket in ctx.db.tickets.breached_unsettled():
        plan = await _plan_breach(ctx, ticket)
        if plan is not None:
            yield plan
