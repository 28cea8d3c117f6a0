"""The admin API's outreach: visits recorded elsewhere, the visit plan, and broadcasts.

``POST /admin/visits`` records a visit (a CRM's mobile app), ``GET /admin/visits/due?scope=`` lists the
accounts due for one; ``POST /admin/broadcasts`` queues a notice or a promotion from a manager, to their
scope, ``GET /admin/broadcasts`` lists the latest and ``POST /admin/broadcasts/{id}/cancel`` cancels one not
yet sent. A field that does not fit is a 400 naming it (``OperationError``, handled by the admin middleware).
"""

from __future__ import annotations

from typing import Any, Dict
from zoneinfo import ZoneInfo

from aiohttp import web

from care_scheduler import operations
from care_scheduler.app_keys import CLOCK, DB, SETTINGS
from care_scheduler.broadcasts import BroadcastRefused, checked_broadcast, queue_broadcast
from care_scheduler.kpis import scope_of
from care_scheduler.visits import VisitRefused, record_visit, visits_due
from carecore.model import Broadcast


async def admin_record_visit(request: web.Request) -> web.Response:
    """``POST /admin/visits``: a visit recorded elsewhere (a CRM's mobile app), as the console records one."""
    body = await operations.json_body(request)
    db = request.app[DB]
    customer_id, manager_id = operations.record_id(body, "customer_id"), operations.record_id(body, "manager_id")
    contact_ids = body.get("contact_ids", [])
    customer = await db.customers.get(customer_id)
    if customer is None:
        return web.json_response({"error": "no such customer"}, status=404)
    if await db.managers.get(manager_id) is None:
        return web.json_response({"error": "no such manager"}, status=404)
    if not isinstance(contact_ids, list) or not all(isinstance(c, str) for c in contact_ids):
        raise operations.OperationError("contact_ids: a list of contact ids")
    texts = {name: body[name] if isinstance(body.get(name), str) else "" for name in ("visited_on", "notes",
                                                                                       "next_step")}
    try:
        visit = await record_visit(db, customer, manager_id, contact_ids=contact_ids, today=request.app[CLOCK].today(),
                                   **texts)
    except VisitRefused as exc:
        if exc.reason == "recorded":
            return web.json_response({"error": str(exc)}, status=409)
        raise operations.OperationError(str(exc)) from None
    return web.json_response({"visit_id": visit.id}, status=201)


@operations.takes_query("scope")
async def admin_visits_due(request: web.Request) -> web.Response:
    """``GET /admin/visits/due?scope=<manager_id>``: the accounts in a scope due for a visit, longest overdue first."""
    settings, today = request.app[SETTINGS], request.app[CLOCK].today()
    due = await visits_due(request.app[DB], settings.visit_every_days, today, ZoneInfo(settings.timezone),
                           (await operations.scope_param(request, request.app[DB])).manager_ids)
    return web.json_response({"accounts": [
        {"customer_id": v.customer_id, "manager_id": v.manager_id, "every_days": v.every,
         "last_visit": v.last_visit.isoformat() if v.last_visit else None, "due_on": v.due_on.isoformat(),
         "days_overdue": v.days_overdue(today)} for v in due]})


def as_json(broadcast: Broadcast) -> Dict[str, Any]:
    data = broadcast.dict(by_alias=False, exclude_none=True)
    return {"id": data.pop("id"), **data}


async def admin_queue_broadcast(request: web.Request) -> web.Response:
    """A broadcast from ``manager_id`` (province or group), to their scope: ``purpose``, ``text_zh``, ``text_en``
    and the audience filters ``customer_class``, ``province``, ``city``, ``circuit_type``, ``tiers``."""
    body = await operations.json_body(request)
    db, clock = request.app[DB], request.app[CLOCK]
    manager_id = body.get("manager_id")
    manager = await db.managers.get(manager_id) if isinstance(manager_id, str) else None
    if manager is None or manager.level == "city":
        return web.json_response({"error": "no such province or group manager"}, status=404)
    tiers = body.get("tiers", [])
    if not isinstance(tiers, list) or not all(isinstance(t, str) for t in tiers):
        raise operations.OperationError("tiers: a list of tiers")
    scope = await scope_of(db, manager.id)
    try:
        broadcast = checked_broadcast(body, tiers, scope.manager_ids, created_by=manager.id, created_at=clock.now())
        queued = await queue_broadcast(db, broadcast, clock.today())
    except BroadcastRefused as exc:
        raise operations.OperationError(str(exc)) from None
    return operations.answer(as_json(queued), clock.tz, status=201)


async def admin_broadcasts(request: web.Request) -> web.Response:
    return operations.answer({"broadcasts": [as_json(b) for b in await request.app[DB].broadcasts.recent()]},
                             request.app[CLOCK].tz)


async def admin_cancel_broadcast(request: web.Request) -> web.Response:
    db, broadcast_id = request.app[DB], request.match_info["broadcast_id"]
    if await db.broadcasts.get(broadcast_id) is None:
        return web.json_response({"error": "no such broadcast"}, status=404)
    actor = operations.actor_of(await operations.json_body(request))
    if not await db.broadcasts.cancel(broadcast_id, request.app[CLOCK].now(), actor):
        return web.json_response({"error": f"broadcast {broadcast_id} is sent or cancelled already"}, status=409)
    return web.json_response({"id": broadcast_id, "status": "cancelled"})


def setup_outreach_api(app: web.Application) -> None:
    app.router.add_post("/admin/visits", admin_record_visit)
    app.router.add_get("/admin/visits/due", admin_visits_due)
    app.router.add_post("/admin/broadcasts", admin_queue_broadcast)
    app.router.add_get("/admin/broadcasts", admin_broadcasts)
    app.router.add_post("/admin/broadcasts/{broadcast_id}/cancel", admin_cancel_broadcast)
