"""The account managers' web console: server-rendered pages, forms that work without JavaScript.

Every page and action first loads the logged-in manager's scope; anything outside
it is a 404. Every POST carries the session's CSRF token. Pages are Chinese by
default, English with ``?lang=en``.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List, NoReturn, Optional, Tuple
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp
import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from care_scheduler import operations
from care_scheduler.charts import sends_per_day_png
from care_scheduler.console.auth import LoginLimiter, csrf_ok, new_csrf_token
from care_scheduler.console.i18n import translator
from care_scheduler.console.scope import Scope
from care_scheduler.jobs import CareJobs
from care_scheduler.planning import PlanContext, Planned
from care_scheduler.runner import CampaignRunner
from care_scheduler.sla_watch import escalation_resolution_plan, resolution_plan
from carecore.clock import Clock, utcnow
from carecore.config import Settings
from carecore.models import (
    OPEN_TICKET_STATUSES,
    AccountManager,
    Customer,
    Escalation,
    EscalationStatus,
    Ticket,
    TicketEvent,
)
from carecore.passwords import verify_password
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from carecore.texts import label, yuan

log = logging.getLogger(__name__)

PREFIX = "/console"
LIMITER = web.AppKey("console_limiter", LoginLimiter)
HTTP = web.AppKey("console_http", aiohttp.ClientSession)

_templates = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                         autoescape=select_autoescape(["html"]), undefined=StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True)


@dataclass
class Keys:
    """App keys of what the console needs from the care service, filled in by ``setup_console``."""

    settings: web.AppKey[Settings]
    clock: web.AppKey[Clock]
    db: web.AppKey[Database]
    gateway: web.AppKey[SmsGateway]
    jobs: web.AppKey[CareJobs]


KEYS = web.AppKey("console_keys", Keys)


@dataclass
class Viewer:
    manager: AccountManager
    scope: Scope
    session: aiohttp_session.Session
    lang: str


def _keys(request: web.Request) -> Keys:
    return request.app[KEYS]


def _not_found() -> NoReturn:
    raise web.HTTPNotFound(text="not found")


async def _viewer(request: web.Request) -> Viewer:
    """The logged-in manager with their scope; a redirect to the login page otherwise."""
    session = await aiohttp_session.get_session(request)
    keys = _keys(request)
    manager_id = session.get("manager_id")
    manager = await request.app[keys.db].managers.get(manager_id) if isinstance(manager_id, str) else None
    if manager is None:
        raise web.HTTPSeeOther(f"{PREFIX}/login")
    return Viewer(manager, await Scope.of(request.app[keys.db], manager), session, _lang(request, session))


def _lang(request: web.Request, session: aiohttp_session.Session) -> str:
    wanted = request.query.get("lang")
    if wanted in ("zh", "en"):
        session["lang"] = wanted
    return session.get("lang", "zh") if session.get("lang") in ("zh", "en") else "zh"


def _csrf(session: aiohttp_session.Session) -> str:
    if not session.get("csrf"):
        session["csrf"] = new_csrf_token()
    return session["csrf"]


async def _form(request: web.Request, session: aiohttp_session.Session) -> Dict[str, str]:
    """The posted form, after the CSRF check (403 without a matching token)."""
    form = await request.post()
    if not csrf_ok(session.get("csrf"), form.get("csrf")):  # type: ignore[arg-type]
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return {k: str(v) for k, v in form.items()}


def _render(request: web.Request, template: str, lang: str, session: aiohttp_session.Session,
            manager: Optional[AccountManager] = None, status: int = 200, **values: Any) -> web.Response:
    settings = request.app[_keys(request).settings]
    tz = ZoneInfo(settings.timezone)
    flash = session.pop("flash", None)
    html = _templates.get_template(template).render(
        t=translator(lang), lang=lang, csrf=_csrf(session), manager=manager, flash=flash, prefix=PREFIX,
        label=lambda kind, value: label(kind, str(value), lang), yuan=yuan,
        local=lambda dt: dt.astimezone(tz).strftime("%Y-%m-%d %H:%M") if dt else "-", **values)
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'"})


def _redirect(session: aiohttp_session.Session, to: str, flash: Optional[str] = None) -> NoReturn:
    if flash:
        session["flash"] = flash
    raise web.HTTPSeeOther(to)


# --- login -------------------------------------------------------------------------------------------------

async def login_page(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    return _render(request, "login.html", _lang(request, session), session, error=None)


async def login(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    lang = _lang(request, session)
    form = await _form(request, session)
    manager_id = form.get("manager_id", "").strip()[:40]
    limiter = request.app[LIMITER]
    db = request.app[_keys(request).db]
    now = request.app[_keys(request).clock].now()
    keys = (f"id:{manager_id}", f"ip:{request.remote}")
    t = translator(lang)
    if not await limiter.admit(db.login_failures, now, *keys):
        return _render(request, "login.html", lang, session, error=t("login_blocked"), status=429)
    manager = await db.managers.get(manager_id) if manager_id else None
    if not verify_password(form.get("password", ""), manager.password_hash if manager else None):
        log.warning("console login failed for %r from %s", manager_id, request.remote)
        return _render(request, "login.html", lang, session, error=t("login_failed"), status=401)
    await limiter.succeeded(db.login_failures, *keys)
    assert manager is not None
    session.invalidate()  # a fresh session (and CSRF token) on every login
    fresh = await aiohttp_session.new_session(request)
    fresh.update(manager_id=manager.id, lang=lang, csrf=new_csrf_token())
    raise web.HTTPSeeOther(f"{PREFIX}/")


async def logout(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    await _form(request, session)
    session.invalidate()
    raise web.HTTPSeeOther(f"{PREFIX}/login")


# --- inbox ---------------------------------------------------------------------------------------------------

def _ticket_due(ticket: Ticket, settings: Settings) -> datetime:
    """When a ticket needs its next step: its first unmet SLA deadline, a complaint's reply deadline."""
    if ticket.sla is not None:
        pending = [due for due, met in ((ticket.sla.response_due, ticket.sla.responded_at),
                                        (ticket.sla.restore_due, ticket.sla.restored_at)) if met is None]
        if pending:
            return min(pending)
    return ticket.created_at + timedelta(hours=settings.complaint_reply_hours)


async def inbox(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    keys = _keys(request)
    db, settings, now = request.app[keys.db], request.app[keys.settings], request.app[keys.clock].now()
    customer_ids = await viewer.scope.customer_ids(db)
    escalations = await db.escalations.for_customers(customer_ids)
    tickets = await db.tickets.open_for_customers(customer_ids)
    items: List[Tuple[datetime, str, Any]] = [(e.contact_by, "escalation", e) for e in escalations]
    items += [(_ticket_due(t, settings), "ticket", t) for t in tickets]
    items.sort(key=lambda item: item[0])
    names = await db.customers.company_names(i.customer_id for _, _, i in items)
    return _render(request, "inbox.html", viewer.lang, viewer.session, viewer.manager, items=items, now=now,
                   names=names)


# --- tickets -------------------------------------------------------------------------------------------------

async def _owner(request: web.Request, viewer: Viewer, record: Optional[Ticket | Escalation]) -> Customer:
    """The customer a ticket or escalation belongs to, if it is in the viewer's scope; 404 otherwise."""
    customer = await request.app[_keys(request).db].customers.get(record.customer_id) if record else None
    if record is None or customer is None or not viewer.scope.covers(customer):
        _not_found()
    return customer


async def _ticket_in_scope(request: web.Request, viewer: Viewer) -> Tuple[Ticket, Customer]:
    ticket = await request.app[_keys(request).db].tickets.get(request.match_info["ticket_id"])
    customer = await _owner(request, viewer, ticket)
    assert ticket is not None
    return ticket, customer


async def ticket_page(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    ticket, customer = await _ticket_in_scope(request, viewer)
    escalations = [e for e in await request.app[_keys(request).db].escalations.for_customers([customer.id],
                                                                                              open_only=False)
                   if e.ticket_id == ticket.id]
    return _render(request, "ticket.html", viewer.lang, viewer.session, viewer.manager, ticket=ticket,
                   customer=customer, escalations=escalations, is_open=ticket.status in _OPEN)


_OPEN = {s.value for s in OPEN_TICKET_STATUSES}


async def ticket_action(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    ticket, customer = await _ticket_in_scope(request, viewer)
    form = await _form(request, viewer.session)
    keys = _keys(request)
    db = request.app[keys.db]
    t = translator(viewer.lang)
    action = request.match_info["action"]
    event = TicketEvent(at=utcnow(), actor=viewer.manager.id, action=action, note=(form.get("note") or None))
    back = f"{PREFIX}/tickets/{ticket.id}"
    if action == "note":
        if not (form.get("note") or "").strip():
            _redirect(viewer.session, back)
        event = event.copy(update={"note": form["note"].strip()[:2000]})
        await db.tickets.add_event(ticket.id, event)
        _redirect(viewer.session, back, t("done"))
    if ticket.status not in _OPEN:
        _redirect(viewer.session, back)
    if action == "ack":
        await db.tickets.acknowledge(ticket.id, event)
        _redirect(viewer.session, back, t("done"))
    if action == "resolve":
        await db.tickets.resolve(ticket.id, event)
        resolved = await db.tickets.get(ticket.id)
        assert resolved is not None
        await _send(request, await resolution_plan(await _plan_context(request), resolved))
        for escalation in await db.escalations.for_customers([customer.id]):
            if escalation.ticket_id == ticket.id:
                await db.escalations.set_status(escalation.id, EscalationStatus.resolved)
                await _resume(request, escalation)
        _redirect(viewer.session, back, t("notice_sent"))
    _not_found()


# --- escalations -----------------------------------------------------------------------------------------

async def _escalation_in_scope(request: web.Request, viewer: Viewer) -> Tuple[Escalation, Customer]:
    escalation = await request.app[_keys(request).db].escalations.get(request.match_info["escalation_id"])
    customer = await _owner(request, viewer, escalation)
    assert escalation is not None
    return escalation, customer


async def escalation_page(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    escalation, customer = await _escalation_in_scope(request, viewer)
    contact = next((c for c in customer.contacts if c.contact_id == escalation.contact_id), None)
    is_open = escalation.status in (EscalationStatus.open.value, EscalationStatus.acknowledged.value)
    return _render(request, "escalation.html", viewer.lang, viewer.session, viewer.manager, escalation=escalation,
                   customer=customer, contact=contact, is_open=is_open)


async def escalation_action(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    escalation, _ = await _escalation_in_scope(request, viewer)
    await _form(request, viewer.session)
    db = request.app[_keys(request).db]
    t = translator(viewer.lang)
    back = f"{PREFIX}/escalations/{escalation.id}"
    action = request.match_info["action"]
    if escalation.status not in (EscalationStatus.open.value, EscalationStatus.acknowledged.value):
        _redirect(viewer.session, back)
    if action == "ack":
        await db.escalations.set_status(escalation.id, EscalationStatus.acknowledged)
        _redirect(viewer.session, back, t("done"))
    if action in ("resolve", "handback"):
        resumed = await _resume(request, escalation)
        if not resumed:
            _redirect(viewer.session, back, t("rasa_unreachable"))
        if action == "handback":
            await db.escalations.set_status(escalation.id, EscalationStatus.handed_back)
            _redirect(viewer.session, back, t("handed_back"))
        await db.escalations.set_status(escalation.id, EscalationStatus.resolved)
        await _send(request, await escalation_resolution_plan(await _plan_context(request), escalation))
        _redirect(viewer.session, back, t("notice_sent"))
    _not_found()


# Rasa (Sanic) takes the conversation id from the path as it is written: keep ":" and "+" literal.
_ID_SAFE = "/:+@!$&'()*,;="
# The pause came right after the escalating action, before Rasa listened again: a ``resume`` alone
# leaves a history no rule knows (an action followed by a user turn), so listen first, as after any turn.
HAND_BACK_EVENTS = [{"event": "resume"}, {"event": "action", "name": "action_listen"}]


async def _resume(request: web.Request, escalation: Escalation) -> bool:
    """Resume the paused Rasa conversation through Rasa's HTTP API (appending tracker events)."""
    settings = request.app[_keys(request).settings]
    url = f"{settings.rasa_url.rstrip('/')}/conversations/{quote(escalation.sender_id, safe=_ID_SAFE)}/tracker/events"
    params = {"token": settings.rasa_api_token} if settings.rasa_api_token else {}
    try:
        async with request.app[HTTP].post(url, params=params, json=HAND_BACK_EVENTS,
                                          timeout=aiohttp.ClientTimeout(total=10)) as resp:
            if resp.status == 200:
                return True
            log.warning("Rasa refused to resume %s: HTTP %s", escalation.id, resp.status)
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("Rasa unreachable resuming %s: %s", escalation.id, exc)
    return False


async def _plan_context(request: web.Request) -> PlanContext:
    keys = _keys(request)
    clock = request.app[keys.clock]
    return await PlanContext.load(request.app[keys.db], request.app[keys.settings], clock.today(), now=clock.now())


async def _send(request: web.Request, plan: Optional[Planned]) -> None:
    if plan is None:
        return
    keys = _keys(request)
    clock = request.app[keys.clock]
    runner = CampaignRunner.from_settings(request.app[keys.db], request.app[keys.gateway],
                                          request.app[keys.settings], clock, unlimited=True)
    await runner.send_one(plan, f"console:{clock.today().isoformat()}")


# --- customer 360 ----------------------------------------------------------------------------------------

async def customer_page(request: web.Request) -> web.Response:
    viewer = await _viewer(request)
    db = request.app[_keys(request).db]
    customer = await db.customers.get(request.match_info["customer_id"])
    if not viewer.scope.covers(customer):
        _not_found()
    assert customer is not None
    usage = list(reversed(await db.usage.history(customer.id, 12)))
    top = max((u.amount_fen for u in usage), default=0) or 1
    bars = [{"month": u.month, "amount": u.amount_fen, "height": round(160 * u.amount_fen / top)} for u in usage]
    return _render(request, "customer.html", viewer.lang, viewer.session, viewer.manager, customer=customer,
                   manager_of=await db.managers.get(customer.account_manager_id), bars=bars,
                   tickets=await db.tickets.for_customer(customer.id, limit=20),
                   sends=await db.sends.for_customer(customer.id, 30))


# --- campaigns (group level: they reach every customer) ----------------------------------------------------

async def _operator(request: web.Request) -> Viewer:
    viewer = await _viewer(request)
    if viewer.scope.manager_ids is not None:
        _not_found()
    return viewer


async def campaigns_page(request: web.Request) -> web.Response:
    viewer = await _operator(request)
    keys = _keys(request)
    db, settings, clock = request.app[keys.db], request.app[keys.settings], request.app[keys.clock]
    preview = error = None
    if request.query.get("kind"):
        try:
            kind = operations.parse_kind(request.query["kind"])
            day = operations.parse_day(request.query.get("date") or clock.today().isoformat())
            preview = await operations.preview(db, settings, kind, day, limit=10, now=clock.now())
        except operations.OperationError as exc:
            error = str(exc)
    report = await operations.report(db, settings, clock.today() - timedelta(days=29))
    return _render(request, "campaigns.html", viewer.lang, viewer.session, viewer.manager, kinds=operations.KINDS,
                   today=clock.today().isoformat(), preview=preview, error=error, report=report,
                   result=viewer.session.pop("run_result", None))


async def campaigns_run(request: web.Request) -> web.Response:
    viewer = await _operator(request)
    form = await _form(request, viewer.session)
    keys = _keys(request)
    try:
        kind = operations.parse_kind(form.get("kind"))
        day = operations.parse_day(form.get("date") or request.app[keys.clock].today().isoformat())
    except operations.OperationError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    report = await request.app[keys.jobs].run(kind, day, f"console:{viewer.manager.id}",
                                                dry_run=form.get("dry_run") == "1")
    viewer.session["run_result"] = report.as_dict()
    raise web.HTTPSeeOther(f"{PREFIX}/campaigns")


async def campaigns_chart(request: web.Request) -> web.Response:
    await _operator(request)
    keys = _keys(request)
    db, settings, clock = request.app[keys.db], request.app[keys.settings], request.app[keys.clock]
    days = await operations.daily(db, settings, None, clock.today())
    return web.Response(body=sends_per_day_png(days), content_type="image/png",
                        headers={"Cache-Control": "no-store"})


# --- wiring ----------------------------------------------------------------------------------------------

async def to_inbox(request: web.Request) -> web.Response:
    raise web.HTTPFound(f"{PREFIX}/")


def setup_console(app: web.Application, keys: Keys, settings: Settings) -> None:
    """Sessions, routes and the HTTP client for Rasa; called by the care service's factory."""
    # A configured Fernet key (base64 text) is used as is; raw bytes are encoded by aiohttp-session.
    secret: str | bytes = settings.console_secret or secrets.token_bytes(32)
    storage = EncryptedCookieStorage(secret, cookie_name="keycare_console", httponly=True, samesite="Lax",
                                     secure=settings.console_url.startswith("https://"), path=PREFIX,
                                     max_age=int(settings.console_session_hours * 3600))
    app.middlewares.append(aiohttp_session.session_middleware(storage))
    app[KEYS] = keys
    app[LIMITER] = LoginLimiter(settings.console_max_failed_logins)

    async def http_client(app: web.Application) -> Any:
        app[HTTP] = aiohttp.ClientSession()
        yield
        await app[HTTP].close()

    app.cleanup_ctx.append(http_client)
    app.router.add_get(PREFIX, to_inbox)
    app.router.add_get(f"{PREFIX}/", inbox)
    app.router.add_get(f"{PREFIX}/login", login_page)
    app.router.add_post(f"{PREFIX}/login", login)
    app.router.add_post(f"{PREFIX}/logout", logout)
    app.router.add_get(PREFIX + "/tickets/{ticket_id}", ticket_page)
    app.router.add_post(PREFIX + "/tickets/{ticket_id}/{action:ack|note|resolve}", ticket_action)
    app.router.add_get(PREFIX + "/escalations/{escalation_id}", escalation_page)
    app.router.add_post(PREFIX + "/escalations/{escalation_id}/{action:ack|resolve|handback}", escalation_action)
    app.router.add_get(PREFIX + "/customers/{customer_id}", customer_page)
    app.router.add_get(f"{PREFIX}/campaigns", campaigns_page)
    app.router.add_post(f"{PREFIX}/campaigns/run", campaigns_run)
    app.router.add_get(f"{PREFIX}/campaigns/chart.png", campaigns_chart)
