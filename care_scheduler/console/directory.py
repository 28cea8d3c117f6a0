"""The customer list: search and filters within the manager's scope, a page at a time."""

from __future__ import annotations

import re
from math import ceil
from urllib.parse import urlencode

from aiohttp import web

from care_scheduler.console.pages import db_of, render, viewer
from carecore.model import TICKET_ID_PATTERN, CustomerClass, Tier

PAGE_SIZE = 25
CLASSES = [c.value for c in CustomerClass] + ["high_value"]  # the classes, and the flag beside them
_TICKET = re.compile(TICKET_ID_PATTERN)


async def customers_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    db = db_of(request)
    scope_ids = sorted(seen.scope.manager_ids) if seen.scope.manager_ids is not None else None
    text = request.query.get("q", "").strip()[:100]
    wanted = {
        "class": request.query.get("class", "") if request.query.get("class") in CLASSES else "",
        "tier": request.query.get("tier", "") if request.query.get("tier") in set(Tier) else "",
        "city": request.query.get("city", "")[:32],
    }
    try:
        page = min(max(int(request.query.get("page", "1")), 1), 10_000)
    except ValueError:
        page = 1
    also = []
    if _TICKET.match(text.upper()):
        ticket = await db.tickets.get(text.upper())
        if ticket is not None:
            also.append(ticket.customer_id)
    total, rows = await db.customers.search(manager_ids=scope_ids, text=text, customer_class=wanted["class"],
                                            tier=wanted["tier"], city=wanted["city"], also_ids=also,
                                            skip=(page - 1) * PAGE_SIZE, limit=PAGE_SIZE)
    names = {m.id: m.name for m in await db.managers.all()}

    def link(to_page: int) -> str:
        return "?" + urlencode({"q": text, **wanted, "page": to_page})
    return render(request, "customers.html", seen.lang, seen.session, seen.manager, rows=rows, total=total,
                  page=page, pages=max(ceil(total / PAGE_SIZE), 1), text=text, wanted=wanted, link=link,
                  classes=CLASSES, tiers=list(Tier), cities=await db.customers.cities(scope_ids),
                  manager_names=names)
