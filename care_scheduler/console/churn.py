"""The churn watch (离网预警): the customers in scope whose billing fell, open complaints first, with downloads."""

from __future__ import annotations

from typing import Any, Dict, List, Tuple

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.churn import ChurnWatch, churn_of_managers
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
from carecore.model import ChangeSource

COLUMNS = ("customer_id", "company", "manager", "earlier_monthly_yuan", "recent_monthly_yuan", "drop_percent",
           "open_complaint", "said_leaving_on")
HEADERS_ZH = ("客户编号", "客户", "客户经理", "前三个月月均（元）", "近三个月月均（元）", "下降（%）", "有未结投诉",
              "表示要离网日期")
SHOWN = 200  # on the page; the downloads hold every one


async def _rows(request: web.Request, seen: Viewer) -> Tuple[ChurnWatch, List[Dict[str, Any]]]:
    db = db_of(request)
    watch = await churn_of_managers(db, request.app[SETTINGS].churn_drop_percent, request.app[CLOCK].today(),
                                    seen.scope.manager_ids)
    ids = [d.customer_id for d in watch.drops]
    listed = await db.customers.names_and_managers(ids)
    manager_name = await manager_names(db)
    tz = request.app[CLOCK].tz
    rows = [{"customer_id": d.customer_id, "company": listed[d.customer_id][0],
             "manager": manager_name(listed[d.customer_id][1]), "earlier": d.earlier_fen,
             "recent": d.recent_fen, "drop": d.drop_percent, "open_complaint": d.open_complaint,
             "said_leaving": d.said_leaving_at.astimezone(tz).date().isoformat() if d.said_leaving_at else ""}
            for d in watch.drops if d.customer_id in listed]  # customers since removed have no row
    return watch, rows


async def churn_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    watch, rows = await _rows(request, seen)
    return render(request, "churn.html", seen.lang, seen.session, seen.manager, rows=rows[:SHOWN], total=len(rows),
                  recent=watch.recent, earlier=watch.earlier, threshold=request.app[SETTINGS].churn_drop_percent)


async def churn_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    watch, rows = await _rows(request, seen)
    fmt = request.match_info["format"]
    yes, no = ("是", "") if seen.lang == "zh" else ("yes", "")
    cells = [[r["customer_id"], r["company"], r["manager"], f"{r['earlier'] / 100:.2f}", f"{r['recent'] / 100:.2f}",
              str(r["drop"]), yes if r["open_complaint"] else no, r["said_leaving"]] for r in rows]
    return download(fmt, f"churn-{watch.recent[0]}", HEADERS_ZH if seen.lang == "zh" else COLUMNS, cells)


async def churn_kept(request: web.Request) -> web.Response:
    """The manager kept a customer who said they would leave (the call went well, the contract is renewed): the
    mark comes off the watch, which otherwise holds it for 180 days. A bill that fell keeps the account listed."""
    seen = await viewer(request)
    await form(request, seen.session)
    customer = await customer_in_scope(request, seen)
    cleared = await db_of(request).escalations.mark_kept(customer.id, request.app[CLOCK].now(), seen.manager.id,
                                                         ChangeSource.console)
    t = translator(seen.lang)
    redirect(seen.session, f"{PREFIX}/reports/churn", t("done") if cleared else t("kept_nothing"))
