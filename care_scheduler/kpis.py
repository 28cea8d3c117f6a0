"""KPIs for each level: keeping each month's counts current, and a scope's figures, parts and 12-month trend.

The counts of the current and the previous month are recounted every ``KPI_REFRESH_MINUTES`` (late
delivery receipts and survey answers still change last month early on), and any of the last twelve
months not kept yet is counted once. A scope is a manager's: a city manager's customers, a province
manager's cities, group for everything (as the console's scope).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from typing import Any, Dict, List, Optional, Set

from care_scheduler.errors import OperationError
from carecore.clock import Clock, utcnow
from carecore.kpis import HEADLINE, TARGETS, figures, off_target, total
from carecore.model import AccountManager, month_key
from carecore.months import month_span, shift_month
from carecore.repository import Database

log = logging.getLogger(__name__)
KPI_REFRESH_MINUTES = 15
TREND_MONTHS = 12


def month_shown(value: Optional[str], clock: Clock) -> str:
    """The month a console page asked for; this month when the query names none or a wrong one."""
    try:
        return parse_month_param(value, clock)
    except OperationError:
        return month_key(clock.today())


def parse_month_param(value: Optional[str], clock: Clock) -> str:
    current = month_key(clock.today())
    if not value:
        return current
    try:
        start = date(int(value[:4]), int(value[5:7]), 1)
    except ValueError:
        raise OperationError(f"month must be YYYY-MM, not {value!r}") from None
    if len(value) != 7 or value[4] != "-" or month_key(start) > current:
        raise OperationError(f"month must be YYYY-MM and not in the future, not {value!r}")
    return value


async def recount(db: Database, clock: Clock, month: str) -> None:
    start, end = month_span(month, clock.tz)
    counts = await db.kpis.recount(start, end, clock.now())
    await db.kpis.store(month, counts, utcnow())


async def refresh(db: Database, clock: Clock) -> List[str]:
    """Recount this month and last, and any of the last twelve never counted; returns the months counted."""
    current = month_key(clock.today())
    months = [shift_month(current, -i) for i in range(TREND_MONTHS)]
    kept = await db.kpis.stored(months)
    due = [m for m in months if m in (current, months[1]) or m not in kept]
    for month in due:
        await recount(db, clock, month)
    return due


@dataclass
class KpiScope:
    manager: Optional[AccountManager]  # None: group, as the admin API without a manager
    manager_ids: Optional[Set[str]]  # None: everyone, unverified chats included

    @property
    def level(self) -> str:
        return self.manager.level if self.manager else "group"

    def covers(self, owner: str) -> bool:
        return self.manager_ids is None or owner in self.manager_ids


async def scope_of(db: Database, manager_id: Optional[str]) -> KpiScope:
    if not manager_id:
        return KpiScope(None, None)
    manager = await db.managers.get(manager_id)
    if manager is None:
        raise LookupError(manager_id)
    if manager.level == "group":
        return KpiScope(manager, None)
    ids = {manager.id} | {m.id for m in await db.managers.subordinates(manager.id)}
    return KpiScope(manager, ids)


async def report(db: Database, clock: Clock, scope: KpiScope, month: str) -> Dict[str, Any]:
    """The scope's figures for the month with its parts (a province's cities, group's provinces) and the
    twelve months up to it."""
    months = [shift_month(month, -i) for i in reversed(range(TREND_MONTHS))]
    kept = await db.kpis.stored(months)
    missing = [m for m in months if m not in kept]
    for gap in missing:  # never counted yet (a fresh database, before the KPI job's first round): count it now
        await recount(db, clock, gap)
    if missing:
        kept.update(await db.kpis.stored(missing))
    managers = {m.id: m for m in await db.managers.all()}

    def scoped(m: str) -> Dict[str, int]:
        counts = kept.get(m, {}).get("counts", {})
        return dict(total(c for owner, c in counts.items() if scope.covers(owner)))

    trend = {m: figures(scoped(m)) for m in months}
    figs = trend[month]
    parts = []
    for part_id, members in _parts(scope, managers).items():
        counts = kept[month]["counts"]
        part = figures(total(c for owner, c in counts.items() if owner in members))
        parts.append({"manager_id": part_id, "name": managers[part_id].name, "figures": part,
                      "off_target": off_target(part)})
    return {
        "month": month, "month_to_date": month == month_key(clock.today()),
        "computed_at": kept[month]["computed_at"].astimezone(clock.tz).isoformat(),
        "scope": {"manager_id": scope.manager.id if scope.manager else None, "level": scope.level,
                  "name": scope.manager.name if scope.manager else "集团"},
        "figures": figs, "targets": TARGETS, "off_target": off_target(figs), "parts": parts,
        "trend": [{"month": m, **{k: trend[m][k] for k in HEADLINE}} for m in months],
    }


def _parts(scope: KpiScope, managers: Dict[str, AccountManager]) -> Dict[str, Set[str]]:
    """A province's city managers, group's provinces (each with its cities); a city has none. Customers a
    province manager keeps themselves count in the province's total only."""
    if scope.level == "city":
        return {}
    if scope.level == "province":
        assert scope.manager is not None and scope.manager_ids is not None
        return {m: {m} for m in sorted(scope.manager_ids) if m != scope.manager.id}
    provinces = {m.id: {m.id} for m in managers.values() if m.level == "province"}
    for m in managers.values():
        if m.level == "city" and m.supervisor_id in provinces:
            provinces[m.supervisor_id].add(m.id)
    return provinces
