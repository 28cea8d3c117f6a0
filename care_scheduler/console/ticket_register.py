"""The ticket register page (工单台账) and its CSV and XLSX downloads (``care_scheduler.ticket_register``)."""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from aiohttp import web

from care_scheduler import kpis
from care_scheduler.app_keys import CLOCK
from care_scheduler.console.pages import db_of, download, manager_names, render, viewer
from care_scheduler.ticket_register import KINDS, ticket_register
from carecore.model import month_key
from carecore.months import shift_month
from carecore.texts import label

COLUMNS = ("ticket_id", "kind", "customer_id", "company", "contact", "category", "priority", "opened_at",
           "response_due", "restore_due", "deadlines", "status", "resolved_at", "survey_score", "followup", "manager")
HEADERS_ZH = ("工单号", "类型", "客户编号", "客户", "联系人", "投诉类别", "优先级", "受理时间", "响应/答复时限", "修复时限",
              "时限达成", "状态", "解决时间", "满意度评分", "回访", "客户经理")
SHOWN = 200  # on the page; the downloads hold every one


def _kind(request: web.Request) -> Optional[str]:
    kind = request.query.get("kind", "")
    return kind if kind in KINDS else None


async def ticket_register_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    clock = request.app[CLOCK]
    month, kind = kpis.month_shown(request.query.get("month"), clock), _kind(request)
    rows = await ticket_register(db_of(request), clock, seen.scope.manager_ids, month, kind)
    counts = {o: sum(1 for r in rows if r.deadlines == o) for o in ("met", "missed", "pending")}
    return render(request, "ticket_register.html", seen.lang, seen.session, seen.manager, rows=rows[:SHOWN],
                  total=len(rows), counts=counts, month=month, kind=kind or "", previous=shift_month(month, -1),
                  next_month=shift_month(month, 1), current=month_key(clock.today()),
                  manager_name=await manager_names(db_of(request)))


async def ticket_register_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    lang, clock = seen.lang, request.app[CLOCK]
    month, kind = kpis.month_shown(request.query.get("month"), clock), _kind(request)
    manager_name = await manager_names(db_of(request))

    def when(moment: Optional[datetime]) -> str:
        return moment.astimezone(clock.tz).strftime("%Y-%m-%d %H:%M") if moment else ""

    def named(kind_of: str, value: Optional[str]) -> str:
        return label(kind_of, value, lang) if value else ""

    cells = []
    for r in await ticket_register(db_of(request), clock, seen.scope.manager_ids, month, kind):
        t, sla = r.ticket, r.ticket.sla
        cells.append([
            t.id, named("ticket_kind", t.kind), t.customer_id, r.company, r.contact,
            named("complaint_category", t.category), named("priority", t.priority), when(t.created_at), when(sla.response_due if sla else None),
            when(sla.restore_due if sla else None), named("sla_outcome", r.deadlines), named("ticket_status", t.status),
            when(t.resolved_at), str(t.survey.score) if t.survey and t.survey.score else "",
            named("followup_state", r.followup), manager_name(t.manager_id) if t.manager_id else ""])
    name = f"tickets-{month}" + (f"-{kind}" if kind else "")
    return download(request.match_info["format"], name, HEADERS_ZH if lang == "zh" else COLUMNS, cells)
