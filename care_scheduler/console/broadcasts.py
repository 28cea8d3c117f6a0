"""Broadcasts in the console: province and group managers write a notice or a promotion for contacts in their
scope, see who it reaches and what it costs, send it, and cancel it before the broadcast job takes it.

City managers have no such page (404), as for maintenance.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.broadcasts import (
    FIELDS,
    BroadcastPreview,
    BroadcastRefused,
    checked_broadcast,
    preview_broadcast,
    queue_broadcast,
)
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import PREFIX, Viewer, above_city, db_of, form, not_found, redirect, render
from carecore.model import Broadcast, CircuitType, CustomerClass, Tier


async def _visible(request: web.Request, seen: Viewer) -> List[Broadcast]:
    broadcasts = await db_of(request).broadcasts.recent()
    if seen.scope.manager_ids is None:
        return broadcasts
    return [b for b in broadcasts if b.created_by in seen.scope.manager_ids]


async def _page(request: web.Request, seen: Viewer, values: Dict[str, Any], tiers: List[str], *,
                preview: Optional[BroadcastPreview] = None, error: Optional[str] = None) -> web.Response:
    return render(request, "broadcasts.html", seen.lang, seen.session, seen.manager, status=400 if error else 200,
                  broadcasts=await _visible(request, seen), values=values, tiers=tiers, preview=preview, error=error,
                  price=request.app[SETTINGS].sms_price_per_segment, classes=[c.value for c in CustomerClass],
                  circuit_types=[t.value for t in CircuitType], all_tiers=[t.value for t in Tier])


async def broadcasts_page(request: web.Request) -> web.Response:
    seen = await above_city(request)
    return await _page(request, seen, {**{name: "" for name in FIELDS}, "purpose": "notice"}, [])


async def _posted(request: web.Request, seen: Viewer) -> tuple[Dict[str, Any], List[str]]:
    posted = await form(request, seen.session)
    tiers = [str(t) for t in (await request.post()).getall("tier", [])]
    return {name: posted.get(name, "") for name in FIELDS}, tiers


async def broadcast_send(request: web.Request) -> web.Response:
    """Preview (``action=preview``) or send; nothing is written unless every field fits."""
    seen = await above_city(request)
    values, tiers = await _posted(request, seen)
    db, clock = db_of(request), request.app[CLOCK]
    preview_only = (await request.post()).get("action") != "send"
    try:
        broadcast = checked_broadcast(values, tiers, seen.scope.manager_ids, created_by=seen.manager.id,
                                      created_at=clock.now())
        if preview_only:
            found = await preview_broadcast(db, request.app[SETTINGS], broadcast, clock.now())
            return await _page(request, seen, values, tiers, preview=found)
        await queue_broadcast(db, broadcast, clock.today())
    except BroadcastRefused as exc:
        return await _page(request, seen, values, tiers, error=f"{translator(seen.lang)('broadcast_refused')} {exc}")
    redirect(seen.session, f"{PREFIX}/broadcasts", translator(seen.lang)("broadcast_queued"))


async def broadcast_cancel(request: web.Request) -> web.Response:
    seen = await above_city(request)
    await form(request, seen.session)
    broadcast_id = request.match_info["broadcast_id"]
    if broadcast_id not in {b.id for b in await _visible(request, seen)}:
        not_found()
    cancelled = await db_of(request).broadcasts.cancel(broadcast_id, request.app[CLOCK].now(), seen.manager.id)
    t = translator(seen.lang)
    redirect(seen.session, f"{PREFIX}/broadcasts", t("done") if cancelled else t("broadcast_too_late"))
