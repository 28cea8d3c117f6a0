"""The gateway's batched path (campaigns): exactly once, one write per batch, a lease that is a token."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Dict, List, Union

import pytest
from pymongo.errors import AutoReconnect

from carecore.clock import utcnow
from carecore.models import SendRecord, SendStatus
from carecore.phones import InvalidPhoneNumber
from carecore.repository import Database, RecordValidationError
from carecore.sms.batch import BatchSender, Outgoing
from carecore.sms.gateway import GatewayPolicy, SmsGateway
from carecore.sms.transports import TwilioTransport
from carecore.twilio_emulator import FaultPlan, TwilioEmulator
from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

BODY = "【中国电信】尊敬的客户，祝您生日快乐！"


def messages(count: int, *, start: int = 0) -> List[Outgoing]:
    return [Outgoing(f"birthday:C{i:04d}:2026-11-23", "birthday", f"+86138000{i:05d}", BODY, "KA0000001",
                     f"C{i:04d}", "zh", {"campaign": "birthday:2026-11-23"}) for i in range(start, start + count)]


class Results:
    def __init__(self) -> None:
        self.by_key: Dict[str, Union[SendRecord, Exception]] = {}

    def __call__(self, message: Outgoing, result: Union[SendRecord, Exception]) -> None:
        assert message.key not in self.by_key, f"{message.key} reported twice"
        self.by_key[message.key] = result

    def statuses(self) -> Dict[str, str]:
        return {k: (type(v).__name__ if isinstance(v, Exception) else v.status) for k, v in self.by_key.items()}


class Calls:
    """Counts the repository's batch writes (the real ones run)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, db: Database) -> None:
        self.reserve: List[int] = []
        self.finish: List[int] = []
        reserve, finish = db.sends.reserve_many, db.sends.finish_many

        async def counted_reserve(docs: Any) -> Any:
            self.reserve.append(len(docs))
            return await reserve(docs)

        async def counted_finish(outcomes: Any) -> Any:
            self.finish.append(len(outcomes))
            return await finish(outcomes)

        monkeypatch.setattr(db.sends, "reserve_many", counted_reserve)
        monkeypatch.setattr(db.sends, "finish_many", counted_finish)


async def send_all(gateway: SmsGateway, batch: List[Outgoing], **kwargs: Any) -> Results:
    results = Results()
    async with BatchSender(gateway, results, **kwargs) as sender:
        for message in batch:
            await sender.put(message)
    return results


async def test_each_message_once_with_a_write_per_batch(db: Database, gateway: SmsGateway, emulator,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    emu, _ = emulator
    calls = Calls(monkeypatch, db)
    results = await send_all(gateway, messages(120), concurrency=4, max_batch=50)
    assert set(results.statuses().values()) == {"queued"} and len(results.by_key) == 120
    assert sorted(m["to"] for m in emu.messages.values()) == sorted(m.to for m in messages(120))
    assert sum(calls.reserve) == 120 and len(calls.reserve) < 120 / 10  # batches, not one write per message
    assert sum(calls.finish) == 120 and len(calls.finish) < 120 / 2
    stored = await db.sends.get(messages(1)[0].key)
    assert stored is not None and stored.status == "queued" and stored.sid and stored.attempts == 1
    assert stored.lease_until is None and [h.status for h in stored.history] == ["pending", "queued"]
    assert results.by_key[stored.id].sid == stored.sid  # type: ignore[union-attr]

    again = await send_all(gateway, messages(120), concurrency=4, max_batch=50)
    assert emu.stats.create_requests == 120 and set(again.statuses().values()) == {"queued"}
    assert all(r.created_at < stored.updated_at + timedelta(seconds=1) for r in again.by_key.values())  # type: ignore[union-attr]


async def test_bad_messages_are_refused_alone(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    good = messages(3)
    bad_number = Outgoing("birthday:bad-number", "birthday", "12345", BODY)
    too_long = Outgoing("birthday:too-long", "birthday", "+8613900000001", "长" * 1601)
    bad_kind = Outgoing("birthday:bad-kind", "Birthday!", "+8613900000002", BODY)
    typed = Outgoing("birthday:typed", "birthday", "139 0000 0004", BODY)  # not E.164: parsed, and normalised
    results = await send_all(gateway, [good[0], bad_number, good[1], too_long, bad_kind, good[2], typed])
    stored_typed = await db.sends.get("birthday:typed")
    assert stored_typed is not None and stored_typed.to == "+8613900000004" and stored_typed.status == "queued"
    assert isinstance(results.by_key["birthday:bad-number"], InvalidPhoneNumber)
    refused = results.by_key["birthday:too-long"]
    assert isinstance(refused, RecordValidationError) and "body" in refused.fields
    assert isinstance(results.by_key["birthday:bad-kind"], RecordValidationError)
    assert [results.by_key[m.key].status for m in good] == ["queued"] * 3  # type: ignore[union-attr]
    assert emu.stats.create_requests == 4
    for key in ("birthday:bad-number", "birthday:too-long", "birthday:bad-kind"):
        assert await db.sends.get(key) is None


async def test_suppressed_is_recorded_not_sent(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    kept = Outgoing("birthday:kept", "birthday", "+8613900000003", BODY, suppressed_reason="opted_out")
    results = await send_all(gateway, [kept, *messages(2)])
    record = results.by_key["birthday:kept"]
    assert isinstance(record, SendRecord) and record.status == "suppressed"
    stored = await db.sends.get("birthday:kept")
    assert stored is not None and stored.suppressed_reason == "opted_out" and stored.lease_until is None
    assert emu.stats.create_requests == 2


async def test_provider_outcomes_are_recorded_in_the_batch(db: Database, gateway: SmsGateway, emulator,
                                                           fast_sleeps) -> None:
    emu, _ = emulator
    batch = messages(4)
    emu.set_faults(FaultPlan(script=["429", "ok", "500"], invalid_numbers={batch[3].to}))
    results = await send_all(gateway, batch, concurrency=1)
    assert results.statuses() == {batch[0].key: "queued", batch[1].key: "ambiguous", batch[2].key: "queued",
                                  batch[3].key: "failed"}
    throttled = await db.sends.get(batch[0].key)
    assert throttled is not None and throttled.attempts == 2 and len(fast_sleeps) == 1
    ambiguous = await db.sends.get(batch[1].key)
    assert ambiguous is not None and ambiguous.status == "ambiguous" and ambiguous.error_code == 20500
    resumed = await gateway.resume(batch[1].key)  # stored by the emulator before its 500: found, not resent
    assert resumed.status == "queued" and resumed.meta.get("note") == "found by lookup"
    assert sorted(m["to"] for m in emu.messages.values()) == sorted(m.to for m in batch[:3])


async def test_outcomes_never_written_are_looked_up_not_resent(db: Database, gateway: SmsGateway, emulator,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """As if the process died after sending, before its bulk update: the records stay pending."""
    emu, _ = emulator

    async def lost(outcomes: Any) -> int:
        raise RuntimeError("process gone")

    monkeypatch.setattr(db.sends, "finish_many", lost)
    results = await send_all(gateway, messages(5))
    assert set(results.statuses().values()) == {"RuntimeError"} and emu.stats.create_requests == 5
    monkeypatch.undo()
    for message in messages(5):
        await db.sends.finish(message.key, SendStatus.pending, lease_until=utcnow() - timedelta(seconds=1))
        record = await gateway.resume(message.key)
        assert record.status == "queued" and record.meta.get("note") == "found by lookup"
    assert emu.stats.create_requests == 5 and emu.stats.list_requests == 5


async def test_resends_after_a_lookup_are_paced_like_first_sends(db: Database, gateway: SmsGateway, emulator) -> None:
    """Reserved by a sender that died before sending: put again, they are looked up, then sent at the rate."""
    emu, _ = emulator
    earlier = utcnow() - timedelta(minutes=5)  # their leases ran out long ago
    left = messages(3)
    await db.sends.reserve_many([gateway.record_doc(key=m.key, kind=m.kind, to=m.to, body=m.body,
                                                    customer_id=m.customer_id, contact_id=m.contact_id,
                                                    language=m.language, meta=m.meta, now=earlier) for m in left])
    paced: List[int] = []

    async def pace(segments: int) -> None:
        paced.append(segments)

    results = await send_all(gateway, messages(5), concurrency=2, pace=pace)
    assert set(results.statuses().values()) == {"queued"} and len(results.by_key) == 5
    assert paced == [1] * 5 and emu.stats.create_requests == 5 and emu.stats.list_requests == 3
    for message in left:
        record = await db.sends.get(message.key)
        assert record is not None and record.attempts == 2 and record.meta.get("note") is None


async def test_a_failed_bulk_update_is_written_with_the_next(db: Database, gateway: SmsGateway, emulator,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    finish = db.sends.finish_many
    failures = [AutoReconnect("mongod restarting")]

    async def flaky(outcomes: Any) -> int:
        if failures:
            raise failures.pop()
        return await finish(outcomes)

    monkeypatch.setattr(db.sends, "finish_many", flaky)
    results = await send_all(gateway, messages(30), concurrency=2, max_batch=10)
    assert set(results.statuses().values()) == {"queued"} and not failures
    for message in messages(30):
        stored = await db.sends.get(message.key)
        assert stored is not None and stored.status == "queued"


async def test_a_retried_reservation_keeps_its_own_records(db: Database, gateway: SmsGateway, emulator,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """The insert reached the server, its answer did not: the retry finds its own records, and sends them."""
    emu, _ = emulator
    reserve = db.sends.reserve_many
    lost_answers = [True]

    async def answer_lost(docs: Any) -> Any:
        slots = await reserve(docs)
        if lost_answers:
            lost_answers.pop()
            raise AutoReconnect("connection reset")
        return slots

    monkeypatch.setattr(db.sends, "reserve_many", answer_lost)
    results = await send_all(gateway, messages(6))
    assert set(results.statuses().values()) == {"queued"} and emu.stats.create_requests == 6


class Clock:
    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def clocked(db: Database, emulator, auth_token: str):
    _, url = emulator
    clock = Clock()
    sleeps: List[Any] = []

    async def sleep(seconds: float) -> None:
        for hook in sleeps:
            await hook(seconds)

    transport = TwilioTransport(TEST_ACCOUNT_SID, auth_token, from_number=TEST_FROM, base_url=url, timeout_s=1.0)
    gw = SmsGateway(db, transport, policy=GatewayPolicy(lease_s=10), sleep=sleep, now=clock)
    yield gw, clock, sleeps
    await gw.close()


async def test_a_message_that_waited_past_half_its_lease_renews_it_first(db: Database, clocked, emulator) -> None:
    emu, _ = emulator
    gateway, clock, _ = clocked

    async def slow_pace(segments: int) -> None:
        clock.at += timedelta(seconds=6)  # waited for the rate limit past half of the 10 s lease

    results = await send_all(gateway, messages(1), pace=slow_pace)
    assert results.statuses() == {messages(1)[0].key: "queued"} and emu.stats.create_requests == 1


async def test_a_message_taken_over_while_it_waited_is_not_sent(db: Database, clocked, emulator) -> None:
    emu, _ = emulator
    gateway, clock, _ = clocked
    message = messages(1)[0]

    async def pace_while_another_sender_claims(segments: int) -> None:
        clock.at += timedelta(seconds=11)  # the lease ran out meanwhile, and another sender took the message
        assert await db.sends.claim(message.key, now=clock.at, lease_until=gateway.lease_from(clock.at)) is not None

    results = await send_all(gateway, [message], pace=pace_while_another_sender_claims)
    assert results.statuses() == {message.key: "pending"} and emu.stats.create_requests == 0


async def test_a_sender_whose_lease_was_taken_during_a_backoff_stops(db: Database, clocked, emulator) -> None:
    """The per-message path too: counting the next attempt fails once another sender holds the lease."""
    emu, _ = emulator
    gateway, clock, sleeps = clocked
    emu.set_faults(FaultPlan(script=["429"]))

    async def long_backoff(seconds: float) -> None:
        clock.at += timedelta(seconds=11)
        await db.sends.claim("notice:backoff", now=clock.at, lease_until=gateway.lease_from(clock.at))

    sleeps.append(long_backoff)
    record = await gateway.send(key="notice:backoff", kind="notice", to="+8613900000009", body=BODY)
    assert record.status == "pending" and record.attempts == 1 and emu.stats.create_requests == 1
    assert isinstance(emu, TwilioEmulator)


async def test_outcomes_written_together_are_stored_as_one_by_one(db: Database, gateway: SmsGateway,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """``finish_many`` groups records moving alike into one update; each ends exactly as ``finish`` leaves it."""
    import carecore.repository as repository

    now = utcnow()
    monkeypatch.setattr(repository, "utcnow", lambda: now)
    sent = [now + timedelta(milliseconds=i) for i in range(4)]

    def outcomes_with(sids: str) -> List[Any]:  # several alike (queued with a sid), some alone, errors alike and differing
        return [(SendStatus.queued, {"sid": "SM" + sids[0] * 32, "sent_at": sent[0], "lease_until": None}),
                (SendStatus.queued, {"sid": "SM" + sids[1] * 32, "sent_at": sent[1], "lease_until": None}),
                (SendStatus.queued, {"sid": "SM" + sids[2] * 32, "sent_at": sent[1], "lease_until": None}),
                (SendStatus.queued, {"sid": "SM" + sids[3] * 32, "sent_at": sent[2], "lease_until": None,
                                     "meta.note": "resent"}),
                *errors]

    errors = [
        (SendStatus.failed, {"error_code": 21211, "error_message": "invalid 'To'", "lease_until": None}),
        (SendStatus.failed, {"error_code": 21614, "error_message": "not a mobile", "lease_until": None}),
        (SendStatus.deferred, {"error_code": 20429, "error_message": "Too Many Requests", "lease_until": None}),
        (SendStatus.deferred, {"error_code": 20429, "error_message": "Too Many Requests", "lease_until": None}),
        (SendStatus.ambiguous, {"error_code": None, "error_message": "timed out", "lease_until": None}),
        (SendStatus.ambiguous, {"error_code": None, "error_message": "reset", "lease_until": None}),
    ]
    outcomes = outcomes_with("abcd")

    async def reserved(prefix: str) -> List[str]:
        docs = [gateway.record_doc(key=f"{prefix}{m.key}", kind=m.kind, to=m.to, body=m.body,
                                   customer_id=m.customer_id, contact_id=m.contact_id, language=m.language,
                                   meta=m.meta, now=now) for m in messages(len(outcomes) + 1)]
        assert all(slot.created for slot in await db.sends.reserve_many(docs))
        return [doc["_id"] for doc in docs]

    together, alone = await reserved("T"), await reserved("A")
    moved_before = SendStatus.failed, {"error_code": 30003, "error_message": "moved by another sender"}
    for keys in (together, alone):  # the last of each has moved on already: it is left as it is
        await db.sends.finish(keys[-1], moved_before[0], **moved_before[1])
    assert await db.sends.finish_many(
        [(key, status, dict(fields)) for key, (status, fields) in zip(together, [*outcomes, moved_before], strict=True)]
    ) == len(outcomes)
    for key, (status, fields) in zip(alone, [*outcomes_with("1234"), moved_before], strict=True):
        await db.sends.finish(key, status, only_from=[SendStatus.pending], **fields)

    collection = db.sends._col
    for key_together, key_alone in zip(together, alone, strict=True):
        stored_together = await collection.find_one({"_id": key_together})
        stored_alone = await collection.find_one({"_id": key_alone})
        assert [(k, v) for k, v in stored_together.items() if k != "_id"] == \
            [(k, v.translate(str.maketrans("1234", "abcd")) if k == "sid" else v)
             for k, v in stored_alone.items() if k != "_id"]
    assert (await db.sends.get(together[3])).meta["note"] == "resent"
    assert [h.error_code for h in (await db.sends.get(together[5])).history] == [None, 21614]
