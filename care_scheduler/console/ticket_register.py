"""The ticket register (工单台账): every complaint and fault opened in a month within the viewer's scope, with
its deadlines and whether they were met, its outcome, score and follow-up: the rows behind the KPIs' complaint
and SLA figures, for the monthly report to the level above."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Sequence

from aiohttp import web

from care_scheduler import kpis
from care_scheduler.app_keys import CLOCK
from care_scheduler.console.pages import Viewer, db_of, download, manager_names, render, viewer
from care_scheduler.errors import OperationError
from carecore.model import Ticket
from carecore.months import shift_month
from carecore.texts import label

COLUMNS = ("ticket_id", "kind", "customer_id", "company", "contact", "category", "priority", "opened_at",
           "response_due", "restore_due", "deadlines", "status", "resolved_at", "survey_score", "followup", "manager")
HEADERS_ZH = ("工单号", "类型", "客户编号", "客户", "联系人", "投诉类别", "优先级", "受理时间", "响应/答复时限", "修复时限",
              "时限达成", "状态", "解决时间", "满意度评分", "回访", "客户经理")
KINDS = ("complaint", "fault")
SHOWN = 200  # on the page; the downloads hold every one


def _month(request: web.Request) -> str:
    clock = request.app[CLOCK]
    try:
        return kpis.parse_month_param(request.query.get("month"), clock)
    except OperationError:
        return kpis.parse_month_param(None, clock)


def _kind(request: web.Request) -> Optional[str]:
    kind = request.query.get("kind", "")
    return kind if kind in KINDS else None


def _followup(ticket: Ticket) -> str:
    if ticket.followup is None:
        return ""
    return "done" if ticket.followup.done_at else "owed"


async def _rows(request: web.Request, seen: Viewer, month: str, kind: Optional[str]) -> List[Dict[str, Any]]:
    db, clock = db_of(request), request.app[CLOCK]
    ids: Optional[Sequence[str]] = None
    if seen.scope.manager_ids is not None:
        ids = await db.customers.ids_for_managers(seen.scope.manager_ids)
    start, end = kpis.month_span(month, clock)
    tickets = [t async for t in db.tickets.opened_between(start, end, ids) if kind is None or t.kind == kind]
    customers = {doc["_id"]: doc async for doc in db.customers.profiles(sorted({t.customer_id for t in tickets}))}
    manager_name, now = await manager_names(db), clock.now()
    rows = []
    for t in tickets:
        customer = customers.get(t.customer_id, {})
        contact = next((c["name"] for c in customer.get("contacts", []) if c["contact_id"] == t.contact_id), "")
        rows.append({"ticket": t, "company": customer.get("company_name", t.customer_id), "contact": contact,
                     "deadlines": t.sla.outcome(now) if t.sla else "", "followup": _followup(t),
                     "manager": manager_name(t.manager_id) if t.manager_id else ""})
    return rows


async def ticket_register_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    month, kind = _month(request), _kind(request)
    rows = await _rows(request, seen, month, kind)
    counts = {o: sum(1 for r in rows if r["deadlines"] == o) for o in ("met", "missed", "pending")}
    return render(request, "ticket_register.html", seen.lang, seen.session, seen.manager, rows=rows[:SHOWN],
                  total=len(rows), counts=counts, month=month, kind=kind or "", previous=shift_month(month, -1),
                  next_month=shift_month(month, 1), current=kpis.parse_month_param(None, request.app[CLOCK]))


async def ticket_register_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    month, kind, lang = _month(request), _kind(request), seen.lang
    local = request.app[CLOCK].tz

    def when(moment: Any) -> str:
        return moment.astimezone(local).strftime("%Y-%m-%d %H:%M") if moment else ""

    cells = []
    for r in await _rows(request, seen, month, kind):
        t: Ticket = r["ticket"]
        cells.append([
            t.id, label("ticket_kind", t.kind, lang), t.customer_id, r["company"], r["contact"],
            label("complaint_category", t.category, lang) if t.category else "", label("priority", t.priority, lang),
            when(t.created_at), when(t.sla.response_due if t.sla else None), when(t.sla.restore_due if t.sla else None),
            label("sla_outcome", r["deadlines"], lang) if r["deadlines"] else "", label("ticket_status", t.status, lang),
            when(t.resolved_at), str(t.survey.score) if t.survey and t.survey.score else "",
            label("followup_state", r["followup"], lang) if r["followup"] else "", r["manager"]])
    name = f"tickets-{month}" + (f"-{kind}" if kind else "")
    return download(request.match_info["format"], name, HEADERS_ZH if lang == "zh" else COLUMNS, cells)
