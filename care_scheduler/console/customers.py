"""Customer 360: a customer's profile, twelve months of bills, tickets, compliments, messages and the history of its
records."""

from __future__ import annotations

from typing import Any, Dict, List
from zoneinfo import ZoneInfo

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.arrears import arrears_watch
from care_scheduler.churn import churn_watch
from care_scheduler.console.pages import customer_in_scope, db_of, render, viewer
from care_scheduler.visits import next_visit_on
from carecore.credits import fault_credit_fen, owed_back
from carecore.identity import hide_codes
from carecore.model import SendRecord, acting_manager

CREDITS_SHOWN = 10  # the credits on the latest bills the page lists; the others are counted
COMPLIMENTS_SHOWN = 10


def shown(sends: List[SendRecord]) -> List[Dict[str, Any]]:
    """Messages as the page lists them: a one-time code is never shown, even to the account manager; a text
    past its retention or erased is None."""
    return [{"record": m, "body": hide_codes(m.body) if m.kind == "otp" and m.body else m.body}
            for m in sends]


async def customer_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    db = db_of(request)
    customer = await customer_in_scope(request, seen)
    usage = list(reversed(await db.usage.history(customer.id, 12)))
    top = max((u.amount_fen for u in usage), default=0) or 1
    bars = [{"month": u.month, "amount": u.amount_fen, "height": round(160 * u.amount_fen / top)} for u in usage]
    settings, today = request.app[SETTINGS], request.app[CLOCK].today()
    watch = await churn_watch(db, settings.churn_drop_percent, today, [customer.id])
    owing = await arrears_watch(db, settings.payment_due_days, today, [customer.id])
    visits = await db.visits.for_customer(customer.id, 10)
    visitors = {m: await db.managers.get(m) for m in {v.manager_id for v in visits}}
    chain = await db.managers.chain(customer.account_manager_id)  # the manager, and who acts if they left
    next_visit = next_visit_on(customer.customer_class, customer.high_value, customer.created_at,
                               visits[0].day if visits else None, settings.visit_every_days,
                               ZoneInfo(settings.timezone), today)
    owed = await owed_back(db, customer.id, request.app[CLOCK].now(), credits_listed=CREDITS_SHOWN)
    fault_credits = {t.id: fault_credit_fen(settings, customer, t.circuit_id) for t in owed.late_faults}
    return render(request, "customer.html", seen.lang, seen.session, seen.manager, customer=customer,
                  drop=watch.drops[0] if watch.drops else None, owing=owing[0] if owing else None,
                  visits=visits, visitors={m: (v.name if v else m) for m, v in visitors.items()},
                  next_visit=next_visit, visit_due=next_visit <= today,
                  manager_of=chain[0] if chain else None,
                  acting=acting_manager(customer.account_manager_id, {m.id: m for m in chain}), bars=bars,
                  tickets=await db.tickets.for_customer(customer.id, limit=20),
                  sends=shown(await db.sends.for_customer(customer.id, 30)),
                  history=await db.audit.for_customer(customer.id, limit=50),
                  owed=owed, fault_credits=fault_credits,
                  compliments=await db.compliments.for_customers([customer.id], limit=COMPLIMENTS_SHOWN),
                  maintenance=await db.maintenance.active_for_circuits([c.circuit_id for c in customer.services],
                                                                       request.app[CLOCK].now()))
