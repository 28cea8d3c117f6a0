"""An escalation's page and what a manager does with it: acknowledge, resolve, hand back to the assistant."""

from __future__ import annotations

from typing import Tuple

from aiohttp import web

from care_scheduler.app_keys import CASEWORK
from care_scheduler.casework import CaseClosed
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import PREFIX, Viewer, db_of, form, in_scope, not_found, redirect, render, viewer
from care_scheduler.rasa_client import HandBackFailed
from carecore.model import OPEN_ESCALATION_STATUSES, Customer, Escalation, EscalationStatus


async def _escalation_in_scope(request: web.Request, seen: Viewer) -> Tuple[Escalation, Customer]:
    return await in_scope(request, seen, await db_of(request).escalations.get(request.match_info["escalation_id"]))


async def escalation_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    escalation, customer = await _escalation_in_scope(request, seen)
    contact = next((c for c in customer.contacts if c.contact_id == escalation.contact_id), None)
    transcript = await db_of(request).transcripts.last_lines(escalation.sender_id)
    return render(request, "escalation.html", seen.lang, seen.session, seen.manager, escalation=escalation,
                  customer=customer, contact=contact, transcript=transcript,
                  is_open=escalation.status in OPEN_ESCALATION_STATUSES)


async def escalation_action(request: web.Request) -> web.Response:
    seen = await viewer(request)
    escalation, _ = await _escalation_in_scope(request, seen)
    await form(request, seen.session)
    casework = request.app[CASEWORK]
    t = translator(seen.lang)
    back = f"{PREFIX}/escalations/{escalation.id}"
    action = request.match_info["action"]
    if escalation.status not in OPEN_ESCALATION_STATUSES:
        redirect(seen.session, back)
    if action == "ack":
        await db_of(request).escalations.set_status(escalation.id, EscalationStatus.acknowledged)
        redirect(seen.session, back, t("done"))
    try:
        if action == "handback":
            await casework.hand_back(escalation)
            redirect(seen.session, back, t("handed_back"))
        if action == "resolve":
            await casework.resolve_escalation(escalation)
            redirect(seen.session, back, t("notice_sent"))
    except HandBackFailed:
        redirect(seen.session, back, t("rasa_unreachable"))
    except CaseClosed:
        redirect(seen.session, back)
    not_found()
