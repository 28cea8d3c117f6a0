"""The monthly roll-up (09:00 on the first working day of a month): every province and group manager gets
last month's headline figures for their scope by SMS, how many accounts the churn watch lists, how many are
in arrears (with the total owed) and how many are due for a visit, with the dashboard's link.
Key ``kpi_brief:<manager>:<month>``."""

from __future__ import annotations

from datetime import date, timedelta
from typing import AsyncIterator, Optional
from zoneinfo import ZoneInfo

from care_scheduler.arrears import arrears_of_managers
from care_scheduler.churn import churn_of_managers
from care_scheduler.kpis import report, scope_of
from care_scheduler.planning import PlanContext, Planned, render_into
from care_scheduler.visits import visits_due
from carecore.clock import FixedClock
from carecore.deadlines import is_business_day
from carecore.kpis import shown
from carecore.model import month_key
from carecore.months import shift_month
from carecore.texts import yuan

KIND = "kpi_brief"


def first_working_day(day: date) -> date:
    first = day.replace(day=1)
    while not is_business_day(first):
        first += timedelta(days=1)
    return first


def _pct(value: Optional[float]) -> str:
    return figure_in_sms(value, "pct")


def figure_in_sms(value: Optional[float], how: str) -> str:
    """A figure as a Chinese SMS reads it: "暂无" for none yet (a month without surveys), hours as 小时."""
    if value is None:
        return "暂无"
    return f"{value:.1f}小时" if how == "hours" else shown(value, how)


async def plan_kpi_briefs(ctx: PlanContext) -> AsyncIterator[Planned]:
    if ctx.day != first_working_day(ctx.day):
        return
    month = shift_month(month_key(ctx.day), -1)
    clock = FixedClock(ctx.now, ctx.settings.timezone)
    for manager in sorted(ctx.managers.values(), key=lambda m: m.id):
        if manager.level == "city" or not manager.active:
            continue
        scope = await scope_of(ctx.db, manager.id)
        figs = (await report(ctx.db, clock, scope, month))["figures"]
        watch = await churn_of_managers(ctx.db, ctx.settings.churn_drop_percent, ctx.day, scope.manager_ids)
        owing = await arrears_of_managers(ctx.db, ctx.settings.payment_due_days, ctx.day, scope.manager_ids)
        unvisited = await visits_due(ctx.db, ctx.settings.visit_every_days, ctx.day, ZoneInfo(ctx.settings.timezone),
                                     scope.manager_ids)
        plan = Planned(f"kpi_brief:{manager.id}:{month}", KIND, manager.mobile, "zh", None, None)
        render_into(plan, ctx, "kpi_brief", {
            "manager_name": manager.name, "month_label": f"{int(month[:4])}年{int(month[5:])}月",
            "accounts": figs["accounts"], "complaints": figs["complaints"],
            "complaint_rate": _pct(figs["complaint_rate"]), "satisfaction": _pct(figs["satisfaction"]),
            "response_rate": _pct(figs["survey_response_rate"]), "sla": _pct(figs["sla_compliance"]),
            "mttr": figure_in_sms(figs["mean_time_to_restore_hours"], "hours"),
            "followups": _pct(figs["followups_on_time"]),
            "at_risk": len(watch.drops), "in_arrears": len(owing), "owed": yuan(sum(a.owed_fen for a in owing)),
            "visits_due": len(unvisited),
            "link": f"{ctx.settings.console_url.rstrip('/')}/kpis?month={month}"})
        yield plan
