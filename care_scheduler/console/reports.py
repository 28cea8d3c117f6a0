"""The birthday report (生日报表): contacts in scope born in a month, lunar birthdays on that year's dates.

A day's birthdays are exactly those the birthday campaign greets that day (Feb 29 on Feb 28 in a
common year, a lunar 30th on a short month's 29th), so the report lists what the campaign will send.
"""

from __future__ import annotations

import calendar
from datetime import date
from typing import Any, Dict, List

from aiohttp import web

from care_scheduler.app_keys import CLOCK
from care_scheduler.calendar import birthdays_greeted, is_birthday
from care_scheduler.console.pages import Viewer, db_of, download, manager_names, render, viewer
from care_scheduler.dataio import values as v
from carecore.model import Customer
from carecore.months import shift_month
from carecore.texts import label

COLUMNS = ("date", "name", "company", "tier", "role", "manager", "birthday", "calendar")
HEADERS_ZH = ("日期", "姓名", "公司", "等级", "职务", "客户经理", "生日", "历法")


def _month(request: web.Request, today: date) -> str:
    try:
        return v.month(request.query.get("month", ""))
    except v.CellError:
        return f"{today.year:04d}-{today.month:02d}"


def days_of(month: str) -> List[date]:
    year, number = int(month[:4]), int(month[5:])
    return [date(year, number, d) for d in range(1, calendar.monthrange(year, number)[1] + 1)]


async def birthday_rows(request: web.Request, seen: Viewer, days: List[date]) -> List[Dict[str, Any]]:
    """The contacts in scope whose birthday falls on these days by the campaign's rules, by day, company and
    name; opted-out contacts too, since a manager may still call them."""
    db = db_of(request)
    selections = [s for day in days for s in birthdays_greeted(day)]
    manager_name = await manager_names(db)
    rows: List[Dict[str, Any]] = []
    async for doc in db.customers.with_birthday_in(selections):
        customer = Customer.from_stored(doc)
        if not seen.scope.covers(customer):
            continue
        for contact in customer.contacts:
            for day in days:
                if contact.birthday is not None and is_birthday(contact.birthday, day):
                    kept, kind = v.format_birthday(contact.birthday.dict())
                    rows.append({"date": day, "name": contact.name, "company": customer.company_name,
                                 "tier": contact.tier, "role": contact.role, "customer_id": customer.id,
                                 "manager": manager_name(customer.account_manager_id),
                                 "birthday": kept, "calendar": kind})
    rows.sort(key=lambda r: (r["date"], r["company"], r["name"]))
    return rows


async def birthdays_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    month = _month(request, request.app[CLOCK].today())
    return render(request, "birthdays.html", seen.lang, seen.session, seen.manager, month=month,
                  rows=await birthday_rows(request, seen, days_of(month)), previous=shift_month(month, -1),
                  next_month=shift_month(month, 1))


async def birthdays_download(request: web.Request) -> web.Response:
    seen = await viewer(request)
    month = _month(request, request.app[CLOCK].today())
    fmt = request.match_info["format"]
    rows = await birthday_rows(request, seen, days_of(month))
    headers = HEADERS_ZH if seen.lang == "zh" else COLUMNS
    cells = [[r["date"].isoformat(), r["name"], r["company"], label("tier", r["tier"], seen.lang), r["role"],
              r["manager"], r["birthday"], label("birthday_calendar", r["calendar"], seen.lang)] for r in rows]
    return download(fmt, f"birthdays-{month}", headers, cells)

