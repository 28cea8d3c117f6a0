"""The admin API's maintenance windows: what a network operations system posts when it plans work.

``POST /admin/maintenance`` announces, ``POST /admin/maintenance/{id}`` changes (only the fields given),
``POST /admin/maintenance/{id}/cancel`` cancels, ``GET /admin/maintenance[/{id}]`` reads. A bad window is
a 400 naming the field (``OperationError``, handled by the admin middleware); the notices follow from
the maintenance job (``care_scheduler.maintenance_notices``).
"""

from __future__ import annotations

from typing import Any, Dict

from aiohttp import web

from care_scheduler import maintenance
from care_scheduler.app_keys import CLOCK, DB
from care_scheduler.operations import actor_of, answer, json_body
from carecore.model import MaintenanceWindow


def as_json(window: MaintenanceWindow) -> Dict[str, Any]:
    """The window as the API returns it: ``id``, ``selection``, ``circuit_ids``, ``customer_ids``, ``start``,
    ``end``, ``impact``, ``description_zh``, ``description_en``, ``announced_by``, ``version``,
    ``cancelled_at``, ``created_at``, ``updated_at`` (ISO 8601)."""
    data = window.dict(by_alias=False)
    return {"id": data.pop("id"), **data}


def _fields(body: Dict[str, Any]) -> Dict[str, Any]:
    return {k: v for k, v in body.items() if k != "actor"}


async def list_windows(request: web.Request) -> web.Response:
    windows = await request.app[DB].maintenance.recent()
    return answer({"windows": [as_json(w) for w in windows]}, request.app[CLOCK].tz)


async def get_window(request: web.Request) -> web.Response:
    window = await request.app[DB].maintenance.get(request.match_info["window_id"])
    if window is None:
        return web.json_response({"error": "no such maintenance window"}, status=404)
    return answer(as_json(window), request.app[CLOCK].tz)


async def announce(request: web.Request) -> web.Response:
    body = await json_body(request)
    window = await maintenance.announce(request.app[DB], request.app[CLOCK], _fields(body),
                                        actor=actor_of(body))
    return answer(as_json(window), request.app[CLOCK].tz, status=201)


async def change_or_cancel(request: web.Request) -> web.Response:
    db, clock, window_id = request.app[DB], request.app[CLOCK], request.match_info["window_id"]
    try:
        if request.match_info.get("action") == "cancel":
            window = await maintenance.cancel(db, clock, window_id)
        else:
            body = await json_body(request)
            window = await maintenance.change(db, clock, window_id, _fields(body), actor=actor_of(body))
    except LookupError:
        return web.json_response({"error": "no such maintenance window"}, status=404)
    return answer(as_json(window), request.app[CLOCK].tz)


def setup_maintenance_api(app: web.Application) -> None:
    app.router.add_get("/admin/maintenance", list_windows)
    app.router.add_post("/admin/maintenance", announce)
    app.router.add_get("/admin/maintenance/{window_id}", get_window)
    app.router.add_post("/admin/maintenance/{window_id}", change_or_cancel)
    app.router.add_post("/admin/maintenance/{window_id}/{action:cancel}", change_or_cancel)
