"""Customer 360: a customer's profile, twelve months of bills, tickets and messages."""

from __future__ import annotations

from aiohttp import web

from care_scheduler.console.pages import db_of, not_found, render, viewer


async def customer_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    db = db_of(request)
    customer = await db.customers.get(request.match_info["customer_id"])
    if not seen.scope.covers(customer):
        not_found()
    assert customer is not None
    usage = list(reversed(await db.usage.history(customer.id, 12)))
    top = max((u.amount_fen for u in usage), default=0) or 1
    bars = [{"month": u.month, "amount": u.amount_fen, "height": round(160 * u.amount_fen / top)} for u in usage]
    return render(request, "customer.html", seen.lang, seen.session, seen.manager, customer=customer,
                  manager_of=await db.managers.get(customer.account_manager_id), bars=bars,
                  tickets=await db.tickets.for_customer(customer.id, limit=20),
                  sends=await db.sends.for_customer(customer.id, 30))
