"""A ticket's page and what a manager does with it: open one taken by phone, acknowledge, add a note, resolve,
record the follow-up call."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Dict, List, Optional, Tuple

from aiohttp import web

from care_scheduler.app_keys import CASEWORK, CLOCK
from care_scheduler.casework import OPEN_TICKET, CaseClosed, TicketRefused, about_the_actor
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import (
    PREFIX,
    Viewer,
    customer_in_scope,
    db_of,
    form,
    in_scope,
    not_found,
    redirect,
    render,
    viewer,
)
from carecore.model import TICKET_ID_PATTERN, Customer, Ticket, TicketEvent
from carecore.repository import Database
from carecore.repository.transcripts import TranscriptLine
from carecore.texts import LABELS, fmt_duration

# The conversation shown ends with the assistant's confirmation, which names the ticket and follows its creation by
# moments; a minute bounds the search should the confirmation be missing.
CONFIRMED_WITHIN = timedelta(minutes=1)
TICKET_ID = re.compile(rf"(?<![A-Za-z0-9]){TICKET_ID_PATTERN.strip('^$')}(?![0-9])")  # a ticket named in a line
NEW_TICKET_FIELDS = ("kind", "contact_id", "circuit_id", "category", "text", "urgent")
REFUSALS = {"kind": "choose_kind", "contact_id": "choose_contact", "circuit_id": "choose_circuit",
            "category": "choose_category", "text": "describe"}


async def _ticket_in_scope(request: web.Request, seen: Viewer) -> Tuple[Ticket, Customer]:
    return await in_scope(request, seen, await db_of(request).tickets.get(request.match_info["ticket_id"]))


def _leading_to(lines: List[TranscriptLine], ticket_id: str, *, named_before: bool = False) -> List[TranscriptLine]:
    """What led to the ticket, through the first line that names it (the confirmation): nobody could name it earlier,
    and what the customer said next, within the same minute, is another matter. It starts after the assistant last
    named another ticket (one confirmed, chased or listed before): that was another matter too. A fault reported
    again was ``named_before`` its confirmation (the circuit's open or lately fixed ticket): the last line naming
    it is the confirmation then."""
    naming = [i for i, line in enumerate(lines) if ticket_id in line.text] or [len(lines) - 1]
    told = naming[-1] if named_before else naming[0]
    other = [i for i, line in enumerate(lines[:told]) if line.speaker == "assistant"
             and any(named.group() != ticket_id for named in TICKET_ID.finditer(line.text))]
    return lines[(other[-1] + 1 if other else 0):told + 1]


async def _retold(db: Database, ticket: Ticket) -> Optional[Tuple[str, List[TranscriptLine]]]:
    """The conversation in which the customer last told the assistant of the fault again, after the ticket opened
    (it was reopened, or reported while open), with what the event was: what was said after the ticket's event
    before it led there. None when no conversation did."""
    for i in range(len(ticket.history) - 1, 0, -1):
        event, before = ticket.history[i], ticket.history[i - 1]
        if event.sender_id is not None:
            lines = await db.transcripts.last_lines(event.sender_id, until=event.at + CONFIRMED_WITHIN,
                                                    session_only=True)
            return event.action, _leading_to([line for line in lines if line.at > before.at], ticket.id,
                                              named_before=True)
    return None


async def ticket_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    ticket, customer = await _ticket_in_scope(request, seen)
    escalations = [e for e in await db_of(request).escalations.for_customers([customer.id], open_only=False)
                   if e.ticket_id == ticket.id]
    unmet = ticket.sla.unmet() if ticket.sla is not None and ticket.status in OPEN_TICKET else []
    now = request.app[CLOCK].now()
    left = None if not unmet else (fmt_duration(unmet[0] - now, seen.lang), unmet[0] <= now,
                                   fmt_duration(now - unmet[0], seen.lang))
    transcript = None if ticket.sender_id is None else _leading_to(await db_of(request).transcripts.last_lines(
        ticket.sender_id, until=ticket.created_at + CONFIRMED_WITHIN, session_only=True), ticket.id)
    return render(request, "ticket.html", seen.lang, seen.session, seen.manager, ticket=ticket, left=left,
                  customer=customer, escalations=escalations, is_open=ticket.status in OPEN_TICKET, now=now,
                  handled_above=about_the_actor(ticket, seen.manager.id),
                  transcript=transcript, retold=await _retold(db_of(request), ticket),
                  contact=customer.contact(ticket.contact_id) if ticket.contact_id else None)


async def ticket_action(request: web.Request) -> web.Response:
    seen = await viewer(request)
    ticket, _ = await _ticket_in_scope(request, seen)
    posted = await form(request, seen.session)
    db = db_of(request)
    t = translator(seen.lang)
    action = request.match_info["action"]
    note = (posted.get("note") or "").strip()[:2000] or None
    now = request.app[CLOCK].now()  # the product's clock: deadlines are met on it
    back = f"{PREFIX}/tickets/{ticket.id}"
    if action == "note":
        if note is None:
            redirect(seen.session, back)
        await db.tickets.add_event(ticket.id, TicketEvent(at=now, actor=seen.manager.id, action=action, note=note))
        redirect(seen.session, back, t("done"))
    if about_the_actor(ticket, seen.manager.id):  # notes only: the case is answered above them
        redirect(seen.session, back, t("handled_above"))
    if action == "followup":  # the note of the call closes the follow-up a low survey score opened
        if note is None:
            redirect(seen.session, back)
        await db.tickets.close_followup(ticket.id, TicketEvent(at=now, actor=seen.manager.id, action=action,
                                                               note=note))
        redirect(seen.session, back, t("done"))
    if ticket.status not in OPEN_TICKET:
        redirect(seen.session, back)
    if action == "ack":
        await db.tickets.acknowledge(ticket.id, TicketEvent(at=now, actor=seen.manager.id, action=action,
                                                            note=note))
        redirect(seen.session, back, t("done"))
    if action == "resolve":
        try:
            resolution = await request.app[CASEWORK].resolve_ticket(ticket, seen.manager.id, note)
        except CaseClosed:
            redirect(seen.session, back)
        redirect(seen.session, back, t("rasa_unreachable") if resolution.left_open else t("notice_sent"))
    not_found()


def _new_ticket_page(request: web.Request, seen: Viewer, customer: Customer, values: Dict[str, str],
                     error: Optional[str] = None, status: int = 200) -> web.Response:
    return render(request, "ticket_new.html", seen.lang, seen.session, seen.manager, status=status, customer=customer,
                  values=values, error=error, categories=LABELS["complaint_category"])


async def new_ticket_form(request: web.Request) -> web.Response:
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    kind = request.query.get("kind") if request.query.get("kind") in ("fault", "complaint") else "fault"
    return _new_ticket_page(request, seen, customer, {"kind": kind, "category": "other"})


async def new_ticket(request: web.Request) -> web.Response:
    """Open a ticket the customer reported to their manager; nothing is written unless every field is right."""
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    posted = await form(request, seen.session)
    values = {name: (posted.get(name) or "").strip() for name in NEW_TICKET_FIELDS}
    t = translator(seen.lang)
    try:
        ticket = await request.app[CASEWORK].open_ticket(
            customer, kind=values["kind"], contact_id=values["contact_id"], circuit_id=values["circuit_id"],
            category=values["category"], text=values["text"], urgent=values["urgent"] == "yes", actor=seen.manager.id)
    except TicketRefused as exc:
        refusal = t("fault_still_open").format(ticket_id=exc.ticket_id) if exc.ticket_id else t(REFUSALS[exc.field])
        return _new_ticket_page(request, seen, customer, values, refusal, status=409 if exc.ticket_id else 400)
    redirect(seen.session, f"{PREFIX}/tickets/{ticket.id}", t("ticket_reopened" if ticket.times_reopened else
                                                              "ticket_opened"))
