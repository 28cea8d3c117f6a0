"""Running one campaign for one day: send window, bounded concurrency, rate limit, exactly once.

The plan stream is consumed with at most ``concurrency`` sends in flight, so memory stays flat
however many recipients; every message goes through the gateway under its key, so a rerun or a run
after a crash sends nothing twice.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Awaitable, Callable, Dict, List, Mapping, Optional, Set

from care_scheduler.campaigns import UsageGaps, plans_for
from care_scheduler.errors import OperationError
from care_scheduler.planning import PlanContext, Planned
from carecore.clock import Clock, utcnow
from carecore.config import Settings
from carecore.deadlines import in_send_window, next_send_window
from carecore.model import UNFINISHED, SendRecord, SendStatus
from carecore.phones import InvalidPhoneNumber
from carecore.repository import Database, RecordValidationError
from carecore.sms.gateway import Pace, SmsGateway

log = logging.getLogger(__name__)

# Greetings, the usage SMS, surveys and promotions are marketing-like (consent applies); these, payment
# reminders and broadcast notices, which no one should get at night, go out inside the send window only.
DAYTIME = {"birthday", "holiday", "usage", "survey", "arrears", "broadcast"}
DELIVERED_OR_ON_ITS_WAY = {"accepted", "queued", "sending", "sent", "delivered"}


class SegmentRateLimiter:
    """Token bucket in SMS segments per second (the sender's MPS).

    It starts with one token, not a full bucket: a campaign's first second then
    carries the rate, not twice the rate. After a pause it may again burst up to
    one second's worth, which Twilio queues rather than refuses.
    """

    def __init__(self, segments_per_second: float, *, monotonic: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[object]] = asyncio.sleep) -> None:
        if segments_per_second <= 0:
            raise ValueError("rate must be positive")
        self.rate = segments_per_second
        self._tokens = 1.0
        self._monotonic = monotonic
        self._sleep = sleep
        self._last = monotonic()
        self._lock = asyncio.Lock()

    async def acquire(self, segments: int = 1) -> None:
        async with self._lock:
            while True:
                now = self._monotonic()
                self._tokens = min(self.rate, self._tokens + (now - self._last) * self.rate)
                self._last = now
                need = min(segments, self.rate)
                if self._tokens >= need - 1e-9:  # float dust must not cause an endless tiny sleep
                    self._tokens -= segments  # may go negative for a message larger than the burst
                    return
                await self._sleep((need - self._tokens) / self.rate)


@dataclass
class RunReport:
    kind: str
    day: date
    dry_run: bool = False
    planned: int = 0
    segments: int = 0
    outcomes: Counter = field(default_factory=Counter)  # sent / failed / ambiguous / deferred / pending / already
    suppressed: Counter = field(default_factory=Counter)  # by reason
    missing_usage: List[str] = field(default_factory=list)
    deferred_until: Optional[datetime] = None
    warnings: List[str] = field(default_factory=list)

    def as_dict(self) -> Dict[str, object]:
        return {
            "kind": self.kind, "day": self.day.isoformat(), "dry_run": self.dry_run, "planned": self.planned,
            "segments": self.segments, "outcomes": dict(self.outcomes), "suppressed": dict(self.suppressed),
            "missing_usage": self.missing_usage,
            "deferred_until": self.deferred_until.isoformat() if self.deferred_until else None,
            "warnings": self.warnings,
        }


def campaign_id(kind: str, day: date) -> str:
    return f"{kind}:{day.isoformat()}"


def refuse_future_run(day: date, today: date, dry_run: bool) -> None:
    """A run for a day ahead would wish a birthday or send a month's usage before its day: only a dry run
    (a preview) may look ahead. A day already past is a catch-up, and its greetings say so."""
    if day > today and not dry_run:
        raise OperationError(f"{day.isoformat()} is ahead of today ({today.isoformat()}): only a dry run may look ahead")


class CampaignRunner:
    def __init__(self, db: Database, gateway: SmsGateway, settings: Settings, clock: Clock, *,
                 concurrency: int = 8, limiter: Optional[SegmentRateLimiter] = None,
                 promo: Optional[Mapping[str, str]] = None, extra_festivals: Optional[Mapping[date, str]] = None,
                 on_progress: Optional[Callable[[int], None]] = None) -> None:
        self.db, self.gateway, self.settings, self.clock = db, gateway, settings, clock
        self.concurrency = max(1, concurrency)
        self.limiter = limiter
        self.promo = promo or {}
        self.extra_festivals = extra_festivals or {}
        self.on_progress = on_progress

    @classmethod
    def from_settings(cls, db: Database, gateway: SmsGateway, settings: Settings, clock: Clock, *,
                      mps: Optional[float] = None, unlimited: bool = False,
                      on_progress: Optional[Callable[[int], None]] = None) -> CampaignRunner:
        """The runner every entry point uses: rate, concurrency, promotion and extra festivals from settings."""
        rate = None if unlimited else (mps or settings.campaign_mps)
        return cls(db, gateway, settings, clock, concurrency=settings.campaign_concurrency,
                   limiter=SegmentRateLimiter(rate) if rate else None, promo=settings.care_promo,
                   extra_festivals=settings.care_extra_festivals, on_progress=on_progress)

    async def run(self, kind: str, day: Optional[date] = None, *, dry_run: bool = False,
                  finish_unfinished: bool = True) -> RunReport:
        day = day or self.clock.today()
        refuse_future_run(day, self.clock.today(), dry_run)
        report = RunReport(kind, day, dry_run)
        now = self.clock.now()
        if kind in DAYTIME and not dry_run and not in_send_window(now):
            report.deferred_until = next_send_window(now)
            log.info("%s for %s waits for the send window (%s)", kind, day, report.deferred_until)
            return report
        ctx = await PlanContext.load(self.db, self.settings, day, now=now, promo=self.promo,
                                     extra_festivals=self.extra_festivals, preview=dry_run)
        gaps = UsageGaps()
        started = utcnow()
        campaign = campaign_id(kind, day)
        in_flight: Set[asyncio.Task[None]] = set()
        slots = asyncio.Semaphore(self.concurrency)  # bounds the sends in flight, and so the plans read ahead
        try:
            async for plan in plans_for(kind, ctx, gaps):
                report.planned += 1
                report.warnings.extend(f"{plan.key}: {note}" for note in plan.notes if "segments" in note)
                if dry_run:
                    self._tally_plan(report, plan)
                    continue
                await slots.acquire()
                task = asyncio.create_task(self._deliver(plan, report, started, campaign))
                in_flight.add(task)
                task.add_done_callback(lambda t: (in_flight.discard(t), slots.release()))
        finally:  # planning failed (MongoDB away): what was handed over still ends, recorded
            if in_flight:
                await asyncio.gather(*in_flight, return_exceptions=True)
        report.missing_usage = gaps.customers
        if finish_unfinished and not dry_run:
            await self._finish_unfinished(report, campaign)
        return report

    async def send_one(self, plan: Planned, campaign: str) -> RunReport:
        """One planned message through the same path as a campaign (settle, send, after), e.g. from the console."""
        report = RunReport(plan.kind, self.clock.today(), planned=1)
        await self._deliver(plan, report, utcnow(), campaign)
        return report

    def _pace(self) -> Optional[Pace]:
        """The rate limit as the gateway takes it; the gateway applies it to every provider call."""
        return self.limiter.acquire if self.limiter is not None else None

    def _tally_plan(self, report: RunReport, plan: Planned) -> None:
        if plan.suppressed_reason:
            report.suppressed[plan.suppressed_reason] += 1
        else:
            report.segments += plan.segments
            report.outcomes["would_send"] += 1

    async def _deliver(self, plan: Planned, report: RunReport, started: datetime, campaign: str) -> None:
        try:
            message = plan.message(campaign)
            if plan.settle is not None and message.suppressed_reason is None:
                await plan.settle()
            record = await self.gateway.send(message, pace=self._pace())
            if plan.after is not None:  # a suppressed message is an outcome too (a survey records it)
                await plan.after(record)
        except (InvalidPhoneNumber, RecordValidationError) as exc:  # one bad recipient must not stop the campaign
            log.warning("%s not sent: %s", plan.key, exc)
            self._count(report, exc, started)
            return
        except Exception as exc:  # nor one unexpected failure; it is reported with its traceback
            log.exception("sending %s failed", plan.key)
            self._count(report, exc, started)
            return
        self._count(report, record, started)

    def _count(self, report: RunReport, result: SendRecord | Exception, started: datetime) -> None:
        """One message done: an error, or its record's outcome; progress moves on either."""
        if isinstance(result, Exception):
            report.outcomes["error"] += 1
        else:
            self._tally(report, result, started)
        if self.on_progress:
            self.on_progress(1)

    def _tally(self, report: RunReport, record: SendRecord, started: datetime) -> None:
        if record.created_at < started:
            report.outcomes["already"] += 1
            return
        status = SendStatus(record.status)
        if status == SendStatus.suppressed:
            report.suppressed[record.suppressed_reason or "unknown"] += 1
        elif status.value in DELIVERED_OR_ON_ITS_WAY:
            report.outcomes["sent"] += 1
            report.segments += record.segments
        else:
            report.outcomes[status.value] += 1

    async def _finish_unfinished(self, report: RunReport, campaign: str) -> None:
        """Complete what an interrupted earlier run left pending, once its lease ran out.

        Up to ``concurrency`` at a time, as the campaign itself sends: each one is a lookup
        at the provider first (a round trip of its own), and a crash can leave a batch of them.
        """
        slots = asyncio.Semaphore(self.concurrency)
        pace = self._pace()

        async def finish(key: str) -> bool:
            async with slots:
                finished = await self.gateway.resume(key, pace=pace)
            return SendStatus(finished.status) not in UNFINISHED

        for _ in range(3):
            left = await self.db.sends.unfinished(campaign)
            if not left:
                return
            leases = [r.lease_until for r in left if r.status == SendStatus.pending.value and r.lease_until]
            wait = max(((max(leases) - utcnow()).total_seconds() if leases else 0.0), 0.0)
            if wait > self.gateway.policy.lease_s + 1:
                break
            await asyncio.sleep(wait)
            results = await asyncio.gather(*(finish(record.id) for record in left), return_exceptions=True)
            report.outcomes["recovered"] += sum(result is True for result in results)
            for result in results:
                if isinstance(result, BaseException):
                    raise result  # as before, once the others are finished: none is left running
