"""When a circuit was last down: the latest fault reported on it, or on any of the account's circuits, with how long
it lasted and how it fared against its deadlines. Customers ask it right after the status ("when was it last down?")
and before a renewal; the month's record (``actions/sla_record.py``) counts faults but names none."""

from __future__ import annotations

import re
from datetime import datetime
from typing import List, Optional
from zoneinfo import ZoneInfo

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.circuit_choice import circuit_alone, numbered_circuit
from actions.message_reading import responses_before_latest
from actions.services import Services
from actions.ticket_pointing import ticket_just_told_of
from carecore.availability import outage
from carecore.model import Circuit, Customer, Ticket, TicketKind, TicketStatus
from carecore.texts import fmt_duration, fmt_time, ticket_deadline, yuan

# The latest one asked of: of faults here, "上次断网是什么时候", "最近一次故障", "when was it last down?", "how long
# was the last outage", "断了多久"; of tickets in a status question, "上次的投诉处理好了没" (``open_tickets``).
LATEST_ASKED = re.compile(r"上一?次|最近一次|最后一次|\blast (?:time|outage|fault|incident|failure|went down)|"
                          r"\b(?:latest|most recent|previous) (?:outage|fault|incident|failure)|"
                          r"\bwhen (?:was|did) .{0,40}\blast\b|(?:断|中断|停)了(?:多久|多长时间)|"
                          r"\bhow long (?:was|were) (?:it|we|they|the \w+(?: line| one)?) (?:down|out)\b", re.I)

# The replies that tell it: "and the internet one?" right after asks the same of that circuit.
LAST_FAULT_REPLIES = ("utter_last_fault_restored", "utter_last_fault_open", "utter_no_fault_reported")

# A withdrawn report ("误报", ``Ticket.withdrawn``) is no time down. Newest first, a few suffice.
LOOKED_AT = 5


def _just_told(tracker: Tracker) -> bool:
    """Whether the replies just before the latest message told the latest fault."""
    return bool(set(LAST_FAULT_REPLIES) & set(responses_before_latest(tracker)))


def last_fault_asked(tracker: Tracker, asked: str, customer: Customer, circuit: Optional[Circuit]) -> bool:
    """Asked in words ("上次断网是什么时候"), or of another circuit named alone right after it was told."""
    return bool(LATEST_ASKED.search(asked)) or circuit is not None and circuit_alone(asked, customer.services) and \
        _just_told(tracker)


def told_before(tracker: Tracker) -> str:
    """The ticket the replies just before named alone (a report's, a chase's), which "when was it last down?" right
    after does not mean; "" right after the latest fault was told, which "how long was it down?" asks of."""
    return "" if _just_told(tracker) else ticket_just_told_of(tracker)


async def tell_last_fault(svc: Services, dispatcher: CollectingDispatcher, customer: Customer,
                          circuit: Optional[Circuit], lang: str, besides: str = "") -> None:
    """The latest fault reported on ``circuit``, or on any of the customer's circuits when None; or that none was.
    The ticket ``besides``, the one just told of ("when was it last down before this?"), is not it."""
    faults = await svc.db.tickets.for_customer(customer.id, limit=LOOKED_AT + 1, kinds=[TicketKind.fault.value],
                                               circuit_id=circuit.circuit_id if circuit else None)
    fault = next((t for t in faults if not t.withdrawn and t.id != besides), None)
    if fault is None:
        shown = numbered_circuit(customer, circuit, lang) if circuit else \
            ("any of your circuits" if lang == "en" else "各条电路")
        skipped = besides if any(t.id == besides for t in faults) else ""
        dispatcher.utter_message(response="utter_no_fault_reported", circuit=shown, besides=(
            f" besides {skipped}" if lang == "en" else f"除{skipped}外") if skipped else "")
        return
    on = customer.circuit(fault.circuit_id or "")
    now, tz = svc.clock.now(), svc.clock.tz
    shown = numbered_circuit(customer, on, lang) if on else str(fault.circuit_id)
    reported = _when(fault.created_at, now, lang, tz)
    if fault.status in (TicketStatus.resolved, TicketStatus.closed):
        began, ended = outage(fault, now)
        dispatcher.utter_message(response="utter_last_fault_restored", circuit=shown, ticket_id=fault.id,
                                 reported=reported, restored=_when(ended, now, lang, tz),
                                 down=fmt_duration(ended - began, lang), outcome=_outcome(fault, now, lang))
        return
    deadline = ticket_deadline(fault, lang, tz, now)
    dispatcher.utter_message(response="utter_last_fault_open", circuit=shown, ticket_id=fault.id, reported=reported,
                             deadline=(f" ({deadline})" if lang == "en" else f"（{deadline}）") if deadline else "")


def _when(at: datetime, now: datetime, lang: str, tz: ZoneInfo) -> str:
    """"11月20日14:05", with the year when it is not this one: a fault of last year read as this year's misleads."""
    local = at.astimezone(tz)
    if local.year == now.astimezone(tz).year:
        return fmt_time(at, lang, tz)
    return local.strftime("%d %b %Y %H:%M") if lang == "en" else f"{local.year}年{fmt_time(at, lang, tz)}"


def _outcome(fault: Ticket, now: datetime, lang: str) -> str:
    """How the restore fared: within its deadline, late (with the credit settled, if any), or in a planned
    maintenance window, which has no deadline to meet."""
    en = lang == "en"
    if fault.maintenance_id:
        return f"during planned maintenance {fault.maintenance_id}" if en else f"发生在计划维护{fault.maintenance_id}期间"
    if fault.sla is None:
        return "no deadline applied" if en else "无修复时限"
    if fault.sla.outcome(now) != "missed":
        return "within its deadlines" if en else "在时限内修复"
    parts: List[str] = ["after its deadline" if en else "超出时限"]
    if fault.compensation and fault.compensation.credit_fen:
        credit = yuan(fault.compensation.credit_fen)
        parts.append(f"credited {credit} yuan" if en else f"已补偿{credit}元")
    return (", " if en else "，").join(parts)
