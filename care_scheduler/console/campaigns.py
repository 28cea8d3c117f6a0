"""Campaigns, for group-level operators only (they reach every customer): preview, run, the month's chart."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from care_scheduler import operations
from care_scheduler.app_keys import CLOCK, JOBS, SETTINGS
from care_scheduler.charts import sends_per_day_png
from care_scheduler.console.pages import PREFIX, db_of, form, operator, render


async def campaigns_page(request: web.Request) -> web.Response:
    seen = await operator(request)
    db, settings, clock = db_of(request), request.app[SETTINGS], request.app[CLOCK]
    preview = error = None
    if request.query.get("kind"):
        try:
            kind = operations.parse_kind(request.query["kind"])
            day = operations.parse_day(request.query.get("date") or clock.today().isoformat())
            preview = await operations.preview(db, settings, kind, day, limit=10, now=clock.now())
        except operations.OperationError as exc:
            error = str(exc)
    report = await operations.report(db, settings, clock.today() - timedelta(days=29))
    return render(request, "campaigns.html", seen.lang, seen.session, seen.manager, kinds=operations.KINDS,
                  today=clock.today().isoformat(), preview=preview, error=error, report=report,
                  statuses=sorted({status for counts in report.values() for status in counts}),
                  result=seen.session.pop("run_result", None))


async def campaigns_run(request: web.Request) -> web.Response:
    seen = await operator(request)
    posted = await form(request, seen.session)
    try:
        kind = operations.parse_kind(posted.get("kind"))
        day = operations.parse_day(posted.get("date") or request.app[CLOCK].today().isoformat())
        report = await request.app[JOBS].run(kind, day, f"console:{seen.manager.id}",
                                             dry_run=posted.get("dry_run") == "1")
    except operations.OperationError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    seen.session["run_result"] = report.as_dict()
    raise web.HTTPSeeOther(f"{PREFIX}/campaigns")


async def campaigns_chart(request: web.Request) -> web.Response:
    await operator(request)
    db, settings, clock = db_of(request), request.app[SETTINGS], request.app[CLOCK]
    days = await operations.daily(db, settings, None, clock.today())
    return web.Response(body=sends_per_day_png(days), content_type="image/png",
                        headers={"Cache-Control": "no-store"})
