"""The care service: the campaign scheduler and its HTTP face (status callbacks, health, metrics,
admin API, console) in one process; ``create_app`` is the factory, and tests pass their own
database, gateway and clock. Routes: docs/campaigns.md.
"""

from __future__ import annotations

import hmac
import logging
import re
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Awaitable, Callable, Optional, Sequence

import aiohttp
from aiohttp import web
from prometheus_client import generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from care_scheduler import kpis, operations
from care_scheduler.app_keys import CASEWORK, CLOCK, DB, GATEWAY, JOBS, LEADERSHIP, SETTINGS
from care_scheduler.arrears import arrears_of_managers, reminders_held
from care_scheduler.casework import AboutTheActor, CaseClosed, Casework, TicketRefused
from care_scheduler.churn import churn_of_managers
from care_scheduler.console.app import setup_console
from care_scheduler.import_api import setup_import_api
from care_scheduler.jobs import CareJobs
from care_scheduler.leader import LEASE, Leadership
from care_scheduler.maintenance_api import setup_maintenance_api
from care_scheduler.metrics import METRICS, ServiceMetrics, mongodb_answers
from care_scheduler.outreach_api import setup_outreach_api
from care_scheduler.public.pages import setup_public_pages
from care_scheduler.rasa_client import HandBackFailed, RasaClient
from care_scheduler.record_gaps import record_gaps
from care_scheduler.ticket_register import KINDS as REGISTER_KINDS
from care_scheduler.ticket_register import ticket_register
from carecore.client_address import Network, client_address
from carecore.clock import Clock, SystemClock
from carecore.config import Settings, get_settings
from carecore.model import MESSAGE_SID_PATTERN, ChangeSource
from carecore.repository import Database
from carecore.runtime import build_gateway, open_database
from carecore.sms import signature
from carecore.sms.gateway import SmsGateway

log = logging.getLogger(__name__)

__all__ = ["JOBS", "METRICS", "SETTINGS", "ServiceMetrics", "create_app", "serve"]

MAX_BODY_BYTES = 64 * 1024
HSTS = "max-age=31536000"
MESSAGE_SID = re.compile(MESSAGE_SID_PATTERN)
CALLBACK_STATUSES = {"accepted", "queued", "sending", "sent", "delivered", "undelivered", "failed",
                     "receiving", "received", "read", "canceled", "scheduled", "partially_delivered"}


# --- Twilio status callbacks ---------------------------------------------------------------------------

async def twilio_status(request: web.Request) -> web.Response:
    app = request.app
    metrics: ServiceMetrics = app[METRICS]
    if request.content_type != "application/x-www-form-urlencoded":
        metrics.callbacks.labels("malformed").inc()
        return web.Response(status=400, text="expected a form body")
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        metrics.callbacks.labels("too_large").inc()
        return web.Response(status=413, text="request too large")
    except (ValueError, UnicodeDecodeError):
        metrics.callbacks.labels("malformed").inc()
        return web.Response(status=400, text="malformed form body")
    params = {key: str(value) for key, value in form.items()}
    settings = app[SETTINGS]
    if not signature.is_valid(settings.twilio_auth_token or "", settings.status_callback_url, params,
                              request.headers.get(signature.HEADER)):
        metrics.callbacks.labels("forged").inc()
        log.warning("rejected a status callback with a missing or wrong signature")
        return web.Response(status=403, text="invalid signature")
    sid, status, code = params.get("MessageSid", ""), params.get("MessageStatus", ""), params.get("ErrorCode")
    if not MESSAGE_SID.match(sid) or status not in CALLBACK_STATUSES or (code and not code.isdigit()):
        metrics.callbacks.labels("malformed").inc()
        return web.Response(status=400, text="MessageSid, MessageStatus or ErrorCode missing or invalid")
    result = await app[GATEWAY].handle_status_callback(sid, status, int(code) if code else None)
    metrics.callbacks.labels(result.value).inc()
    return web.Response(status=204)


# --- health and metrics --------------------------------------------------------------------------------

async def healthz(request: web.Request) -> web.Response:
    app = request.app
    jobs = app[JOBS]
    leadership = app[LEADERSHIP]
    mongo_ok = await mongodb_answers(app[DB])
    # A follower's scheduler waits for the lease; a leader's must run.
    healthy = mongo_ok and (jobs.scheduler.running or not leadership.leading)
    next_runs = jobs.next_runs()
    leader = (await app[DB].leases.holder(LEASE))[0] if mongo_ok else None  # from any instance: who leads
    body = {
        "status": "ok" if healthy else "unhealthy",
        "mongodb": "ok" if mongo_ok else "unreachable",
        "scheduler": "running" if jobs.scheduler.running else "stopped",
        "role": "leader" if leadership.leading else "follower",
        "instance": leadership.holder,
        "leader": leader,
        "jobs": {kind: {"schedule": app[SETTINGS].care_schedules[kind], "next_run": next_runs.get(kind),
                        "last_run": jobs.last_runs[kind].as_dict() if kind in jobs.last_runs else None}
                 for kind in app[SETTINGS].care_schedules},
    }
    return web.json_response(body, status=200 if healthy else 503)


async def metrics_endpoint(request: web.Request) -> web.Response:
    metrics: ServiceMetrics = request.app[METRICS]
    await metrics.refresh()
    return web.Response(body=generate_latest(metrics.registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


# --- middlewares ----------------------------------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def forwarded_client(proxies: Sequence[Network]) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """Middleware: ``request.remote`` is the client behind the trusted balancers (``carecore.client_address``)."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        remote = client_address(request.remote, request.headers.getall("X-Forwarded-For", []), proxies)
        return await handler(request if remote == request.remote else request.clone(remote=remote))

    return middleware


# --- admin API ------------------------------------------------------------------------------------------

@web.middleware
async def admin_auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every /admin/ call needs ``Authorization: Bearer <CARE_ADMIN_TOKEN>``; no token configured, no access."""
    if not request.path.startswith("/admin/"):
        return await handler(request)
    expected = request.app[SETTINGS].care_admin_token or ""
    header = request.headers.get("Authorization", "")
    given = header[7:].strip() if header[:7].lower() == "bearer " else ""
    if not expected or not given or not hmac.compare_digest(given.encode(), expected.encode()):
        request.app[METRICS].admin.labels("unauthorized").inc()
        return web.json_response({"error": "missing or wrong bearer token"}, status=401,
                                 headers={"WWW-Authenticate": 'Bearer realm="care-admin"'})
    try:
        unknown = operations.unknown_query(request)
        if unknown:
            raise operations.OperationError(f"unknown query parameter: {', '.join(unknown)}")
        response = await handler(request)
    except operations.OperationError as exc:
        request.app[METRICS].admin.labels("bad_request").inc()
        return web.json_response({"error": str(exc)}, status=400)
    request.app[METRICS].admin.labels("ok" if response.status < 400 else "error").inc()
    return response


@web.middleware
async def strict_transport(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Behind HTTPS, browsers are told to come back only over HTTPS (HSTS), for a year."""
    if not request.app[SETTINGS].behind_https:
        return await handler(request)
    try:
        response = await handler(request)
    except web.HTTPException as exc:  # redirects and errors raised as exceptions carry it too
        exc.headers["Strict-Transport-Security"] = HSTS
        raise
    response.headers["Strict-Transport-Security"] = HSTS
    return response


def _int(value: Any, field: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise operations.OperationError(f"{field} must be an integer from {low} to {high}")
    return value


async def admin_preview(request: web.Request) -> web.Response:
    body = await operations.json_body(request)
    app = request.app
    kind = operations.parse_kind(body.get("kind"))
    day = operations.parse_day(body.get("date", app[CLOCK].today().isoformat()))
    limit = _int(body.get("limit", 20), "limit", 0, 500)
    price = body.get("price")
    if price is not None and (isinstance(price, bool) or not isinstance(price, (int, float)) or price < 0):
        raise operations.OperationError("price must be a non-negative number")
    result = await operations.preview(app[DB], app[SETTINGS], kind, day, price=price, limit=limit,
                                      now=app[CLOCK].now())
    return web.json_response(result.as_dict())


async def admin_run(request: web.Request) -> web.Response:
    body = await operations.json_body(request)
    app = request.app
    kind = operations.parse_kind(body.get("kind"))
    day = operations.parse_day(body["date"]) if body.get("date") is not None else None
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise operations.OperationError("dry_run must be true or false")
    report = await app[JOBS].run(kind, day, "admin", dry_run=dry_run)
    return web.json_response(report.as_dict())


@operations.takes_query("since")
async def admin_report(request: web.Request) -> web.Response:
    app = request.app
    since_raw = request.query.get("since")
    since = operations.parse_day(since_raw, field="since") if since_raw else None
    by_kind = await operations.report(app[DB], app[SETTINGS], since)
    days = await operations.daily(app[DB], app[SETTINGS], since, app[CLOCK].today())
    return web.json_response({"since": since.isoformat() if since else None, "by_kind": by_kind, "per_day": days})


# --- opening and closing cases (the console's operations, for other tools) --------------------------------------------

async def admin_open_ticket(request: web.Request) -> web.Response:
    """A ticket the customer reported elsewhere (a call centre, a visit), opened as the console opens one."""
    body = await operations.json_body(request)
    customer = await request.app[DB].customers.get(operations.record_id(body, "customer_id"))
    if customer is None:
        return web.json_response({"error": "no such customer"}, status=404)
    fields = {name: body[name] if isinstance(body.get(name), str) else ""
              for name in ("kind", "contact_id", "circuit_id", "text")}
    category, urgent = body.get("category", "other"), body.get("urgent", False)
    if not isinstance(urgent, bool):  # "yes" or 1 must not silently open a ticket nobody is paged for
        raise operations.OperationError("urgent: true or false")
    try:
        ticket = await request.app[CASEWORK].open_ticket(
            customer, **fields, category=category if isinstance(category, str) else "",
            urgent=urgent, actor=operations.actor_of(body))
    except TicketRefused as exc:
        if exc.ticket_id is not None:  # the circuit's fault is open: the report is a note on it
            return web.json_response({"error": str(exc), "ticket_id": exc.ticket_id}, status=409)
        raise operations.OperationError(str(exc)) from None
    assert ticket.sla is not None
    reopened = ticket.times_reopened > 0  # a fault resolved within the day: its ticket, open again
    return operations.answer({"ticket_id": ticket.id, "priority": ticket.priority, "reopened": reopened,
                              "response_due": ticket.sla.response_due, "restore_due": ticket.sla.restore_due},
                             request.app[CLOCK].tz, status=200 if reopened else 201)


async def admin_resolve_ticket(request: web.Request) -> web.Response:
    body = await operations.json_body(request)
    note = body.get("note")
    if note is not None and (not isinstance(note, str) or len(note) > 2000):
        raise operations.OperationError("note must be text of at most 2000 characters")
    ticket = await request.app[DB].tickets.get(request.match_info["ticket_id"])
    if ticket is None:
        return web.json_response({"error": "no such ticket"}, status=404)
    try:
        resolution = await request.app[CASEWORK].resolve_ticket(ticket, operations.actor_of(body), (note or "").strip() or None)
    except CaseClosed:
        return web.json_response({"error": f"ticket {ticket.id} is not open"}, status=409)
    except AboutTheActor:
        return web.json_response({"error": f"ticket {ticket.id} is a complaint about {ticket.manager_id}: "
                                           "someone above them resolves it"}, status=403)
    result = {"ticket_id": ticket.id, "status": "resolved", "escalations_closed": resolution.closed,
              "escalations_left_open": resolution.left_open, "error": resolution.error}
    return web.json_response(result, status=502 if resolution.left_open else 200)


async def admin_escalation(request: web.Request) -> web.Response:
    await operations.json_body(request)
    escalation = await request.app[DB].escalations.get(request.match_info["escalation_id"])
    if escalation is None:
        return web.json_response({"error": "no such escalation"}, status=404)
    casework, action = request.app[CASEWORK], request.match_info["action"]
    try:
        if action == "resolve":
            await casework.resolve_escalation(escalation)
        else:
            await casework.hand_back(escalation)
    except CaseClosed:
        return web.json_response({"error": f"escalation {escalation.id} is not open"}, status=409)
    except HandBackFailed as exc:
        return web.json_response({"error": f"escalation {escalation.id} stays open: {exc}"}, status=502)
    current = await request.app[DB].escalations.get(escalation.id)
    assert current is not None
    return web.json_response({"escalation_id": escalation.id, "status": current.status})


@operations.takes_query("scope", "status")
async def admin_escalations(request: web.Request) -> web.Response:
    """``GET /admin/escalations?scope=<manager_id>&status=open|all``: a scope's escalations (no scope: group), the
    soonest call-back first, so that a CRM can find the ones to resolve or hand back; open ones unless ``all``."""
    db = request.app[DB]
    status = request.query.get("status", "open")
    if status not in ("open", "all"):
        raise operations.OperationError("status must be open or all")
    scope = await operations.scope_param(request, db)
    found = await db.escalations.for_customers(await db.customers.ids_in_scope(scope.manager_ids),
                                              open_only=status == "open")
    return operations.answer({"escalations": [
        {"escalation_id": e.id, "customer_id": e.customer_id, "contact_id": e.contact_id, "manager_id": e.manager_id,
         "reason": e.reason, "status": e.status, "contact_by": e.contact_by, "callback_asked": e.callback_asked,
         "ticket_id": e.ticket_id, "summary": e.summary, "created_at": e.created_at} for e in found]},
        request.app[CLOCK].tz)


@operations.takes_query("month", "scope")
async def admin_kpis(request: web.Request) -> web.Response:
    """``GET /admin/kpis?month=YYYY-MM&scope=<manager_id>``: a scope's figures (docs/kpis.md); no scope: group."""
    db, clock = request.app[DB], request.app[CLOCK]
    month = kpis.parse_month_param(request.query.get("month"), clock)
    scope = await operations.scope_param(request, db)
    return web.json_response(await kpis.report(db, clock, scope, month))


@operations.takes_query("scope")
async def admin_churn(request: web.Request) -> web.Response:
    """``GET /admin/churn?scope=<manager_id>``: the accounts the churn watch lists in a scope; no scope: group."""
    db, clock, settings = request.app[DB], request.app[CLOCK], request.app[SETTINGS]
    scope = await operations.scope_param(request, db)
    watch = await churn_of_managers(db, settings.churn_drop_percent, clock.today(), scope.manager_ids)
    return operations.answer({
        "recent_months": watch.recent, "earlier_months": watch.earlier, "drop_percent": settings.churn_drop_percent,
        "accounts": [{"customer_id": d.customer_id, "earlier_monthly_fen": d.earlier_fen,
                      "recent_monthly_fen": d.recent_fen, "drop_percent": d.drop_percent,
                      "open_complaint": d.open_complaint, "said_leaving_at": d.said_leaving_at}
                     for d in watch.drops]}, clock.tz)


async def admin_churn_kept(request: web.Request) -> web.Response:
    """``POST /admin/churn/{customer_id}/kept``: the manager kept a customer who said they would leave (as the
    console's button): the mark comes off the churn watch. 409 when there is none to clear."""
    actor = operations.actor_of(await operations.json_body(request))
    customer_id = request.match_info["customer_id"]
    db = request.app[DB]
    if await db.customers.get(customer_id) is None:
        return web.json_response({"error": "no such customer"}, status=404)
    cleared = await db.escalations.mark_kept(customer_id, request.app[CLOCK].now(), actor, ChangeSource.api)
    if not cleared:
        return web.json_response({"error": f"{customer_id} has no word of leaving to clear"}, status=409)
    return web.json_response({"customer_id": customer_id, "cleared": cleared})


@operations.takes_query("scope")
async def admin_arrears(request: web.Request) -> web.Response:
    """``GET /admin/arrears?scope=<manager_id>``: the accounts in arrears in a scope, longest overdue first."""
    db, today, settings = request.app[DB], request.app[CLOCK].today(), request.app[SETTINGS]
    scope = await operations.scope_param(request, db)
    found = await arrears_of_managers(db, settings.payment_due_days, today, scope.manager_ids)
    held = await reminders_held(db, found)
    return web.json_response({"payment_due_days": settings.payment_due_days, "accounts": [
        {"customer_id": a.customer_id, "owed_fen": a.owed_fen, "days_overdue": a.days_overdue(today),
         "months": [{"month": m.month, "owed_fen": m.owed_fen, "due_on": m.due_on.isoformat()} for m in a.months],
         "reminder_held": held.get(a.customer_id)} for a in found]})


@operations.takes_query("scope")
async def admin_record_gaps(request: web.Request) -> web.Response:
    """``GET /admin/gaps?scope=<manager_id>``: the accounts in a scope whose records keep care from reaching them."""
    scope = await operations.scope_param(request, request.app[DB])
    found = await record_gaps(request.app[DB], scope.manager_ids)
    return web.json_response({"accounts": [
        {"customer_id": g.customer_id, "manager_id": g.manager_id, "contacts": g.contacts, "gaps": list(g.gaps),
         "contacts_without_birthday": g.without_birthday} for g in found]})


@operations.takes_query("month", "kind", "scope")
async def admin_ticket_register(request: web.Request) -> web.Response:
    """``GET /admin/tickets?month=YYYY-MM&scope=<manager_id>&kind=``: a month's tickets in a scope, as the
    console's register lists them (``care_scheduler.ticket_register``); no scope: group."""
    db, clock = request.app[DB], request.app[CLOCK]
    month = kpis.parse_month_param(request.query.get("month"), clock)
    kind = request.query.get("kind") or None
    if kind is not None and kind not in REGISTER_KINDS:
        raise operations.OperationError(f"kind must be one of {', '.join(REGISTER_KINDS)}")
    scope = await operations.scope_param(request, db)

    rows = []
    for r in await ticket_register(db, clock, scope.manager_ids, month, kind):
        t, sla = r.ticket, r.ticket.sla
        rows.append({"ticket_id": t.id, "kind": t.kind, "customer_id": t.customer_id, "contact_id": t.contact_id,
                     "category": t.category, "priority": t.priority, "status": t.status, "opened_at": t.created_at,
                     "response_due": sla.response_due if sla else None,
                     "restore_due": sla.restore_due if sla else None, "deadlines": r.deadlines or None,
                     "resolved_at": t.resolved_at, "survey_score": t.survey.score if t.survey else None,
                     "followup": r.followup or None, "manager_id": t.manager_id})
    return operations.answer({"month": month, "tickets": rows}, clock.tz)


async def admin_erase_contact(request: web.Request) -> web.Response:
    """A contact's right to deletion: their record, messages' numbers and bodies, and their name and number."""
    body = await operations.json_body(request)
    reason = body.get("reason")
    if not isinstance(reason, str) or not 1 <= len(reason.strip()) <= 500:
        raise operations.OperationError("reason must be text of 1 to 500 characters")
    counts = await request.app[DB].erase_contact(request.match_info["contact_id"], at=request.app[CLOCK].now(),
                                                 source="api", actor=operations.actor_of(body), reason=reason.strip())
    if counts is None:
        return web.json_response({"error": "no such contact"}, status=404)
    return web.json_response({"contact_id": request.match_info["contact_id"], "erased": counts})


# --- the factory ----------------------------------------------------------------------------------------

def create_app(settings: Optional[Settings] = None, *, db: Optional[Database] = None,
               gateway: Optional[SmsGateway] = None, clock: Optional[Clock] = None,
               start_scheduler: bool = True, catch_up: bool = True) -> web.Application:
    """The care service; what is not passed in is built from settings on startup and closed on cleanup."""
    settings = settings or get_settings()
    app = web.Application(client_max_size=MAX_BODY_BYTES,
                          middlewares=[forwarded_client(settings.trusted_proxies), strict_transport, admin_auth])
    app[SETTINGS] = settings
    app[CLOCK] = clock or SystemClock(settings.timezone)
    app[METRICS] = ServiceMetrics(app)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        async with _database(settings, db) as database:
            app[DB] = database
            app[GATEWAY] = gateway or build_gateway(database, settings)
            jobs = CareJobs(database, app[GATEWAY], settings, app[CLOCK])
            app[JOBS] = jobs
            # Only the holder of the scheduler lease runs the jobs (care_scheduler.leader).
            app[LEADERSHIP] = Leadership(database.leases, ttl_s=settings.scheduler_lease_s,
                                         on_elected=lambda: jobs.start(catch_up=catch_up), on_deposed=jobs.shutdown)
            http = aiohttp.ClientSession()
            app[CASEWORK] = Casework(database, app[GATEWAY], settings, app[CLOCK],
                                     RasaClient(settings.rasa_url, settings.rasa_api_token, http))
            if start_scheduler:
                await app[LEADERSHIP].start()
            try:
                yield
            finally:
                await app[METRICS].close()
                await app[LEADERSHIP].stop()
                jobs.shutdown()
                await http.close()
                if gateway is None:
                    await app[GATEWAY].close()

    app.cleanup_ctx.append(resources)
    app.router.add_post("/twilio/status", twilio_status)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    app.router.add_post("/admin/preview", admin_preview)
    app.router.add_post("/admin/run", admin_run)
    app.router.add_get("/admin/report", admin_report)
    app.router.add_post("/admin/tickets", admin_open_ticket)
    app.router.add_post("/admin/tickets/{ticket_id}/resolve", admin_resolve_ticket)
    app.router.add_get("/admin/escalations", admin_escalations)
    app.router.add_post("/admin/escalations/{escalation_id}/{action:resolve|handback}", admin_escalation)
    app.router.add_post("/admin/contacts/{contact_id}/erase", admin_erase_contact)
    app.router.add_get("/admin/kpis", admin_kpis)
    app.router.add_get("/admin/churn", admin_churn)
    app.router.add_post("/admin/churn/{customer_id}/kept", admin_churn_kept)
    app.router.add_get("/admin/arrears", admin_arrears)
    app.router.add_get("/admin/gaps", admin_record_gaps)
    app.router.add_get("/admin/tickets", admin_ticket_register)
    setup_outreach_api(app)
    setup_import_api(app)
    setup_public_pages(app)
    setup_maintenance_api(app)
    setup_console(app, settings)
    return app


@asynccontextmanager
async def _database(settings: Settings, db: Optional[Database]) -> AsyncIterator[Database]:
    """The given database, or the configured one opened (and closed) here."""
    if db is not None:
        yield db
        return
    async with open_database(settings, migrate=True) as opened:
        yield opened


def serve(settings: Optional[Settings] = None) -> None:
    settings = settings or get_settings()
    if not settings.care_admin_token:
        log.warning("CARE_ADMIN_TOKEN is not set: the admin API answers 401 to everyone")
    web.run_app(create_app(settings), host=settings.care_interface, port=settings.care_port,
                access_log=None, print=None)
