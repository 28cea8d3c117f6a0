"""What the contact's tier and circuits promise them, from the same settings the deadlines are counted with, so
the promise is the rule: a tier's terms, every tier's beside it, and by when a report being made would be
answered."""

from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import Identity
from actions.services import Services
from carecore.config import Settings
from carecore.deadlines import complaint_deadline, complaint_hours, fault_deadlines
from carecore.model import TOP_TIERS, Tier
from carecore.texts import due_by, fmt_time, label
from carecore.ticket_opening import fault_reported_on


def tier_terms(settings: Settings, tier: str, customer_class: Optional[str], manager_name: str,
               lang: str) -> List[str]:
    """What a card tier gives, from the same settings the deadlines are counted with, so the promise is the rule."""
    response_h, restore_h = settings.fault_sla_hours[tier]
    complaint_h = complaint_hours(tier, customer_class, settings.complaint_reply_hours)
    top = tier in TOP_TIERS
    if lang == "en":
        return [f"faults: a response within {response_h:g} h and the service restored within {restore_h:g} h "
                "(a circuit whose SLA contract is faster gets the contract's)",
                f"complaints: an answer within {complaint_h:g} h",
                *(["the green channel: your fault reports go first and your account manager hears of them at once"]
                  if top else []),
                f"one-to-one service from your dedicated account manager, {manager_name}",
                "birthday and holiday wishes" + (" from your account manager in person" if top else " by SMS")]
    return [f"故障报修：{response_h:g}小时响应、{restore_h:g}小时修复（电路的SLA合同更快时按合同）",
            f"投诉：{complaint_h:g}小时内答复",
            *(["绿色通道：故障优先处理，报修即通知客户经理"] if top else []),
            f"专属客户经理{manager_name}一对一服务",
            "生日、节日问候" + ("由客户经理亲自送上" if top else "短信")]


def tier_comparison(settings: Settings, customer_class: Optional[str], lang: str) -> str:
    """Every tier's fault and complaint hours on one line, highest tier first."""
    parts = []
    for tier in (t.value for t in Tier):
        response_h, restore_h = settings.fault_sla_hours[tier]
        complaint_h = complaint_hours(tier, customer_class, settings.complaint_reply_hours)
        parts.append(f"{label('tier', tier, lang)} {response_h:g}/{restore_h:g} h, complaints {complaint_h:g} h"
                     if lang == "en" else
                     f"{label('tier', tier, lang)}故障{response_h:g}/{restore_h:g}小时、投诉{complaint_h:g}小时")
    return ("each tier (fault response/restore): " + "; ".join(parts)) if lang == "en" \
        else "各等级（故障响应/修复）：" + "；".join(parts)


async def tell_report_deadline(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, who: Identity,
                               lang: str) -> bool:
    """"多久能处理" while a report is being made asks by when it would be answered, submitted now (the form then goes
    on): a complaint's reply deadline; a fault's response and restore deadlines on the circuit chosen, or, when the
    report would go on a ticket open or fixed within the day on it, that ticket's restore deadline, which stands.
    Whether it was told: not outside a report, nor before the circuit is chosen."""
    customer, contact = who
    now, tz = svc.clock.now(), svc.clock.tz
    if tracker.active_loop_name == "complaint_form":
        due = complaint_deadline(contact.tier, customer.customer_class, now, svc.settings.complaint_reply_hours)
        dispatcher.utter_message(response="utter_complaint_answered_by", deadline=fmt_time(due, lang, tz),
                                 tier=label("tier", contact.tier, lang))
        return True
    circuit = customer.circuit(str(tracker.get_slot("fault_circuit") or "")) \
        if tracker.active_loop_name == "fault_form" else None
    if circuit is None:
        return False
    on = await fault_reported_on(svc.db, svc.clock, customer.id, circuit.circuit_id)
    if on is not None and on.sla is not None and on.sla.restore_due is not None:
        dispatcher.utter_message(response="utter_fault_goes_on_ticket", ticket_id=on.id,
                                 restore_due=due_by(on.sla.restore_due, now, lang, tz))
        return True
    due = fault_deadlines(contact.tier, circuit.sla_class, now, svc.settings.fault_sla_hours,
                          svc.settings.circuit_sla_hours)
    dispatcher.utter_message(response="utter_fault_answered_by", circuit_id=circuit.circuit_id,
                             response_due=fmt_time(due.response_due, lang, tz),
                             restore_due=fmt_time(due.restore_due, lang, tz))
    return True
