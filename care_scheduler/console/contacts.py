"""Managers keep contacts current: edit, add or remove one, with the checks and messages of an import."""

from __future__ import annotations

from typing import Dict, Optional

from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import (
    PREFIX,
    Viewer,
    customer_in_scope,
    db_of,
    form,
    not_found,
    redirect,
    render,
    viewer,
)
from care_scheduler.dataio import values as v
from care_scheduler.dataio.catalog import KINDS
from care_scheduler.dataio.editing import remove, row_from_form, save
from care_scheduler.dataio.kinds import Context, RowError
from carecore.model import Contact, Customer

FIELDS = ("name", "role", "mobile", "email", "birthday", "birthday_calendar", "language", "tier", "billing_contact",
          "sms_opt_out")


def _values(contact: Optional[Contact]) -> Dict[str, str]:
    """A contact as the form shows it: the cells an export would write."""
    if contact is None:
        return {"language": "zh", "birthday_calendar": "solar", "billing_contact": "no", "sms_opt_out": "no"}
    doc = contact.dict(exclude_none=True)
    day, calendar = v.format_birthday(doc.get("birthday"))
    return {"contact_id": contact.contact_id, "name": contact.name, "role": contact.role, "mobile": contact.mobile,
            "email": contact.email or "", "birthday": day, "birthday_calendar": calendar or "solar",
            "language": contact.language, "tier": contact.tier,
            "billing_contact": v.format_boolean(contact.billing_contact),
            "sms_opt_out": v.format_boolean(contact.sms_opt_out)}


def _page(request: web.Request, seen: Viewer, customer: Customer, contact: Optional[Contact], values: Dict[str, str],
          error: Optional[str] = None, status: int = 200) -> web.Response:
    return render(request, "contact.html", seen.lang, seen.session, seen.manager, customer=customer, contact=contact,
                  values=values, error=error, status=status, columns=KINDS["contacts"].by_name)


async def contact_form(request: web.Request) -> web.Response:
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    contact_id = request.match_info.get("contact_id")
    contact = customer.contact(contact_id) if contact_id else None
    if contact_id and contact is None:
        not_found()
    return _page(request, seen, customer, contact, _values(contact))


async def contact_save(request: web.Request) -> web.Response:
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    posted = await form(request, seen.session)
    contact_id = request.match_info.get("contact_id")
    contact = customer.contact(contact_id) if contact_id else None
    if contact_id and contact is None:
        not_found()
    cells = {name: posted.get(name, "") for name in FIELDS}
    cells["billing_contact"] = "yes" if posted.get("billing_contact") in ("yes", "on") else "no"
    cells.update(customer_id=customer.id, contact_id=contact_id or posted.get("contact_id", "").strip())
    reason = posted.get("consent_reason", "").strip()[:500]
    app = request.app
    ctx = Context(app[CLOCK].now(), app[CLOCK].tz,
                  app[SETTINGS].bill_delivery_days, source="console", consent_reason=reason)
    try:
        if contact is None and await db_of(request).customers.find_by_contact(cells["contact_id"]) is not None:
            raise RowError("contact_id", "already used by another contact")
        row = row_from_form(KINDS["contacts"], cells)
        await save(db_of(request), "contacts", row, ctx, actor=seen.manager.id, note=reason or None)
    except RowError as exc:
        column = KINDS["contacts"].by_name.get(exc.column)
        name = (column.zh if seen.lang == "zh" else column.name) if column else exc.column
        return _page(request, seen, customer, contact, {**cells, "consent_reason": reason}, f"{name}: {exc.reason}",
                     status=400)
    redirect(seen.session, f"{PREFIX}/customers/{customer.id}", translator(seen.lang)("saved"))


async def contact_remove(request: web.Request) -> web.Response:
    seen = await viewer(request)
    customer = await customer_in_scope(request, seen)
    posted = await form(request, seen.session)
    contact_id = request.match_info["contact_id"]
    if customer.contact(contact_id) is None:
        not_found()
    clock = request.app[CLOCK]
    ctx = Context(clock.now(), clock.tz, 0, source="console")
    await remove(db_of(request), "contacts", customer.id, contact_id, ctx, actor=seen.manager.id,
                 note=posted.get("reason", "").strip()[:500] or None)
    redirect(seen.session, f"{PREFIX}/customers/{customer.id}", translator(seen.lang)("removed"))
