"""What operators ask of campaigns: preview, run, report. One implementation for the CLI and the admin API.

Results are plain dictionaries (JSON-ready), with phone numbers masked: they
end up in terminals, HTTP responses and logs.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from enum import Enum
from functools import partial
from typing import Any, Callable, Dict, List, Optional, TypeVar
from zoneinfo import ZoneInfo

from aiohttp import web

from care_scheduler.campaigns import KINDS, UsageGaps, plans_for
from care_scheduler.errors import OperationError
from care_scheduler.kpis import KpiScope, scope_of
from care_scheduler.planning import PlanContext, Tally
from carecore.config import Settings
from carecore.phones import mask
from carecore.repository import Database

Handler = TypeVar("Handler", bound=Callable[..., Any])


def takes_query(*names: str) -> Callable[[Handler], Handler]:
    """Names the query parameters an admin call reads. Any other is refused (400, by ``unknown_query``), so a
    mistyped filter (``?scpoe=AM-01``) is not read as no filter: the whole group's list."""
    def mark(handler: Handler) -> Handler:
        handler.query_params = frozenset(names)
        return handler
    return mark


def unknown_query(request: web.Request) -> List[str]:
    """The query parameters the matched admin call does not take (``takes_query``); none for an unknown path."""
    if request.match_info.http_exception is not None:
        return []
    allowed = getattr(request.match_info.handler, "query_params", frozenset())
    return sorted(set(request.query) - allowed)


def answer(data: Any, tz: tzinfo, status: int = 200) -> web.Response:
    """An admin API answer with every time in it in business time (the clock's, +08:00), as the customer and the
    console are told it: MongoDB gives back UTC, so the same deadline would otherwise read differently in the
    answer that made it and the one that reads it back."""
    return web.json_response(data, status=status, dumps=partial(json.dumps, ensure_ascii=False,
                                                                 default=partial(_in_business_time, tz)))


def _in_business_time(tz: tzinfo, value: Any) -> Any:
    if isinstance(value, datetime):
        return (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(tz).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


async def json_body(request: web.Request) -> Dict[str, Any]:
    """An admin request's JSON object; anything else is the caller's error (400)."""
    try:
        body = await request.json(loads=json.loads)
    except web.HTTPRequestEntityTooLarge:
        raise
    except (ValueError, UnicodeDecodeError):
        raise OperationError("body must be a JSON object") from None
    if not isinstance(body, dict):
        raise OperationError("body must be a JSON object")
    return body


async def scope_param(request: web.Request, db: Database) -> KpiScope:
    """The ``scope`` parameter's managers (no scope: group), or 404 for a manager who does not exist."""
    try:
        return await scope_of(db, request.query.get("scope"))
    except LookupError:
        raise web.HTTPNotFound(text=json.dumps({"error": "no such manager"}), content_type="application/json") from None


def actor_of(body: Dict[str, Any]) -> str:
    actor = body.get("actor", "admin")
    if not isinstance(actor, str) or not 1 <= len(actor.strip()) <= 40:
        raise OperationError("actor must be a name of 1 to 40 characters")
    return actor.strip()


def record_id(body: Dict[str, Any], field: str) -> str:
    """A record's id the body must name: missing or not a string is a 400; an unknown one the caller's 404."""
    value = body.get(field)
    if not isinstance(value, str) or not value.strip():
        raise OperationError(f"{field} is required (a string)")
    return value.strip()


def parse_kind(value: Any) -> str:
    if not isinstance(value, str) or value not in KINDS:
        raise OperationError(f"kind must be one of {', '.join(KINDS)}")
    return value


def parse_day(value: Any, *, field: str = "date") -> date:
    if not isinstance(value, str):
        raise OperationError(f"{field} must be a date YYYY-MM-DD")
    try:
        return date.fromisoformat(value)
    except ValueError:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):  # written right, and no such day: "2027-02-29", "2026-11-31"
            raise OperationError(f"{field} {value!r} is not a day of the calendar") from None
        raise OperationError(f"{field} is not a date (YYYY-MM-DD): {value[:40]!r}") from None


@dataclass(kw_only=True)
class Preview(Tally):
    kind: str
    day: date
    cost: float = 0.0
    price_per_segment: float = 0.0
    missing_usage: int = 0
    samples: List[Dict[str, Any]] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, Any]:
        return {"kind": self.kind, "date": self.day.isoformat(), "recipients": self.recipients,
                "to_send": self.to_send, "segments": self.segments, "cost": round(self.cost, 2),
                "price_per_segment": self.price_per_segment, "suppressed": dict(self.suppressed),
                "missing_usage": self.missing_usage, "samples": self.samples, "warnings": self.warnings}


async def preview(db: Database, settings: Settings, kind: str, day: date, *, price: Optional[float] = None,
                  limit: int = 20, now: Optional[datetime] = None) -> Preview:
    """Who would get what on ``day``; nothing is sent, recorded or decided."""
    price = settings.sms_price_per_segment if price is None else price
    ctx = await PlanContext.load(db, settings, day, now=now, promo=settings.care_promo,
                                 extra_festivals=settings.care_extra_festivals, preview=True)
    gaps = UsageGaps()
    result = Preview(kind=kind, day=day, price_per_segment=price)
    async for plan in plans_for(kind, ctx, gaps):
        result.add(plan)
        result.warnings.extend(f"{plan.key}: {note}" for note in plan.notes if "segments" in note)
        if len(result.samples) < limit:
            result.samples.append({
                "key": plan.key, "to": mask(plan.to), "language": plan.language, "segments": plan.segments,
                "encoding": plan.encoding, "suppressed": plan.suppressed_reason, "body": plan.body,
                "notes": plan.notes})
    result.missing_usage = len(gaps.customers)
    result.cost = result.segments * price
    return result


def _since(settings: Settings, since: Optional[date]) -> Optional[datetime]:
    return datetime.combine(since, time(0), tzinfo=ZoneInfo(settings.timezone)) if since else None


async def report(db: Database, settings: Settings, since: Optional[date] = None) -> Dict[str, Dict[str, int]]:
    """Messages per kind and status since a local date (all time without one)."""
    counts = await db.sends.count_by_status(since=_since(settings, since))
    by_kind: Dict[str, Dict[str, int]] = {}
    for (kind, status), n in sorted(counts.items()):
        by_kind.setdefault(kind, {})[status] = n
    return by_kind


async def daily(db: Database, settings: Settings, since: Optional[date], today: date) -> Dict[str, Dict[str, int]]:
    """Messages per local day and status; 30 days back when no start is given, empty days included."""
    start = since or today - timedelta(days=29)
    rows = await db.sends.daily_by_status(since=_since(settings, start), timezone_name=settings.timezone)
    days = {(start + timedelta(days=i)).isoformat(): {} for i in range((today - start).days + 1)}
    days.update(rows)
    return dict(sorted(days.items()))
