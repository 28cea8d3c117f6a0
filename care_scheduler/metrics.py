"""The care service's /metrics: process counters, and gauges read from MongoDB and the lock store's Redis.

The alert rules in ``deploy/prometheus/alerts.yml`` name these metrics; a test keeps the two in step.
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import Any, Callable, Dict, Optional, Tuple

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily

from care_scheduler.app_keys import CLOCK, DB, JOBS, LEADERSHIP, SETTINGS
from carecore.redis_url import redis_options
from carecore.repository import Database

log = logging.getLogger(__name__)

PING_TIMEOUT_S = 3.0


async def mongodb_answers(db: Database) -> bool:
    """Whether MongoDB answers a ping within ``PING_TIMEOUT_S``: what health and metrics report."""
    try:
        return await asyncio.wait_for(db.ping(), PING_TIMEOUT_S)
    except asyncio.TimeoutError:
        return False


async def redis_answers(url: str) -> bool:
    """Whether the lock store's Redis answers a PING within ``PING_TIMEOUT_S`` (a refusal for want of a
    password is an answer too: the server is up)."""
    options = redis_options(url)
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(options["host"], options["port"], ssl=True if options["use_ssl"] else None),
            PING_TIMEOUT_S)
    except (OSError, asyncio.TimeoutError):
        return False
    try:
        writer.write(b"PING\r\n")
        reply = await asyncio.wait_for(reader.readline(), PING_TIMEOUT_S)
        return reply[:1] in (b"+", b"-")
    except (OSError, asyncio.TimeoutError):
        return False
    finally:
        writer.close()


class ServiceMetrics:
    """Process counters, plus gauges read from MongoDB (the sends log is the truth).

    Counting the sends log reads every record, millions after years of campaigns, so a scrape does not
    wait on it: it starts one recount at a time when the last is ``METRICS_RECOUNT_S`` old and shows the
    last counts meanwhile. ``care_mongodb_up`` is a ping of its own, so a slow count is not "MongoDB down".
    """

    RECOUNT_LIMIT_S = 60.0  # the server gives a recount up after this

    def __init__(self, app: web.Application, *, scrape_waits_s: float = 2.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        """``scrape_waits_s``: how long a scrape waits for the recount it started (fresh counts when quick)."""
        self.registry = CollectorRegistry()
        self.callbacks = Counter("care_status_callbacks", "Twilio status callbacks by result",
                                 ["result"], registry=self.registry)
        self.admin = Counter("care_admin_requests", "Admin API requests by result", ["result"],
                             registry=self.registry)
        self._app = app
        self._scrape_waits_s = scrape_waits_s
        self._monotonic = monotonic
        self._mongodb_up = 0.0
        self._redis_up: Optional[float] = None  # None: the assistant keeps its locks in memory
        self._imports: Dict[str, int] = {}
        self._sends: Dict[Tuple[str, str], int] = {}
        self._counted_at: Optional[datetime] = None
        self._recount_due = float("-inf")
        self._recount: Optional[asyncio.Task[None]] = None
        self.registry.register(self)

    async def refresh(self) -> None:
        """Read what the gauges show; ``collect`` runs synchronously, so it is done before rendering."""
        up = await mongodb_answers(self._app[DB])
        self._mongodb_up = 1.0 if up else 0.0
        lock_store = self._app[SETTINGS].lock_store_url
        if lock_store:
            self._redis_up = 1.0 if await redis_answers(lock_store) else 0.0
        if up:
            try:
                self._imports = await self._app[DB].import_jobs.count_by_status()
            except Exception as exc:  # the last counts stand
                log.warning("counting import jobs for /metrics failed (%s)", exc)
        if up and self._recount is None and self._monotonic() >= self._recount_due:
            self._recount_due = self._monotonic() + self._app[SETTINGS].metrics_recount_s
            self._recount = asyncio.create_task(self._count_sends())
        if self._recount is not None:
            await asyncio.wait([self._recount], timeout=self._scrape_waits_s)

    async def _count_sends(self) -> None:
        try:
            counts = await self._app[DB].sends.count_by_status(max_time_s=self.RECOUNT_LIMIT_S)
        except Exception as exc:  # MongoDB gone or the count too slow: the last counts stand, with their time
            log.warning("counting the sends log for /metrics failed (%s); the last counts stand", exc)
        else:
            self._sends, self._counted_at = counts, self._app[CLOCK].now()
        finally:
            self._recount = None

    async def close(self) -> None:
        """Stop a recount still running (the service is shutting down)."""
        task = self._recount
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def collect(self) -> Any:
        jobs = self._app[JOBS]
        sends = GaugeMetricFamily("care_sends", "Messages in the sends log by kind and status, as last counted",
                                  labels=["kind", "status"])
        for (kind, status), n in sorted(self._sends.items()):
            sends.add_metric([kind, status], n)
        yield sends
        if self._counted_at is not None:
            yield GaugeMetricFamily("care_sends_counted_timestamp_seconds",
                                    "When the care_sends counts were taken", value=self._counted_at.timestamp())
        yield GaugeMetricFamily("care_mongodb_up", "1 when MongoDB answered the last scrape's ping",
                                value=self._mongodb_up)
        if self._redis_up is not None:
            yield GaugeMetricFamily("care_redis_up", "1 when the assistant's lock store (Redis) answered a ping",
                                    value=self._redis_up)
        imports = GaugeMetricFamily("care_import_jobs", "Data imports by how they ended (running, done, failed, "
                                    "abandoned)", labels=["status"])
        for status, n in sorted(self._imports.items()):
            imports.add_metric([status], n)
        yield imports
        yield GaugeMetricFamily("care_scheduler_running", "1 when the campaign scheduler runs",
                                value=1.0 if jobs.scheduler.running else 0.0)
        yield GaugeMetricFamily("care_scheduler_leader", "1 while this instance holds the scheduler lease",
                                value=1.0 if self._app[LEADERSHIP].leading else 0.0)
        runs = GaugeMetricFamily("care_job_runs", "Campaign runs since start by kind and result",
                                 labels=["kind", "result"])
        for (kind, result), n in sorted(jobs.runs_total.items()):
            runs.add_metric([kind, result], n)
        yield runs
        last = GaugeMetricFamily("care_job_last_run_timestamp_seconds", "Start of each kind's last run",
                                 labels=["kind"])
        duration = GaugeMetricFamily("care_job_last_run_duration_seconds", "Duration of each kind's last run",
                                     labels=["kind"])
        for kind, run in sorted(jobs.last_runs.items()):
            last.add_metric([kind], run.started_at.timestamp())
            duration.add_metric([kind], run.duration_s)
        yield last
        yield duration


METRICS = web.AppKey("metrics", ServiceMetrics)
