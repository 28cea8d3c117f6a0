"""Planned maintenance in the console: province and group managers announce, change and cancel windows.

The same operations as the admin API (``care_scheduler.maintenance``), within the manager's scope: a
province manager sees and announces windows for their own customers only. City managers have no such
page (404), as for the team page.
"""

from __future__ import annotations

from typing import Any, Dict, Optional

from aiohttp import web

from care_scheduler import maintenance
from care_scheduler.app_keys import CLOCK
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import PREFIX, Viewer, above_city, db_of, form, not_found, redirect, render
from care_scheduler.operations import OperationError
from carecore.model import CircuitType, MaintenanceWindow

BLANK = {"circuit_ids": "", "type": "", "province": "", "city": "", "start": "", "end": "", "impact": "interrupted",
         "description_zh": "", "description_en": ""}


async def _in_scope(request: web.Request, seen: Viewer, window: Optional[MaintenanceWindow]) -> MaintenanceWindow:
    if window is None:
        not_found()
    if seen.scope.manager_ids is not None:
        mine = set(await seen.scope.customer_ids(db_of(request)) or [])
        if not mine & set(window.customer_ids):
            not_found()
    return window


def _page(request: web.Request, seen: Viewer, windows: list, values: Dict[str, Any], *, window: Any = None,
          error: Optional[str] = None) -> web.Response:
    now = request.app[CLOCK].now()
    return render(request, "maintenance.html", seen.lang, seen.session, seen.manager, status=400 if error else 200,
                  windows=windows, window=window, values=values, error=error, now=now,
                  circuit_types=[t.value for t in CircuitType])


async def _visible(request: web.Request, seen: Viewer) -> list:
    windows = await db_of(request).maintenance.recent()
    if seen.scope.manager_ids is None:
        return windows
    mine = set(await seen.scope.customer_ids(db_of(request)) or [])
    return [w for w in windows if mine & set(w.customer_ids)]


def _values_of(window: MaintenanceWindow, tz: Any) -> Dict[str, Any]:
    return {"start": window.start.astimezone(tz).strftime("%Y-%m-%dT%H:%M"),
            "end": window.end.astimezone(tz).strftime("%Y-%m-%dT%H:%M"), "impact": window.impact,
            "description_zh": window.description_zh, "description_en": window.description_en}


async def maintenance_page(request: web.Request) -> web.Response:
    seen = await above_city(request)
    defaults = {**BLANK, "province": seen.manager.region.province if seen.manager.level == "province" else ""}
    return _page(request, seen, await _visible(request, seen), defaults)


async def window_page(request: web.Request) -> web.Response:
    seen = await above_city(request)
    window = await _in_scope(request, seen, await db_of(request).maintenance.get(request.match_info["window_id"]))
    return _page(request, seen, [], _values_of(window, request.app[CLOCK].tz), window=window)


async def announce(request: web.Request) -> web.Response:
    seen = await above_city(request)
    posted = await form(request, seen.session)
    given = {k: posted.get(k, "").strip() for k in maintenance.FIELDS}
    try:
        window = await maintenance.announce(db_of(request), request.app[CLOCK], given,
                                            actor=seen.manager.id, scope=seen.scope)
    except OperationError as exc:
        return _page(request, seen, await _visible(request, seen), given, error=str(exc))
    redirect(seen.session, f"{PREFIX}/maintenance/{window.id}", translator(seen.lang)("announced").format(id=window.id))


async def window_action(request: web.Request) -> web.Response:
    seen = await above_city(request)
    db, clock = db_of(request), request.app[CLOCK]
    window = await _in_scope(request, seen, await db.maintenance.get(request.match_info["window_id"]))
    posted = await form(request, seen.session)
    back = f"{PREFIX}/maintenance/{window.id}"
    try:
        if request.match_info["action"] == "cancel":
            await maintenance.cancel(db, clock, window.id, scope=seen.scope)
        else:
            given = {k: posted[k].strip() for k in ("start", "end", "impact", "description_zh", "description_en")
                     if posted.get(k, "").strip()}
            await maintenance.change(db, clock, window.id, given, actor=seen.manager.id, scope=seen.scope)
    except OperationError as exc:
        return _page(request, seen, [], {**_values_of(window, clock.tz), **posted}, window=window, error=str(exc))
    redirect(seen.session, back, translator(seen.lang)("done"))
