"""Arrears (欠费催缴): the accounts in scope with months unpaid past their due date, longest overdue first."""

from __future__ import annotations

from typing import Any, Dict, List

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.arrears import arrears_of_managers, reminders_held
from care_scheduler.console.i18n import text
from care_scheduler.console.pages import Viewer, db_of, download, manager_names, render, viewer
from carecore.model import Customer
from carecore.phones import as_dialled

COLUMNS = ("customer_id", "company", "manager", "billing_contact", "mobile", "months", "owed_yuan", "due_since",
           "days_overdue", "reminder_held")
HEADERS_ZH = ("客户编号", "客户", "客户经理", "账单联系人", "手机号码", "欠费账期", "欠费金额（元）", "最早缴费截止日",
              "逾期天数", "暂不催缴原因")
SHOWN = 200  # on the page; the downloads hold every one


async def _rows(request: web.Request, seen: Viewer) -> List[Dict[str, Any]]:
    db, today = db_of(request), request.app[CLOCK].today()
    found = await arrears_of_managers(db, request.app[SETTINGS].payment_due_days, today, seen.scope.manager_ids)
    held = await reminders_held(db, found)
    manager_name = await manager_names(db)
    by_id = {a.customer_id: a for a in found}
    rows = []
    async for doc in db.customers.profiles(list(by_id)):  # in the list's order, a batch at a time
        customer = Customer.from_stored(doc)
        arrears, contact = by_id[customer.id], customer.billing_contact()
        rows.append({"customer_id": customer.id, "company": customer.company_name,
                     "manager": manager_name(customer.account_manager_id),
                     "contact": contact.name if contact else "", "mobile": contact.mobile if contact else "",
                     "months": [m.month for m in arrears.months], "owed": arrears.owed_fen,
                     "due_since": arrears.oldest_due.isoformat(), "days": arrears.days_overdue(today),
                     "held": held.get(customer.id)})
    return rows


async def arrears_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    rows = await _rows(request, seen)
    return render(request, "arrears.html", seen.lang, seen.session, seen.manager, rows=rows[:SHOWN], total=len(rows),
                  owed=sum(r["owed"] for r in rows), due_days=request.app[SETTINGS].payment_due_days)


async def arrears_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    rows = await _rows(request, seen)
    cells = [[r["customer_id"], r["company"], r["manager"], r["contact"],
              as_dialled(r["mobile"]) if r["mobile"] else "", " ".join(r["months"]),
              f"{r['owed'] / 100:.2f}", r["due_since"], str(r["days"]),
              text(f"held_{r['held']}", seen.lang) if r["held"] else ""] for r in rows]
    day = request.app[CLOCK].today().isoformat()
    return download(request.match_info["format"], f"arrears-{day}", HEADERS_ZH if seen.lang == "zh" else COLUMNS,
                    cells)
