"""The campaigns on a clock: one APScheduler job per campaign kind, in the business timezone.

A run outside the send window is rescheduled for when it opens, and a kind whose time today has
passed runs at start-up, so a process that was down at 09:00 still greets today's birthdays; runs
are idempotent, so a catch-up never sends twice. Parked status callbacks are applied every minute,
final statuses whose callbacks never came are looked up every ten, and each night conversations idle
past ``CONVERSATION_RETENTION_DAYS`` are forgotten.
"""

from __future__ import annotations

import asyncio
import logging
import time as monotonic_time
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Dict, Optional

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from care_scheduler.campaigns import KINDS
from care_scheduler.high_value import mark_high_value
from care_scheduler.kpis import KPI_REFRESH_MINUTES, refresh
from care_scheduler.runner import CampaignRunner, RunReport, refuse_future_run
from carecore.clock import Clock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway

log = logging.getLogger(__name__)
PARKED_CALLBACKS_EVERY_S = 60
STATUS_CHECKS_EVERY_MIN = 10
RETENTION_AT = "30 3 * * *"  # crontab, business timezone: at night


@dataclass
class JobRun:
    kind: str
    day: date
    started_at: datetime
    trigger: str
    finished_at: Optional[datetime] = None
    duration_s: float = 0.0
    ok: Optional[bool] = None
    error: Optional[str] = None
    report: Dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> Dict[str, Any]:
        return {"day": self.day.isoformat(), "trigger": self.trigger, "started_at": self.started_at.isoformat(),
                "finished_at": self.finished_at.isoformat() if self.finished_at else None,
                "duration_s": round(self.duration_s, 3), "ok": self.ok, "error": self.error, "report": self.report}


class CareJobs:
    """Owns the scheduler, serialises runs per kind and remembers each kind's last run."""

    def __init__(self, db: Database, gateway: SmsGateway, settings: Settings, clock: Clock) -> None:
        self.db, self.gateway, self.settings, self.clock = db, gateway, settings, clock
        self.scheduler = AsyncIOScheduler(timezone=clock.tz)
        self.last_runs: Dict[str, JobRun] = {}
        self.runs_total: Dict[tuple[str, str], int] = {}
        self._locks = {kind: asyncio.Lock() for kind in KINDS}

    def trigger(self, kind: str) -> CronTrigger:
        return CronTrigger.from_crontab(self.settings.care_schedules[kind], timezone=self.clock.tz)

    def start(self, *, catch_up: bool = True) -> None:
        """Schedule every job (again, for a leader elected a second time) and catch up on today's."""
        if self.scheduler.running:
            return
        self.scheduler = AsyncIOScheduler(timezone=self.clock.tz)  # a stopped scheduler does not start twice
        for kind in KINDS:
            self.scheduler.add_job(self.run, self.trigger(kind), args=[kind, None, "schedule"], id=kind,
                                   name=f"{kind} campaign", max_instances=1, coalesce=True,
                                   misfire_grace_time=3600, replace_existing=True)
        self.scheduler.add_job(self.mark_high_value, CronTrigger.from_crontab(self.settings.high_value_schedule,
                                                                             timezone=self.clock.tz),
                               id="high_value", name="high-value flags", max_instances=1, coalesce=True,
                               misfire_grace_time=86400, replace_existing=True)
        at_once = {"next_run_time": self.clock.now()} if catch_up else {}  # counts at start, then every round
        self.scheduler.add_job(self.refresh_kpis, IntervalTrigger(minutes=KPI_REFRESH_MINUTES), id="kpis",
                               name="KPI counts", max_instances=1, coalesce=True, replace_existing=True, **at_once)
        self.scheduler.add_job(self.apply_parked_callbacks, IntervalTrigger(seconds=PARKED_CALLBACKS_EVERY_S),
                               id="parked_callbacks", name="parked status callbacks", max_instances=1,
                               coalesce=True, replace_existing=True)
        self.scheduler.add_job(self.check_statuses, IntervalTrigger(minutes=STATUS_CHECKS_EVERY_MIN),
                               id="status_checks", name="status lookups", max_instances=1, coalesce=True,
                               replace_existing=True)
        self.scheduler.add_job(self.forget_old_conversations,
                               CronTrigger.from_crontab(RETENTION_AT, timezone=self.clock.tz), id="retention",
                               name="conversation retention", max_instances=1, coalesce=True,
                               misfire_grace_time=86400, replace_existing=True)
        self.scheduler.start()
        if catch_up:
            for kind in self.due_today():
                self.scheduler.add_job(self.run, DateTrigger(self.clock.now(), timezone=self.clock.tz),
                                       args=[kind, None, "catch-up"], id=f"{kind}:catch-up", replace_existing=True)

    async def apply_parked_callbacks(self) -> None:
        """Delivery callbacks that came before their sid was recorded (``SmsGateway.apply_parked_callbacks``)."""
        try:
            results = await self.gateway.apply_parked_callbacks()
        except Exception:  # MongoDB away: the callbacks stay parked for the next round
            log.exception("applying parked status callbacks failed")
            return
        if results:
            log.info("parked status callbacks: %s", dict(results))

    async def check_statuses(self) -> None:
        """Final statuses whose callbacks never came (``SmsGateway.check_statuses``)."""
        try:
            results = await self.gateway.check_statuses()
        except Exception:  # MongoDB or the provider away: the next round asks again
            log.exception("looking up unreported statuses failed")
            return
        if results:
            log.info("status lookups: %s", dict(results))

    async def forget_old_conversations(self) -> None:
        """Personal data kept no longer than needed; a failure waits for the next night."""
        days = self.settings.conversation_retention_days
        if not days:
            return
        cutoff = self.clock.now() - timedelta(days=days)
        try:
            forgotten = await self.db.transcripts.forget_before(cutoff)
            forgotten["message_texts"] = await self.db.sends.forget_bodies(cutoff)  # SMS texts as old
        except Exception:
            log.exception("forgetting old conversations failed")
            return
        log.info("conversation retention (%d days): %s", days, forgotten)

    async def refresh_kpis(self) -> None:
        """This month's and last month's KPI counts (``care_scheduler.kpis``); a failure waits for the next round."""
        try:
            await refresh(self.db, self.clock)
        except Exception:
            log.exception("recounting the KPIs failed")

    async def mark_high_value(self) -> None:
        """The monthly high-value flags (``care_scheduler.high_value``); a failure waits for next month's run."""
        try:
            await mark_high_value(self.db, self.settings, self.clock)
        except Exception:
            log.exception("setting the high-value flags failed")

    def due_today(self) -> list[str]:
        """Kinds whose first scheduled time today is already past."""
        now = self.clock.now()
        midnight = datetime.combine(now.date(), time(0), tzinfo=self.clock.tz)
        due = []
        for kind in KINDS:
            first = self.trigger(kind).get_next_fire_time(None, midnight)
            if first is not None and first.date() == now.date() and first <= now:
                due.append(kind)
        return due

    def shutdown(self) -> None:
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def next_runs(self) -> Dict[str, Optional[str]]:
        out: Dict[str, Optional[str]] = {}
        for job in self.scheduler.get_jobs():
            out[job.id] = job.next_run_time.isoformat() if job.next_run_time else None
        return out

    async def run(self, kind: str, day: Optional[date] = None, trigger: str = "admin", *,
                  dry_run: bool = False) -> RunReport:
        """One run of one kind, never two of the same kind at once; failures are recorded, then raised."""
        day = day or self.clock.today()
        refuse_future_run(day, self.clock.today(), dry_run)  # before it counts as a run of its kind
        async with self._locks[kind]:
            record = JobRun(kind, day, self.clock.now(), trigger)
            if not dry_run:
                self.last_runs[kind] = record
            started = monotonic_time.monotonic()
            try:
                runner = CampaignRunner.from_settings(self.db, self.gateway, self.settings, self.clock)
                report = await runner.run(kind, day, dry_run=dry_run)
            except Exception as exc:
                record.ok, record.error = False, f"{type(exc).__name__}: {exc}"[:500]
                log.exception("%s campaign for %s failed", kind, day)
                raise
            else:
                record.ok, record.report = True, report.as_dict()
            finally:
                record.finished_at = self.clock.now()
                record.duration_s = monotonic_time.monotonic() - started
                if not dry_run:
                    result = "ok" if record.ok else "error"
                    self.runs_total[(kind, result)] = self.runs_total.get((kind, result), 0) + 1
        if report.deferred_until is not None and not dry_run:
            self._rerun_at(kind, day, report.deferred_until)
        return report

    def _rerun_at(self, kind: str, day: date, when: datetime) -> None:
        """The same business day's run again when the send window opens."""
        if not self.scheduler.running:
            return
        job_id = f"{kind}:{day.isoformat()}:window"
        self.scheduler.add_job(self.run, DateTrigger(when, timezone=self.clock.tz), args=[kind, day, "send-window"],
                               id=job_id, replace_existing=True, misfire_grace_time=None)
        log.info("%s for %s will run when the send window opens at %s", kind, day, when.isoformat())
