"""Customer visits (客户拜访): how often each key account is visited, and which visits are due.

Each account is visited at least every ``VISIT_EVERY_DAYS`` days of its class: by default important and
strategic accounts monthly, group and high-value ones every two months, the rest quarterly (the
shortest that applies). An account never visited falls due that long after it was loaded, so that a
book of accounts loaded on one day is not all due on that day. Counted when asked, from the
customers in scope and their last visits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Iterable, List, Mapping, Optional
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from carecore.clock import utcnow
from carecore.model import Customer, Visit, visit_id
from carecore.repository import Database, DuplicateRecordError

RECORDED_BACK_DAYS = 366  # a visit is recorded on its day, or later within a year: never ahead


@dataclass(frozen=True)
class VisitDue:
    customer_id: str
    company: str
    manager_id: str
    every: int  # days between visits for this account
    last_visit: Optional[date]  # None: never visited
    due_on: date

    def days_overdue(self, today: date) -> int:
        return (today - self.due_on).days


class VisitRefused(ValueError):
    """A visit that does not fit: ``field`` names the one at fault, ``reason`` why; nothing was written."""

    REASONS = {"visited_on": "a date (YYYY-MM-DD) within the past year, not after today",
               "contact_ids": "ids of the customer's own contacts", "notes": "4 to 2000 characters",
               "next_step": "at most 500 characters",
               "recorded": "this manager's visit to this customer on this day is already recorded"}

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.field = "visited_on" if reason == "recorded" else reason
        super().__init__(f"{self.field}: {self.REASONS[reason]}")


async def record_visit(db: Database, customer: Customer, manager_id: str, *, visited_on: str,
                       contact_ids: Iterable[str], notes: str, next_step: str, today: date) -> Visit:
    """Record a visit to ``customer`` by ``manager_id``; the console and the admin API both call this. A second
    visit by the same manager on the same day is refused rather than kept twice (``visit_id``)."""
    try:
        day = date.fromisoformat(visited_on.strip())
    except ValueError:
        raise VisitRefused("visited_on") from None
    if not today - timedelta(days=RECORDED_BACK_DAYS) <= day <= today:
        raise VisitRefused("visited_on")
    met = sorted(set(contact_ids))
    if any(customer.contact(contact_id) is None for contact_id in met):
        raise VisitRefused("contact_ids")
    try:  # the model's own limits
        visit = Visit.parse_obj({
            "_id": visit_id(customer.id, manager_id, day.isoformat()), "customer_id": customer.id,
            "manager_id": manager_id, "visited_on": day.isoformat(),
            "contact_ids": met, "notes": notes.strip(), "next_step": next_step.strip() or None,
            "created_at": utcnow()})
    except ValidationError as exc:
        raise VisitRefused(str(exc.errors()[0]["loc"][0])) from None
    try:
        return await db.visits.create(visit.to_mongo())
    except DuplicateRecordError:
        raise VisitRefused("recorded") from None


def visit_every(customer_class: Optional[str], high_value: bool, every: Mapping[str, int]) -> int:
    """Days between visits for an account of this class and high-value flag."""
    applies = [every[key] for key in (customer_class, "high_value" if high_value else None) if key in every]
    return min(applies, default=every["other"])


def next_visit_on(customer_class: Optional[str], high_value: bool, created_at: Optional[datetime],
                  last_visit: Optional[date], every: Mapping[str, int], tz: ZoneInfo, today: date) -> date:
    """When the account's next visit is due: after its last visit, or after it was loaded (today if unknown)."""
    start = last_visit or (created_at.astimezone(tz).date() if created_at else None)
    if start is None:
        return today
    return start + timedelta(days=visit_every(customer_class, high_value, every))


async def visits_due(db: Database, every: Mapping[str, int], today: date, tz: ZoneInfo,
                     manager_ids: Optional[Iterable[str]]) -> List[VisitDue]:
    """The accounts of these managers (every account with None) due for a visit on ``today``, longest
    overdue first."""
    query = {} if manager_ids is None else {"account_manager_id": {"$in": sorted(manager_ids)}}
    projection = {"company_name": 1, "customer_class": 1, "high_value": 1, "account_manager_id": 1, "created_at": 1}
    docs = [doc async for doc in db.customers.stream(query, projection=projection)]
    last = await db.visits.last_visits(None if manager_ids is None else [doc["_id"] for doc in docs])
    return due_among(docs, last, every, tz, today)


def due_among(docs: Iterable[Mapping[str, Any]], last: Mapping[str, date], every: Mapping[str, int], tz: ZoneInfo,
              today: date) -> List[VisitDue]:
    """Of these customers (stored documents, or a projection with the fields the rule reads), those due for a
    visit on ``today`` given their ``last`` visits, longest overdue first."""
    due: List[VisitDue] = []
    for doc in docs:
        customer_class, high_value = doc.get("customer_class"), doc.get("high_value", False)
        due_on = next_visit_on(customer_class, high_value, doc.get("created_at"), last.get(doc["_id"]), every, tz,
                               today)
        if due_on <= today:
            due.append(VisitDue(doc["_id"], doc["company_name"], doc["account_manager_id"],
                                visit_every(customer_class, high_value, every), last.get(doc["_id"]), due_on))
    due.sort(key=lambda v: (v.due_on, v.customer_id))
    return due
