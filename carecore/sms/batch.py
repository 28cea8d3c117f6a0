"""The gateway's batched path for campaigns: the same exactly-once rules, one database trip per batch.

``SmsGateway.send`` writes twice per message (reserve, then finish). At campaign
scale those writes, and motor's hand-off of each to its worker threads, cost more
than the provider call itself. Here a batch of records is reserved in one insert
before any of them is sent, the messages go out with ``concurrency`` in flight, and
their outcomes are written in one bulk update per batch. The gateway's rules hold:

* every message is recorded, pending and leased, before the provider is called;
* a message goes out only while its sender's lease has at least half its length to
  run (renewed first, or left alone if another sender took it over meanwhile), so
  another sender's lookup can never miss a send still in flight;
* outcomes not yet written when the process dies leave their records pending, and
  the next run looks each one up before any resend, as after a crash mid-call.

Batches size themselves from the rate reached so far, so that a reserved message
waits about a quarter of a lease for its turn at most: under a rate limit or a
throttling provider they stay small, at full speed they reach ``max_batch``.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, Union

from carecore.models import E164_PATTERN, UNFINISHED, SendRecord, SendStatus
from carecore.phones import InvalidPhoneNumber, to_e164
from carecore.repository import BatchSlot, DatabaseError
from carecore.sms.gateway import Pace, SmsGateway

log = logging.getLogger(__name__)

DATABASE_RETRIES = 3  # a batch write that fails (MongoDB restarting) is tried again this often, a second apart
SIZE_REFRESH_S = 0.1


_E164 = re.compile(E164_PATTERN)


@dataclass(frozen=True)
class Outgoing:
    """One message for the batch: what ``SmsGateway.send`` takes, or ``suppress`` with a reason.

    ``to`` is normally a profile's mobile, in the E.164 form it was stored in after
    ``phonenumbers`` checked it (``Contact.mobile``), and is taken as it is: parsing
    it again cost a campaign a tenth of its CPU. Any other form is parsed and
    checked here, as ``send`` does.
    """

    key: str
    kind: str
    to: str
    body: str
    customer_id: Optional[str] = None
    contact_id: Optional[str] = None
    language: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)
    suppressed_reason: Optional[str] = None


# Called once per message put: its record as it now stands, or why it has none.
OnDone = Callable[[Outgoing, Union[SendRecord, Exception]], None]


@dataclass
class _Job:
    message: Outgoing
    doc: Dict[str, Any]  # the reserved record; empty for a message to resume
    resume: bool = False


class BatchSender:
    """Use as ``async with BatchSender(gateway, on_done) as batch: await batch.put(message)``.

    Leaving the block sends what is left and records every outcome.
    """

    def __init__(self, gateway: SmsGateway, on_done: OnDone, *, concurrency: int = 8,
                 pace: Optional[Pace] = None, max_batch: int = 500,
                 flush_every_s: float = 0.25, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.gateway = gateway
        self.db = gateway.db
        self.on_done = on_done
        self.concurrency = max(1, concurrency)
        self.pace = pace
        self.max_batch = max(1, max_batch)
        self.flush_every_s = flush_every_s
        self._monotonic = monotonic
        self._batch: List[Tuple[Outgoing, Dict[str, Any]]] = []
        self._queue: asyncio.Queue[_Job] = asyncio.Queue()
        self._room = asyncio.Event()
        self._outcomes: List[Tuple[Outgoing, Dict[str, Any], SendStatus, Dict[str, Any]]] = []
        self._workers: List[asyncio.Task[None]] = []
        self._tasks: List[asyncio.Task[None]] = []
        self._closing = asyncio.Event()
        self._started = monotonic()
        self._finished = 0
        self._size, self._size_until = 0, float("-inf")

    async def __aenter__(self) -> BatchSender:
        self._started = self._monotonic()
        self._size_until = float("-inf")
        self._workers = [asyncio.create_task(self._work()) for _ in range(self.concurrency)]
        self._tasks = [asyncio.create_task(self._flush_periodically())]
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        try:
            if exc_info[0] is None:
                await self._reserve()
                await self._queue.join()
        finally:
            self._closing.set()
            for task in self._workers:
                task.cancel()  # idle on the empty queue, or (after an error) mid-send: pending, looked up later
            await asyncio.gather(*self._workers, *self._tasks, return_exceptions=True)
            await self._flush(retries=DATABASE_RETRIES)

    # -- reserving --------------------------------------------------------------------
    async def put(self, message: Outgoing) -> None:
        """Queue one message; a full batch is reserved (one insert) once the senders need more work."""
        try:
            stored_form = isinstance(message.to, str) and _E164.fullmatch(message.to)
            to = message.to if stored_form else to_e164(message.to, mobile_only=False)
        except InvalidPhoneNumber as exc:
            self.on_done(message, exc)
            return
        doc = self.gateway.record_doc(
            key=message.key, kind=message.kind, to=to, body=message.body, customer_id=message.customer_id,
            contact_id=message.contact_id, language=message.language, meta=message.meta,
            now=self.gateway.now(), suppressed_reason=message.suppressed_reason)
        self._batch.append((message, doc))
        if len(self._batch) >= self.batch_size():
            await self._reserve()

    def batch_size(self) -> int:
        """About a quarter of a lease's worth of messages at the rate reached so far.

        Worked out afresh at most every ``SIZE_REFRESH_S``: it is asked for every message
        put and every message sent, and a rate does not move faster than that.
        """
        now = self._monotonic()
        if now < self._size_until:
            return self._size
        elapsed = now - self._started
        if self._finished < self.concurrency or elapsed <= 0:
            size = min(self.max_batch, 4 * self.concurrency)
        else:
            rate = self._finished / elapsed
            size = int(max(self.concurrency, min(self.max_batch, rate * self.gateway.policy.lease_s / 4)))
        self._size, self._size_until = size, now + SIZE_REFRESH_S
        return size

    async def _reserve(self) -> None:
        # The next batch is reserved only as the senders are about to run out: a reserved
        # message should not wait long for its turn (its lease runs meanwhile).
        while self._queue.qsize() > self._low_water():
            self._room.clear()
            await self._room.wait()
        batch, self._batch = self._batch, []
        if not batch:
            return
        docs = [doc for _, doc in batch]
        try:
            slots = await self._with_retries(lambda: self.db.sends.reserve_many(docs), "reserving a batch")
        except DatabaseError as exc:
            for message, _ in batch:
                self.on_done(message, exc)  # nothing recorded: a rerun of the campaign plans them again
            return
        for (message, doc), slot in zip(batch, slots, strict=True):
            self._place(message, doc, slot)

    def _low_water(self) -> int:
        return max(self.concurrency, self.batch_size() // 4)

    def _place(self, message: Outgoing, doc: Dict[str, Any], slot: BatchSlot) -> None:
        if slot.error is not None:
            self.on_done(message, slot.error)
            return
        record = slot.record
        if not slot.created and record is not None and record.lease_until == doc.get("lease_until") \
                and record.body == doc["body"] and record.status == SendStatus.pending.value:
            slot = BatchSlot(True)  # our own insert, stored before a retried batch write failed
        if slot.created:
            if doc["status"] == SendStatus.suppressed.value:
                self.on_done(message, SendRecord.from_stored(doc))
            else:
                self._queue.put_nowait(_Job(message, doc))
            return
        if record is None:  # gone between the insert and the read: nothing to say of it
            self.on_done(message, KeyError(message.key))
            return
        if record.body != doc["body"] or record.to != doc["to"]:
            log.warning("key %s reused with different content; the first message stands", message.key)
        if SendStatus(record.status) in UNFINISHED:
            self._queue.put_nowait(_Job(message, {}, resume=True))
        else:
            self.on_done(message, record)

    # -- sending ----------------------------------------------------------------------
    async def _work(self) -> None:
        while True:
            job = await self._queue.get()
            if self._queue.qsize() <= self._low_water():
                self._room.set()
            try:
                await self._send(job)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # one bad message must not stop the others; it is reported
                log.exception("sending %s failed", job.message.key)
                self.on_done(job.message, exc)
            finally:
                self._queue.task_done()

    async def _send(self, job: _Job) -> None:
        gateway, key = self.gateway, job.message.key
        if job.resume:
            self._done(job.message, await gateway.resume(key, pace=self.pace))
            return
        # A lease that ran low while the message waited is renewed (or found taken) by ``attempt``.
        outcome = await gateway.attempt(key, job.doc["to"], job.doc["body"], job.doc["lease_until"],
                                        first_attempt_counted=True, pace=self.pace, segments=job.doc["segments"])
        if outcome is None:
            self._done(job.message, await gateway.current(key))
            return
        self._outcomes.append((job.message, job.doc, *outcome))
        if len(self._outcomes) >= self.batch_size():
            await self._flush()

    def _done(self, message: Outgoing, result: Union[SendRecord, Exception]) -> None:
        self._finished += 1
        self.on_done(message, result)

    # -- recording outcomes --------------------------------------------------------------
    async def _flush_periodically(self) -> None:
        # Never cancelled mid-write: it ends when the batch closes, which then flushes what is left.
        while not self._closing.is_set():
            try:
                await asyncio.wait_for(self._closing.wait(), self.flush_every_s)
            except asyncio.TimeoutError:
                await self._flush()

    async def _flush(self, *, retries: int = 0) -> None:
        """Write the outcomes gathered so far in one bulk update.

        If the write fails they are kept for the next flush: their records stay
        pending (and leased) meanwhile, so nothing is resent, and nothing is lost
        unless the process dies too, in which case the next run looks them up.
        """
        outcomes, self._outcomes = self._outcomes, []
        if not outcomes:
            return
        updates = [(doc["_id"], status, fields) for _, doc, status, fields in outcomes]
        try:
            moved = await self._with_retries(lambda: self.db.sends.finish_many(updates), "recording outcomes",
                                             retries=retries)
            # Fewer moved: another sender moved some meanwhile (a lease ran out while the write waited),
            # and theirs stands; read them all back.
            current = None if moved == len(outcomes) else await self.db.sends.many([key for key, _, _ in updates])
        except Exception as exc:
            if isinstance(exc, DatabaseError) and not retries:
                log.warning("recording %d outcomes failed (%s); trying again with the next batch", len(outcomes), exc)
                self._outcomes[:0] = outcomes
                return
            log.error("recording %d outcomes failed (%s); their records stay pending and are looked up "
                      "before any resend", len(outcomes), exc)
            for message, *_ in outcomes:
                self._done(message, exc)
            return
        for message, doc, status, fields in outcomes:
            if current is None:
                self._done(message, SendRecord.from_stored({**doc, **fields, "status": status.value}))
            else:
                self._done(message, current.get(doc["_id"]) or KeyError(doc["_id"]))

    async def _with_retries(self, write: Callable[[], Awaitable[Any]], what: str, *,
                            retries: int = DATABASE_RETRIES) -> Any:
        for attempt in range(retries + 1):
            try:
                return await write()
            except DatabaseError as exc:
                if attempt == retries:
                    raise
                log.warning("%s failed (%s); again in 1 s", what, exc)
                await asyncio.sleep(1.0)
        raise AssertionError("unreachable")
