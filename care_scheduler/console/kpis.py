"""The KPI dashboard: the viewer's scope for a month, its parts, twelve-month trends with the targets drawn,
figures off target marked, and CSV or XLSX downloads of the same table."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from aiohttp import web

from care_scheduler import kpis
from care_scheduler.app_keys import CLOCK
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import Viewer, db_of, download, render, viewer
from carecore.kpis import shown
from carecore.months import shift_month

# The rows of the dashboard and its downloads: (figure, how it is shown).
ROWS = (("accounts", "count"), ("complaints", "count"), ("complaint_rate", "pct"), ("compliments", "count"),
        ("satisfaction", "pct"),
        ("survey_response_rate", "pct"), ("sla_compliance", "pct"), ("mean_time_to_restore_hours", "hours"),
        ("followups_on_time", "pct"), ("care_delivery_rate", "pct"), ("conversations", "count"),
        ("containment", "pct"), ("fallback_rate", "pct"), ("verification_success", "pct"))
CHARTS = (("complaint_rate", 0.05), ("satisfaction", 0.90), ("sla_compliance", None))


def trend_svg(points: Sequence[Optional[float]], target: Optional[float], *, width: int = 360,
              height: int = 120) -> str:
    """A small line chart of twelve monthly ratios (0-100 %), the target as a dashed line; no JavaScript."""
    top = max([p for p in points if p is not None] + [target or 0, 0.01]) * 1.15
    step = width / max(len(points) - 1, 1)

    def y(value: float) -> float:
        return round(height - value / top * height, 1)

    coords = [(round(i * step, 1), y(p)) for i, p in enumerate(points) if p is not None]
    line = " ".join(f"{x},{yy}" for x, yy in coords)
    dots = "".join(f'<circle cx="{x}" cy="{yy}" r="3"/>' for x, yy in coords)
    goal = (f'<line class="target" x1="0" x2="{width}" y1="{y(target)}" y2="{y(target)}"/>'
            if target is not None else "")
    return (f'<svg class="trend" viewBox="-6 -6 {width + 12} {height + 12}" width="{width}" height="{height}" '
            f'role="img">{goal}<polyline points="{line}"/>{dots}</svg>')


async def _report(request: web.Request, seen: Viewer) -> Dict[str, Any]:
    clock = request.app[CLOCK]
    month = kpis.month_shown(request.query.get("month"), clock)
    return await kpis.report(db_of(request), clock, await kpis.scope_of(db_of(request), seen.manager.id), month)


def _table(report: Dict[str, Any]) -> List[Dict[str, Any]]:
    columns = [(report["scope"]["name"], report["figures"], report["off_target"])]
    columns += [(p["name"], p["figures"], p["off_target"]) for p in report["parts"]]
    return [{"figure": name, "cells": [(shown(figs.get(name), how), name in missed) for _, figs, missed in columns]}
            for name, how in ROWS] + [{"names": [c[0] for c in columns]}]


async def kpis_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    report = await _report(request, seen)
    table = _table(report)
    charts = [(name, trend_svg([m[name] for m in report["trend"]], target), target) for name, target in CHARTS]
    return render(request, "kpis.html", seen.lang, seen.session, seen.manager, report=report, rows=table[:-1],
                  names=table[-1]["names"], charts=charts, months=[m["month"] for m in report["trend"]],
                  previous=shift_month(report["month"], -1), next_month=shift_month(report["month"], 1))


async def kpis_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    report = await _report(request, seen)
    table = _table(report)
    fmt = request.match_info["format"]
    t = translator(seen.lang)
    return download(fmt, f"kpis-{report['month']}", [t("kpi_figure")] + table[-1]["names"],
                    [[t(f"kpi_{row['figure']}")] + [cell for cell, _ in row["cells"]] for row in table[:-1]])
