"""Customer visits (客户拜访): recording a visit from the customer page, and the accounts in scope due for one."""

from __future__ import annotations

from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import (
    PREFIX,
    Viewer,
    customer_in_scope,
    db_of,
    download,
    form,
    manager_names,
    redirect,
    render,
    viewer,
)
from care_scheduler.visits import VisitRefused, record_visit, visits_due
from carecore.model import Customer

FIELDS = ("visited_on", "notes", "next_step")
REFUSALS = {"visited_on": "visit_day_refused", "contact_ids": "choose_contact", "notes": "visit_notes_refused",
            "next_step": "visit_next_step_refused", "recorded": "visit_already_recorded"}
COLUMNS = ("customer_id", "company", "manager", "every_days", "last_visit", "due_on", "days_overdue")
HEADERS_ZH = ("客户编号", "客户", "客户经理", "拜访周期（天）", "上次拜访", "应拜访日期", "逾期天数")
SHOWN = 200  # on the page; the downloads hold every one


def _form_page(request: web.Request, seen: Viewer, customer: Customer, values: Dict[str, Any],
               error: Optional[str] = None, status: int = 200) -> web.Response:
    return render(request, "visit_new.html", seen.lang, seen.session, seen.manager, status=status,
                  customer=customer, values=values, error=error)


async def visit_form(request: web.Request) -> web.Response:
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    return _form_page(request, seen, customer, {"visited_on": request.app[CLOCK].today().isoformat(),
                                                "contact_ids": []})


async def visit_save(request: web.Request) -> web.Response:
    """Record the manager's visit; nothing is written unless every field is right."""
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    posted = await form(request, seen.session)
    values: Dict[str, Any] = {name: posted.get(name) or "" for name in FIELDS}
    values["contact_ids"] = [str(c) for c in (await request.post()).getall("contact_id", [])]
    t = translator(seen.lang)
    try:
        await record_visit(db_of(request), customer, seen.manager.id, visited_on=values["visited_on"],
                           contact_ids=values["contact_ids"], notes=values["notes"], next_step=values["next_step"],
                           today=request.app[CLOCK].today())
    except VisitRefused as exc:
        return _form_page(request, seen, customer, values, t(REFUSALS[exc.reason]), status=400)
    redirect(seen.session, f"{PREFIX}/customers/{customer.id}", t("visit_recorded"))


async def _due_rows(request: web.Request, seen: Viewer) -> List[Dict[str, Any]]:
    db, settings, today = db_of(request), request.app[SETTINGS], request.app[CLOCK].today()
    due = await visits_due(db, settings.visit_every_days, today, ZoneInfo(settings.timezone), seen.scope.manager_ids)
    manager_name = await manager_names(db)
    return [{"customer_id": v.customer_id, "company": v.company, "manager": manager_name(v.manager_id),
             "every": v.every, "last_visit": v.last_visit.isoformat() if v.last_visit else "",
             "due_on": v.due_on.isoformat(),
             "days": v.days_overdue(today)} for v in due]


async def visits_due_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    rows = await _due_rows(request, seen)
    return render(request, "visits.html", seen.lang, seen.session, seen.manager, rows=rows[:SHOWN], total=len(rows),
                  every=request.app[SETTINGS].visit_every_days)


async def visits_due_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    rows = await _due_rows(request, seen)
    cells = [[r["customer_id"], r["company"], r["manager"], str(r["every"]), r["last_visit"], r["due_on"],
              str(r["days"])] for r in rows]
    day = request.app[CLOCK].today().isoformat()
    return download(request.match_info["format"], f"visits-due-{day}", HEADERS_ZH if seen.lang == "zh" else COLUMNS,
                    cells)

