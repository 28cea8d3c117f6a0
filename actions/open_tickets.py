"""Which open tickets a status question or a chase is about: the newest few, of the circuit and the kinds it names,
with how many more there are, what to say when there are none, who answers them, and circuits down with none."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Collection, List, NamedTuple, Optional, Tuple

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.circuit_choice import circuit_asked
from actions.fault_history import LATEST_ASKED
from actions.message_reading import last_said
from actions.services import Services
from actions.ticket_pointing import ticket_kinds_named, tickets_listed
from carecore import ticket_chase
from carecore.model import OPEN_TICKET_STATUSES, Circuit, Customer, Ticket
from carecore.texts import fmt_time, label

OPEN_TICKETS_LISTED = 5  # the newest open tickets a status answer lists and a chase takes; the others are counted
RESOLVED_LATELY = timedelta(days=7)  # with none open, the newest resolved since is named
WHO_ANSWERS = re.compile(r"谁|哪位|\bwho\b", re.I)  # "谁在处理", "who's dealing with it"


class TicketsAsked(NamedTuple):
    """What a question or chase about tickets narrows them to: the circuit it names ("155M那条的故障") and the kinds it
    names ("投诉处理到哪了")."""

    circuit_id: Optional[str] = None
    kinds: Tuple[str, ...] = ()


def tickets_asked(customer: Customer, tracker: Tracker, *intents: str) -> TicketsAsked:
    return TicketsAsked(circuit_asked(customer, tracker, *intents), ticket_kinds_named(last_said(tracker, *intents)))


async def newest_open(svc: Services, customer_id: str, asked: TicketsAsked) -> List[Ticket]:
    """The ``OPEN_TICKETS_LISTED`` newest open tickets of those asked about."""
    return await svc.db.tickets.for_customer(customer_id, open_only=True, limit=OPEN_TICKETS_LISTED,
                                             circuit_id=asked.circuit_id, kinds=asked.kinds)


async def latest_asked(svc: Services, customer_id: str, asked: TicketsAsked, text: str) -> str:
    """"上次报的故障修好了吗", "上次的投诉处理好了没": the newest ticket of those asked about, open or not, which the
    open ones listed would not show once it is resolved; "" when the message asks of no latest one, or there is none."""
    if not LATEST_ASKED.search(text):
        return ""
    newest = await svc.db.tickets.for_customer(customer_id, limit=1, circuit_id=asked.circuit_id, kinds=asked.kinds)
    return newest[0].id if newest else ""


async def listed_open(svc: Services, customer_id: str, tracker: Tracker) -> List[Ticket]:
    """The customer's tickets the replies just before listed, while open: a chase that names none right after a
    list ("能快点吗" after the faults' progress) is about those, not every open ticket, complaints included."""
    found = [await svc.db.tickets.get(ticket_id, customer_id=customer_id)
             for ticket_id in tickets_listed(tracker).values()]
    return [t for t in found if t is not None and t.status in OPEN_TICKET_STATUSES]


async def open_beyond(svc: Services, customer_id: str, newest: List[Ticket], asked: TicketsAsked) -> int:
    """How many open tickets there are past the ``OPEN_TICKETS_LISTED`` newest: counted, not hidden."""
    if len(newest) < OPEN_TICKETS_LISTED:
        return 0
    return await svc.db.tickets.count_for_customer(customer_id, open_only=True, circuit_id=asked.circuit_id,
                                                   kinds=asked.kinds) - len(newest)


async def say_none_open(svc: Services, dispatcher: CollectingDispatcher, customer_id: str, asked: TicketsAsked,
                        lang: str) -> None:
    """No open ticket: on the circuit asked about, when one was, of the one kind asked about ("投诉处理到哪了"),
    else at all. The newest of those asked about, resolved within ``RESOLVED_LATELY``, is named with when: "专线修好了
    吗" after the fix hears that it was, and may report it again."""
    if asked.circuit_id:
        dispatcher.utter_message(response="utter_no_open_tickets_on_circuit", circuit_id=asked.circuit_id)
    elif len(asked.kinds) == 1:
        dispatcher.utter_message(response="utter_no_open_tickets_of_kind",
                                 kind=label("ticket_kind", asked.kinds[0], lang))
    else:
        dispatcher.utter_message(response="utter_no_open_tickets")
    newest = await svc.db.tickets.for_customer(customer_id, limit=1, circuit_id=asked.circuit_id, kinds=asked.kinds)
    resolved = newest[0].resolved_at if newest else None
    if resolved is not None and resolved >= svc.clock.now() - RESOLVED_LATELY:
        dispatcher.utter_message(response="utter_latest_resolved", ticket_id=newest[0].id,
                                 kind=label("ticket_kind", newest[0].kind, lang),
                                 resolved=fmt_time(resolved, lang, svc.clock.tz))


# Asking to be told when it is done ("修好了会通知我吗", "will you let me know when it's fixed"), not when that
# will be ("when will I hear back", answered by the deadline).
NOTICE_ASKED = re.compile(r"通知我|通知一下|告诉我一声|短信(?:告诉|通知)|会通知|(?:let|tell) (?:me|us) know|notif|"
                          r"(?<!when )(?<!soon )\bwill (?:i|we) (?:be told|hear)|get a (?:text|message|sms)", re.I)


def say_resolution_notice(tracker: Tracker, dispatcher: CollectingDispatcher, tickets: List[Ticket]) -> None:
    """Whether the customer will be told when an open ticket is resolved, when the status question asks: the
    scheduler texts the contact who raised it (``care_scheduler.sla_watch.resolution_plan``)."""
    if NOTICE_ASKED.search(last_said(tracker, "ask_ticket_status")) and \
            any(t.status in OPEN_TICKET_STATUSES for t in tickets):
        dispatcher.utter_message(response="utter_resolution_notice")


async def say_who_answers(svc: Services, tracker: Tracker, dispatcher: CollectingDispatcher, customer: Customer,
                          tickets: List[Ticket], lang: str) -> None:
    """Who follows up each open ticket, when the status question asks: the person a chase of it pages, so a
    complaint about the account manager names the supervisor above them, never that manager."""
    if not WHO_ANSWERS.search(last_said(tracker, "ask_ticket_status", "report_restored")):
        return
    sep = ", " if lang == "en" else "、"
    open_ones = [t for t in tickets if t.status in OPEN_TICKET_STATUSES]
    for chase in await ticket_chase.chases(svc.db, customer.account_manager_id, open_ones):
        ids = sep.join(t.id for t in chase.tickets)
        if chase.manager is None:
            dispatcher.utter_message(response="utter_tickets_answered_by_hotline", ticket_ids=ids)
        else:
            dispatcher.utter_message(response="utter_tickets_answered_above" if chase.above
                                     else "utter_tickets_answered_by", ticket_ids=ids, manager_name=chase.manager.name)


def say_down_unreported(dispatcher: CollectingDispatcher, circuits: List[Circuit], open_faults: Collection[str],
                        lang: str) -> None:
    """Circuits network management shows down or degraded with no fault ticket open on them: the status alone did not
    say that nobody has reported it, so the customer is offered to."""
    unreported = [c.circuit_id for c in circuits if c.status in ("down", "degraded") and c.circuit_id not in open_faults]
    if unreported:
        dispatcher.utter_message(response="utter_down_unreported",
                                 circuit_ids=(", " if lang == "en" else "、").join(unreported))
