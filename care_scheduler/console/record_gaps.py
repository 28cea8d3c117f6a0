"""Record gaps (资料缺口): the accounts in scope whose records keep care from reaching them, by gap."""

from __future__ import annotations

from typing import Any, Dict, List, Optional

from aiohttp import web

from care_scheduler.app_keys import CLOCK
from care_scheduler.console.i18n import text
from care_scheduler.console.pages import Viewer, db_of, download, manager_names, render, viewer
from care_scheduler.record_gaps import GAPS, record_gaps

COLUMNS = ("customer_id", "company", "manager", "contacts", "without_birthday", *GAPS)
HEADERS_ZH = ("客户编号", "客户", "客户经理", "联系人数", "缺生日人数", *[text(f"gap_{gap}", "zh") for gap in GAPS])
SHOWN = 200  # on the page; the downloads hold every one


def _wanted(request: web.Request) -> Optional[str]:
    gap = request.query.get("gap", "")
    return gap if gap in GAPS else None


async def _rows(request: web.Request, seen: Viewer) -> List[Dict[str, Any]]:
    db = db_of(request)
    manager_name = await manager_names(db)
    return [{"customer_id": g.customer_id, "company": g.company, "contacts": g.contacts, "gaps": g.gaps,
             "manager": manager_name(g.manager_id), "without_birthday": g.without_birthday}
            for g in await record_gaps(db, seen.scope.manager_ids)]


async def record_gaps_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    rows, wanted = await _rows(request, seen), _wanted(request)
    counts = {gap: sum(1 for r in rows if gap in r["gaps"]) for gap in GAPS}
    shown = [r for r in rows if wanted is None or wanted in r["gaps"]]
    return render(request, "record_gaps.html", seen.lang, seen.session, seen.manager, rows=shown[:SHOWN],
                  total=len(shown), counts=counts, wanted=wanted or "")


async def record_gaps_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    wanted = _wanted(request)
    yes = text("yes", seen.lang)
    cells = [[r["customer_id"], r["company"], r["manager"], str(r["contacts"]), str(r["without_birthday"]),
              *[yes if gap in r["gaps"] else "" for gap in GAPS]]
             for r in await _rows(request, seen) if wanted is None or wanted in r["gaps"]]
    day = request.app[CLOCK].today().isoformat()
    return download(request.match_info["format"], f"record-gaps-{day}", HEADERS_ZH if seen.lang == "zh" else COLUMNS,
                    cells)
