"""Announcing, changing and cancelling planned maintenance (割接/维护): one implementation for the console and
the admin API.

A window names its circuits by id, or as every circuit of a type in a province (or city). What that
covers is resolved when the window is saved, so the notices and the ``maintenance`` status shown for
a circuit follow what was announced. A province manager may announce only for their own customers.
The notices themselves are sent by ``care_scheduler.maintenance_notices``.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any, Dict, Mapping, Optional
from zoneinfo import ZoneInfo

from care_scheduler.operations import OperationError
from care_scheduler.scope import Scope
from carecore.clock import Clock
from carecore.model import CircuitSelection, MaintenanceImpact, MaintenanceWindow
from carecore.repository import Database, RecordValidationError
from carecore.repository.errors import validated

# A fault reported inside a window earns no SLA credit, so a mistyped end (2027 for 2026) must not
# stand: longer work is announced as several windows.
MAX_WINDOW = timedelta(hours=72)
FIELDS = ("circuit_ids", "type", "province", "city", "start", "end", "impact", "description_zh", "description_en")


def _moment(value: Any, name: str, tz: ZoneInfo) -> datetime:
    """An ISO date and time; without an offset, in the business timezone."""
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value or "").strip())
        except ValueError:
            raise OperationError(f"{name} must be a date and time like 2026-12-20T01:00 (got {value!r})") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _ids(value: Any) -> list:
    if value is None or value == "":
        return []
    if isinstance(value, str):
        return [part for part in re.split(r"[\s,，;；]+", value.strip()) if part]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value if v.strip()]
    raise OperationError("circuit_ids must be a list of circuit ids")


def parse_fields(given: Mapping[str, Any], tz: ZoneInfo, *, base: Optional[MaintenanceWindow] = None) -> Dict[str, Any]:
    """The window's fields from a request (JSON or form); a change starts from ``base``."""
    unknown = set(given) - set(FIELDS) - {"actor", "csrf"}
    if unknown:
        raise OperationError(f"unknown fields: {', '.join(sorted(unknown))}")
    old = base.selection.to_mongo() if base else {}
    area = {k: given.get(k) or None for k in ("type", "province", "city")}
    picked = "circuit_ids" in given or any(given.get(k) for k in area)
    selection_data = ({"circuit_ids": _ids(given.get("circuit_ids")), **{k: v for k, v in area.items() if v}}
                      if picked else old)
    try:
        selection = CircuitSelection.parse_obj(selection_data)
    except ValueError as exc:
        raise OperationError(str(exc).replace("\n", " ")) from None
    impact_value = given.get("impact") or (base.impact if base else None)
    if impact_value not in {i.value for i in MaintenanceImpact}:
        raise OperationError(f"impact must be interrupted or degraded, not {impact_value!r}")
    impact = MaintenanceImpact(impact_value)
    fields: Dict[str, Any] = {"selection": selection, "impact": impact.value}
    for name in ("start", "end"):
        fields[name] = _moment(given[name], name, tz) if given.get(name) else getattr(base, name, None)
        if fields[name] is None:
            raise OperationError(f"{name} is required")
    if fields["end"] - fields["start"] > MAX_WINDOW:
        raise OperationError(f"a maintenance window lasts at most {MAX_WINDOW // timedelta(hours=1)} hours; "
                             "announce longer work as several windows")
    for name in ("description_zh", "description_en"):
        text = str(given.get(name) or getattr(base, name, "") or "").strip()
        if not text:
            raise OperationError(f"{name} is required")
        fields[name] = text
    return fields


async def _covered(db: Database, fields: Dict[str, Any], scope: Optional[Scope]) -> Dict[str, Any]:
    selection: CircuitSelection = fields["selection"]
    circuits, customers = await db.maintenance.covered(selection)
    missing = sorted(set(selection.circuit_ids) - set(circuits))
    if missing:
        raise OperationError(f"unknown circuits: {', '.join(missing[:10])}")
    if not circuits:
        raise OperationError("the selection covers no circuit")
    if scope is not None and scope.manager_ids is not None:
        allowed = set(await db.customers.ids_for_managers(sorted(scope.manager_ids)))
        outside = sorted(set(customers) - allowed)
        if outside:
            raise OperationError(f"{len(outside)} of the customers are not yours to announce for")
    return {**fields, "selection": selection.to_mongo(), "circuit_ids": circuits, "customer_ids": customers}


async def announce(db: Database, clock: Clock, given: Mapping[str, Any], *, actor: str,
                   scope: Optional[Scope] = None) -> MaintenanceWindow:
    """Save a new window; its notices go out from the next round of the maintenance job."""
    now = clock.now()
    fields = await _covered(db, parse_fields(given, clock.tz), scope)
    if fields["end"] <= now:
        raise OperationError("the window is over already")
    draft = {**fields, "announced_by": actor, "created_at": now, "updated_at": now}
    try:  # checked before it takes a number: a refused window leaves no gap in the day's ids
        validated(MaintenanceWindow, "maintenance_windows", {"_id": "MW-00000000-0000", **draft})
        return await db.maintenance.create({"_id": await db.maintenance.next_id(clock.today()), **draft})
    except RecordValidationError as exc:
        raise OperationError(str(exc)) from None


async def change(db: Database, clock: Clock, window_id: str, given: Mapping[str, Any], *, actor: str,
                 scope: Optional[Scope] = None) -> MaintenanceWindow:
    """Save a change as the next version: everyone already told is told again."""
    window = await _open(db, window_id, clock)
    fields = await _covered(db, parse_fields(given, clock.tz, base=window), scope)
    try:
        changed = await db.maintenance.change(window, {**fields, "announced_by": actor})
    except RecordValidationError as exc:
        raise OperationError(str(exc)) from None
    if changed is None:
        raise OperationError(f"{window_id} was changed or cancelled meanwhile; reload and try again")
    return changed


async def cancel(db: Database, clock: Clock, window_id: str, *, scope: Optional[Scope] = None) -> MaintenanceWindow:
    window = await _open(db, window_id, clock)
    if scope is not None:
        await _covered(db, {"selection": window.selection}, scope)
    await db.maintenance.cancel(window_id, clock.now())
    cancelled = await db.maintenance.get(window_id)
    assert cancelled is not None
    return cancelled


async def _open(db: Database, window_id: str, clock: Clock) -> MaintenanceWindow:
    window = await db.maintenance.get(window_id)
    if window is None:
        raise LookupError(window_id)
    if window.cancelled_at is not None or window.end <= clock.now():
        raise OperationError(f"{window_id} is cancelled or over: it cannot change")
    return window
