"""The one SMS gateway every sender uses, so that exactly once holds for all of them.

A message is recorded under its key before the provider is called; only outcomes that never reached
the provider are retried blindly, and an unknown one is looked up before any resend. A pending
record's ``lease_until`` is its sender's token (docs/sms-gateway.md).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple

from carecore.clock import to_millisecond, utcnow
from carecore.model import UNFINISHED, SendRecord, SendStatus
from carecore.phones import mask
from carecore.repository import Database, statuses_below
from carecore.sms.message import Sms
from carecore.sms.transports import UNSUBSCRIBED, Accepted, Outcome, SmsTransport, TransportError

log = logging.getLogger(__name__)

PARKED_CALLBACK_EXPIRY = timedelta(days=2)
# A final status that has not come back this long after the last news is looked up, at most
# STATUS_CHECKS times: a callback lost while the database was down must not leave a message "sent"
# for good, but some routes never report delivery, and those are not asked about for ever.
STATUS_CHECK_AFTER = timedelta(hours=1)
STATUS_CHECKS = 2

# A sender's rate limit (a campaign's MPS): awaited with a message's segments before each
# provider call. The gateway calls it, not its callers, so that no call escapes it: a resend
# after a lookup, or a retry after a 429, counts against the rate as a first attempt does.
Pace = Callable[[int], Awaitable[object]]


class CallbackResult(str, Enum):
    """What became of a status callback (the service counts them by this)."""

    updated = "updated"
    ignored = "ignored"  # stale (the record moved further) or not a status we track
    parked = "parked"  # its sid is not recorded yet; applied once it is
_PROVIDER_STATUS = {
    "accepted": SendStatus.accepted,
    "queued": SendStatus.queued,
    "sending": SendStatus.sending,
    "sent": SendStatus.sent,
    "delivered": SendStatus.delivered,
    "undelivered": SendStatus.undelivered,
    "failed": SendStatus.failed,
}


@dataclass(frozen=True)
class GatewayPolicy:
    max_429_retries: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    # A pending record younger than this belongs to a sender that may still be waiting
    # for the provider's answer; keep it above the HTTP timeout.
    lease_s: float = 60.0


class SmsGateway:
    def __init__(
        self,
        db: Database,
        transport: SmsTransport,
        *,
        status_callback_url: Optional[str] = None,
        policy: GatewayPolicy = GatewayPolicy(),
        sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.transport = transport
        self.status_callback_url = status_callback_url
        self.policy = policy
        self._sleep = sleep
        self._now = now

    def lease_from(self, now: datetime) -> datetime:
        """A lease ending ``lease_s`` from ``now``, to the millisecond MongoDB keeps (it is compared as a token)."""
        return to_millisecond(now + timedelta(seconds=self.policy.lease_s))

    async def send(self, message: Sms, *, pace: Optional[Pace] = None) -> SendRecord:
        """Send ``message`` once per key (or record it as kept back); a repeated key returns the first outcome.

        Raises ``RecordValidationError`` for a record the database refuses, before anything is written.
        """
        now = self._now()
        reservation = await self.db.sends.reserve(message.record(now=now, lease_until=self.lease_from(now)))
        record = reservation.record
        if reservation.created:
            if SendStatus(record.status) == SendStatus.suppressed:  # kept back: recorded, nothing to send
                return record
            return await self._deliver(record, record.lease_until, first_attempt_counted=True, pace=pace)
        if record.body != message.body or record.to != message.to:
            log.warning("key %s reused with different content; the first message stands", message.key)
        if SendStatus(record.status) in UNFINISHED:
            return await self.resume(message.key, pace=pace)
        return record

    async def resume(self, key: str, *, pace: Optional[Pace] = None) -> SendRecord:
        """Finish a message whose outcome is unknown or deferred, never sending it twice."""
        now = self._now()
        lease = self.lease_from(now)
        before = await self.db.sends.claim(key, now=now, lease_until=lease)
        if before is None:  # finished, or another sender holds a live lease on it
            return await self.current(key)
        if SendStatus(before.status) != SendStatus.deferred:
            try:
                found = await self.transport.find_sent(before.to, before.body, before.created_at)
            except TransportError as err:
                log.warning("lookup of %s failed (%s); it stays ambiguous", key, err)
                return await self._finish(key, SendStatus.ambiguous, error_message=f"lookup failed: {err}"[:1000])
            if found is not None:
                log.info("message %s was accepted before (sid %s); not resending", key, found.sid)
                status, fields = self._accepted_outcome(found, note="found by lookup")
                return await self._finish(key, status, **fields)
        return await self._deliver(before, lease, pace=pace)

    async def current(self, key: str) -> SendRecord:
        record = await self.db.sends.get(key)
        if record is None:
            raise KeyError(key)
        return record

    async def _deliver(self, record: SendRecord, lease: datetime, *, first_attempt_counted: bool = False,
                       pace: Optional[Pace] = None) -> SendRecord:
        outcome = await self._attempt(record.id, record.to, record.body, lease, first_attempt_counted=first_attempt_counted,
                                     pace=pace, segments=record.segments)
        if outcome is None:
            return await self.current(record.id)
        status, fields = outcome
        return await self._finish(record.id, status, **fields)

    async def _attempt(self, key: str, to: str, body: str, lease: datetime, *, first_attempt_counted: bool,
                      pace: Optional[Pace] = None, segments: int = 1) -> Optional[Tuple[SendStatus, Dict[str, Any]]]:
        """Call the provider until there is an outcome to record; returns it, not yet recorded.

        Each attempt is counted in the record first, which renews the lease, this sender's token (an
        attempt counted at the reservation renews only a lease half run out, as after a wait for the rate).
        ``None``: another sender claimed the message meanwhile, and this one stops without calling again.
        """
        throttles = 0
        counted = first_attempt_counted
        while True:
            if pace is not None:
                await pace(segments)
            now = self._now()
            if not counted or now > lease - timedelta(seconds=self.policy.lease_s / 2):
                renewed = self.lease_from(now)
                if not await self.db.sends.renew_lease(key, lease_until=lease, renew_to=renewed,
                                                       count_attempt=not counted):
                    log.warning("message %s was taken over by another sender; this one stops", key)
                    return None
                lease = renewed
            counted = False
            try:
                accepted = await self.transport.create(to, body, self.status_callback_url)
            except TransportError as err:
                if err.outcome == Outcome.throttled and throttles < self.policy.max_429_retries:
                    throttles += 1
                    delay = self._backoff(throttles, err.retry_after_s)
                    log.info("throttled (%s) sending %s; retry %d in %.2fs", err.code, key, throttles, delay)
                    await self._sleep(delay)
                    continue
                return await self._failure(key, to, err)
            return self._accepted_outcome(accepted)

    def _backoff(self, attempt: int, retry_after_s: Optional[float]) -> float:
        base = self.policy.backoff_base_s * (2 ** (attempt - 1))
        delay = max(base * random.uniform(0.5, 1.0), retry_after_s or 0.0)
        return min(delay, self.policy.backoff_max_s)

    def _accepted_outcome(self, accepted: Accepted, note: Optional[str] = None) -> Tuple[SendStatus, Dict[str, Any]]:
        status = _PROVIDER_STATUS.get(accepted.status, SendStatus.accepted)
        fields: Dict[str, Any] = {"sid": accepted.sid, "sent_at": self._now(), "lease_until": None}
        if note:
            fields["meta.note"] = note
        return status, fields

    async def _failure(self, key: str, to: str, err: TransportError) -> Tuple[SendStatus, Dict[str, Any]]:
        fields: Dict[str, Any] = {"error_code": err.code, "error_message": str(err)[:1000], "lease_until": None}
        if err.outcome == Outcome.ambiguous:
            log.warning("outcome of %s unknown (%s); it will be looked up, not resent", key, err)
            return SendStatus.ambiguous, fields
        if err.outcome in (Outcome.throttled, Outcome.unreachable):
            return SendStatus.deferred, fields
        if err.code == UNSUBSCRIBED:
            log.info("%s unsubscribed at the provider; marking opted out", mask(to))
            await self.db.customers.opt_out_mobile(to, source="twilio_21610", actor="twilio")
        return SendStatus.failed, fields

    async def _finish(self, key: str, status: SendStatus, **fields: Any) -> SendRecord:
        return await self.db.sends.finish(key, status, only_from=[SendStatus.pending], **fields)

    async def handle_status_callback(self, sid: str, status: str, error_code: Optional[int]) -> CallbackResult:
        """Apply a (signature-checked) provider status callback, or park it until its sid is recorded."""
        mapped = _PROVIDER_STATUS.get(status)
        if mapped is None:
            return CallbackResult.ignored
        applied = await self._apply_callback(sid, mapped, error_code)
        if applied is not None:
            return CallbackResult.updated if applied else CallbackResult.ignored
        now = self._now()
        await self.db.parked_callbacks.park({
            "_id": f"{sid}/{mapped.value}", "sid": sid, "status": mapped, "error_code": error_code,
            "received_at": now, "expires_at": now + PARKED_CALLBACK_EXPIRY})
        return CallbackResult.parked

    async def apply_parked_callbacks(self, *, give_up_after: timedelta = timedelta(hours=1)) -> Counter[str]:
        """Apply the callbacks parked before their sid was recorded (a job runs this every minute).

        A callback whose sid is still unknown after ``give_up_after`` is dropped:
        by then its sender has finished or looked up the message, so the sid is
        not one of ours.
        """
        results: Counter[str] = Counter()
        done: List[str] = []
        now = self._now()
        waiting = [parked async for parked in self.db.parked_callbacks.waiting()]
        # One message's callbacks in the order of its life (sent before delivered), whatever their arrival.
        waiting.sort(key=lambda parked: (parked.sid, len(statuses_below(SendStatus(parked.status)))))
        for parked in waiting:
            applied = await self._apply_callback(parked.sid, SendStatus(parked.status), parked.error_code)
            if applied is not None:
                results["applied" if applied else "stale"] += 1
            elif now - parked.received_at > give_up_after:
                log.warning("dropping a %s callback for unknown sid %s", parked.status, parked.sid)
                results["dropped"] += 1
            else:
                results["waiting"] += 1
                continue
            done.append(parked.id)
        await self.db.parked_callbacks.remove(done)
        return results

    async def check_statuses(self, *, limit: int = 500) -> Counter[str]:
        """Look up the messages whose final status never came back, and record what the provider says."""
        results: Counter[str] = Counter()
        now = self._now()
        for record in await self.db.sends.awaiting_outcome(now - STATUS_CHECK_AFTER, max_checks=STATUS_CHECKS,
                                                           limit=limit):
            status, error_code = await self.transport.status_of(record.sid or "") or ("", None)
            mapped = _PROVIDER_STATUS.get(status)
            if mapped is not None and await self.db.sends.apply_callback(record.sid or "", mapped, error_code):
                results[mapped.value] += 1
            else:
                await self.db.sends.count_status_check(record.id, now)
                results["unchanged"] += 1
        return results

    async def _apply_callback(self, sid: str, status: SendStatus, error_code: Optional[int]) -> Optional[bool]:
        """True: applied; False: the record already moved further; None: no record has this sid yet."""
        if await self.db.sends.apply_callback(sid, status, error_code):
            return True
        return False if await self.db.sends.has_sid(sid) else None

    async def close(self) -> None:
        await self.transport.close()
