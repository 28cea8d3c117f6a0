"""The SMS gateway on the real twilio-python client against the local emulator."""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from typing import Any, List

import pytest
from aiohttp import web

from carecore.clock import utcnow
from carecore.model import SendStatus
from carecore.phones import InvalidPhoneNumber
from carecore.repository import Database
from carecore.sms import signature
from carecore.sms.gateway import CallbackResult, GatewayPolicy, SmsGateway
from carecore.sms.message import Sms
from carecore.sms.transports import TwilioTransport
from localrun.twilio_emulator import FaultPlan, TwilioEmulator
from tests import factories
from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM, start_app

TO = "+8613800138000"


def sent_to(emu: TwilioEmulator, number: str) -> list[dict]:
    return [m for m in emu.messages.values() if m["to"] == number]


async def test_delivery_with_signed_status_callbacks(db: Database, gateway: SmsGateway, emulator, auth_token) -> None:
    emu, _ = emulator
    seen: list[tuple[str, bool]] = []
    delivered = asyncio.Event()

    async def status(request: web.Request) -> web.Response:
        params = dict(await request.post())
        ok = signature.is_valid(auth_token, gateway.status_callback_url or "", params,
                                request.headers.get(signature.HEADER))
        seen.append((params["MessageStatus"], ok))
        if not ok:
            return web.Response(status=403)
        await gateway.handle_status_callback(params["MessageSid"], params["MessageStatus"],
                                             int(params["ErrorCode"]) if "ErrorCode" in params else None)
        if params["MessageStatus"] == "delivered":
            delivered.set()
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/twilio/status", status)
    runner, url = await start_app(app)
    gateway.status_callback_url = url + "/twilio/status"
    try:
        record = await gateway.send(Sms.of(key="notice:1", kind="notice", to="138 0013 8000",
                                    body="【中国电信】尊敬的客户，您的专线已恢复。", customer_id="KA0000001"))
        assert record.status == "queued" and record.sid and record.sid.startswith("SM")
        assert (record.encoding, record.segments) == ("UCS-2", 1)
        await asyncio.wait_for(delivered.wait(), 10)  # the emulator's callbacks, applied by the handler above
        stored = await db.sends.get("notice:1")
        assert stored is not None and stored.status == "delivered"
        assert seen == [("sent", True), ("delivered", True)]
        assert [h.status for h in stored.history] == ["pending", "queued", "sent", "delivered"]
        assert len(sent_to(emu, TO)) == 1
    finally:
        await runner.cleanup()


async def test_same_key_sends_once(gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    first = await gateway.send(Sms.of(key="birthday:c1:2026-11-23", kind="birthday", to=TO, body="Happy birthday!"))
    again = await gateway.send(Sms.of(key="birthday:c1:2026-11-23", kind="birthday", to=TO, body="Happy birthday!"))
    assert first.sid == again.sid
    assert emu.stats.create_requests == 1 and len(sent_to(emu, TO)) == 1
    assert (first.encoding, first.segments) == ("GSM-7", 1)


async def test_a_body_twilio_takes_is_sent_however_many_segments_it_costs(gateway: SmsGateway, emulator) -> None:
    """A reply of three circuits' SLA, English with Chinese sites, had cost 11 segments and failed the record's limit
    of 10: the customer got no answer."""
    emu, _ = emulator
    for n, body in enumerate(["中" * 700, "😀" * 800]):  # 11 segments; 800 emoji, 1,600 UTF-16 units: 24
        record = await gateway.send(Sms.of(key=f"reply:long-{n}:0", kind="reply", to=TO, body=body))
        assert record.status != SendStatus.pending and record.segments == (11, 24)[n]
    assert [m["body"] for m in sent_to(emu, TO)] == ["中" * 700, "😀" * 800]


async def test_concurrent_senders_of_one_key_send_once(gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    results = await asyncio.gather(*[
        gateway.send(Sms.of(key="usage:KA0000001:2026-10", kind="usage", to=TO, body="usage")) for _ in range(5)
    ])
    assert len({r.id for r in results}) == 1
    assert emu.stats.create_requests == 1


async def test_429_is_retried_with_backoff(gateway: SmsGateway, emulator, fast_sleeps) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(script=["429", "429"], retry_after_s=2))
    record = await gateway.send(Sms.of(key="k429", kind="notice", to=TO, body="hi"))
    assert record.status == "queued" and record.attempts == 3
    assert len(fast_sleeps) == 2 and all(s >= 2 for s in fast_sleeps)
    assert len(sent_to(emu, TO)) == 1


async def test_429_exhausted_is_deferred_then_sent_once(gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(script=["429"] * 4))
    record = await gateway.send(Sms.of(key="k429x", kind="notice", to=TO, body="hi"))
    assert record.status == "deferred" and record.error_code == 20429 and not sent_to(emu, TO)
    again = await gateway.send(Sms.of(key="k429x", kind="notice", to=TO, body="hi"))
    assert again.status == "queued" and len(sent_to(emu, TO)) == 1


async def test_503_with_retry_after_is_retried(gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(script=["503"]))
    record = await gateway.send(Sms.of(key="k503", kind="notice", to=TO, body="hi"))
    assert record.status == "queued" and record.attempts == 2


@pytest.mark.parametrize(("number", "code", "plan_field"), [
    ("+8613700000001", 21211, "invalid_numbers"),
    ("+8613700000002", 21614, "landline_numbers"),
])
async def test_permanent_errors_fail_without_retry(gateway: SmsGateway, emulator, number, code, plan_field) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(**{plan_field: {number}}))
    record = await gateway.send(Sms.of(key=f"k{code}", kind="notice", to=number, body="hi"))
    assert record.status == "failed" and record.error_code == code and record.attempts == 1
    assert emu.stats.create_requests == 1


async def test_21610_fails_and_opts_the_contact_out(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await db.customers.insert(factories.customer())
    emu.set_faults(FaultPlan(unsubscribed_numbers={TO}))
    record = await gateway.send(Sms.of(key="k21610", kind="usage", to=TO, body="hi"))
    assert record.status == "failed" and record.error_code == 21610
    customer = await db.customers.get("KA0000001")
    assert customer is not None and customer.contacts[0].sms_opt_out is True
    assert customer.contacts[0].opt_out_source == "twilio_21610"
    [entry] = await db.audit.for_customer("KA0000001")
    assert (entry.source, entry.action, entry.actor) == ("twilio", "opted_out", "twilio")


@pytest.mark.parametrize("stored", [True, False])
async def test_5xx_is_ambiguous_after_exactly_one_request(gateway: SmsGateway, emulator, stored) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(script=["500"], store_on_500=stored))
    record = await gateway.send(Sms.of(key="k500", kind="notice", to=TO, body="maybe"))
    assert record.status == "ambiguous" and record.attempts == 1
    assert emu.stats.create_requests == 1
    # Resolution looks the message up first: resend only if Twilio does not have it.
    resolved = await gateway.send(Sms.of(key="k500", kind="notice", to=TO, body="maybe"))
    assert resolved.status == "queued"
    assert emu.stats.list_requests == 1
    assert emu.stats.create_requests == (1 if stored else 2)
    assert len(sent_to(emu, TO)) == 1


async def test_every_provider_call_is_paced_and_nothing_else(gateway: SmsGateway, emulator) -> None:
    """The rate limit covers a retry after a 429 and a resend after a lookup, with the message's segments."""
    emu, _ = emulator
    paced: list[int] = []

    async def pace(segments: int) -> None:
        paced.append(segments)

    two_segments = "长" * 80  # UCS-2: 70 characters in one segment, 67 in each of several
    emu.set_faults(FaultPlan(script=["429", "ok", "500"], store_on_500=False))
    first = await gateway.send(Sms.of(key="kpace1", kind="notice", to=TO, body=two_segments), pace=pace)
    assert first.status == "queued" and first.attempts == 2 and paced == [2, 2]  # the 429, then its retry
    lost = await gateway.send(Sms.of(key="kpace2", kind="notice", to=TO, body="never stored"), pace=pace)
    assert lost.status == "ambiguous" and paced == [2, 2, 1]
    resent = await gateway.resume("kpace2", pace=pace)  # the lookup finds nothing: one resend, paced
    assert resent.status == "queued" and paced == [2, 2, 1, 1]
    emu.set_faults(FaultPlan(script=["500"], store_on_500=True))
    stored = await gateway.send(Sms.of(key="kpace3", kind="notice", to=TO, body="stored anyway"), pace=pace)
    found = await gateway.send(Sms.of(key="kpace3", kind="notice", to=TO, body="stored anyway"), pace=pace)
    assert stored.status == "ambiguous" and found.meta.get("note") == "found by lookup"
    again = await gateway.send(Sms.of(key="kpace1", kind="notice", to=TO, body=two_segments), pace=pace)
    assert again.status == "queued" and paced == [2, 2, 1, 1, 1]  # neither a lookup nor a finished key calls it
    assert emu.stats.create_requests == 5


async def test_timeout_is_ambiguous_and_resolved_by_lookup(gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    emu.set_faults(FaultPlan(script=["timeout"], timeout_hang_s=3))
    record = await gateway.send(Sms.of(key="ktimeout", kind="notice", to=TO, body="slow"))
    assert record.status == "ambiguous" and "timeout" in (record.error_message or "")
    resolved = await gateway.resume("ktimeout")
    assert resolved.status == "queued" and resolved.sid == next(iter(emu.messages))
    assert emu.stats.create_requests == 1


async def test_pending_left_by_a_dead_process_is_looked_up_not_resent(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await gateway.send(Sms.of(key="kdead", kind="notice", to=TO, body="once"))
    # Simulate a crash between the provider accepting and us recording it.
    await db.sends.finish("kdead", SendStatus.pending, sid=None, lease_until=utcnow() - timedelta(seconds=1))
    again = await gateway.send(Sms.of(key="kdead", kind="notice", to=TO, body="once"))
    assert again.status == "queued" and len(sent_to(emu, TO)) == 1
    # A crash before the provider was called: the lookup finds nothing, so it is sent.
    await db.sends.reserve({"_id": "kdead2", "kind": "notice", "to": TO, "body": "twice?", "encoding": "GSM-7",
                            "segments": 1, "status": "pending", "lease_until": utcnow() - timedelta(seconds=1),
                            "created_at": utcnow(), "updated_at": utcnow()})
    resumed = await gateway.send(Sms.of(key="kdead2", kind="notice", to=TO, body="twice?"))
    assert resumed.status == "queued" and len(sent_to(emu, TO)) == 2


async def test_live_lease_is_respected(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    await db.sends.reserve({"_id": "kbusy", "kind": "notice", "to": TO, "body": "in flight", "encoding": "GSM-7",
                            "segments": 1, "status": "pending", "lease_until": utcnow() + timedelta(seconds=30),
                            "created_at": utcnow(), "updated_at": utcnow()})
    record = await gateway.send(Sms.of(key="kbusy", kind="notice", to=TO, body="in flight"))
    assert record.status == "pending" and emu.stats.create_requests == 0


async def test_bad_input_writes_nothing(db: Database, gateway: SmsGateway, emulator) -> None:
    with pytest.raises(InvalidPhoneNumber):
        await gateway.send(Sms.of(key="kbad", kind="notice", to="12345", body="hi"))
    assert await db.sends.get("kbad") is None


async def test_suppression_is_recorded_with_reason(db: Database, gateway: SmsGateway, emulator) -> None:
    emu, _ = emulator
    record = await gateway.send(Sms.of(key="birthday:x:2026-11-23", kind="birthday", to=TO, body="生日快乐",suppressed_reason="opted_out"))
    assert record.status == "suppressed" and record.suppressed_reason == "opted_out"
    again = await gateway.send(Sms.of(key="birthday:x:2026-11-23", kind="birthday", to=TO, body="生日快乐"))
    assert again.status == "suppressed" and emu.stats.create_requests == 0


async def test_wrong_credentials_are_a_permanent_failure(db: Database, emulator) -> None:
    from carecore.sms.gateway import SmsGateway as Gateway
    from carecore.sms.transports import TwilioTransport
    from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

    _, url = emulator
    gw = Gateway(db, TwilioTransport(TEST_ACCOUNT_SID, "wrong", from_number=TEST_FROM, base_url=url))
    try:
        record = await gw.send(Sms.of(key="kauth", kind="notice", to=TO, body="hi"))
    finally:
        await gw.close()
    assert record.status == "failed" and record.error_code == 20003


async def test_unreachable_provider_is_deferred(db: Database) -> None:
    from carecore.sms.transports import TwilioTransport
    from localrun.mongod import free_port
    from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

    gw = SmsGateway(db, TwilioTransport(TEST_ACCOUNT_SID, "t", from_number=TEST_FROM,
                                        base_url=f"http://127.0.0.1:{free_port()}"))
    try:
        record = await gw.send(Sms.of(key="kdown", kind="notice", to=TO, body="hi"))
    finally:
        await gw.close()
    assert record.status == "deferred"


async def test_a_callback_before_its_sid_is_recorded_is_parked_then_applied(db: Database, gateway: SmsGateway) -> None:
    """Twilio may report delivery before the sender has written the sid its API call returned."""
    now = utcnow()
    sid, other = "SM" + "a" * 32, "SM" + "b" * 32
    reservation = await db.sends.reserve(factories.send_record("notice:early", now=now))
    assert reservation.created

    assert await gateway.handle_status_callback(sid, "sent", None) == CallbackResult.parked
    assert await gateway.handle_status_callback(sid, "delivered", None) == CallbackResult.parked
    assert await gateway.handle_status_callback(sid, "delivered", None) == CallbackResult.parked  # Twilio retries
    assert sorted([p.id async for p in db.parked_callbacks.waiting()]) == [f"{sid}/delivered", f"{sid}/sent"]
    assert await gateway.apply_parked_callbacks() == {"waiting": 2}  # the sid is still unknown

    await db.sends.finish("notice:early", SendStatus.queued, only_from=[SendStatus.pending], sid=sid)
    assert await gateway.apply_parked_callbacks() == {"applied": 2}
    stored = await db.sends.get("notice:early")
    assert stored is not None and stored.status == "delivered"
    assert [h.status for h in stored.history] == ["pending", "queued", "sent", "delivered"]
    assert [p async for p in db.parked_callbacks.waiting()] == []

    # Once the sid is known, a late callback is simply stale.
    assert await gateway.handle_status_callback(sid, "sent", None) == CallbackResult.ignored
    assert await gateway.handle_status_callback(sid, "bogus", None) == CallbackResult.ignored

    # A sid that never turns up is dropped after the grace time, not kept for ever.
    assert await gateway.handle_status_callback(other, "failed", 30008) == CallbackResult.parked
    assert await gateway.apply_parked_callbacks(give_up_after=timedelta(hours=1)) == {"waiting": 1}
    assert await gateway.apply_parked_callbacks(give_up_after=timedelta(0)) == {"dropped": 1}
    assert [p async for p in db.parked_callbacks.waiting()] == []


async def test_a_parked_callback_that_lost_the_race_is_stale(db: Database, gateway: SmsGateway) -> None:
    sid = "SM" + "c" * 32
    await db.sends.reserve(factories.send_record("notice:raced", now=utcnow()))
    assert await gateway.handle_status_callback(sid, "sent", None) == CallbackResult.parked
    await db.sends.finish("notice:raced", SendStatus.delivered, only_from=[SendStatus.pending], sid=sid)
    assert await gateway.apply_parked_callbacks() == {"stale": 1}
    stored = await db.sends.get("notice:raced")
    assert stored is not None and stored.status == "delivered"


@pytest.mark.parametrize("level", [logging.INFO, logging.WARNING])
async def test_twilio_request_logging_follows_its_logger(emulator, auth_token, caplog, level) -> None:
    """twilio-python's request log is kept when its logger wants INFO, and costs nothing when it does not."""
    from carecore.sms.transports import TwilioTransport
    from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

    _, url = emulator
    transport = TwilioTransport(TEST_ACCOUNT_SID, auth_token, from_number=TEST_FROM, base_url=url)
    caplog.set_level(level, logger="twilio.async_http_client")
    try:
        accepted = await transport.create(TO, "hi", None)
    finally:
        await transport.close()
    assert accepted.sid.startswith("SM")
    lines = [r.getMessage() for r in caplog.records if r.name == "twilio.async_http_client"]
    if level == logging.INFO:
        assert any(line.startswith("POST Request: ") for line in lines)
        assert any(line.startswith("Response Status Code: 201") for line in lines)
        assert not any(auth_token in line or "Authorization" in line for line in lines)
    else:
        assert lines == []


class Clock:
    def __init__(self) -> None:
        self.at = utcnow()

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture
async def clocked(db: Database, emulator, auth_token: str):
    """A gateway on a clock the test moves, whose backoff sleeps run the test's hooks."""
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

    record = await gateway.send(Sms.of(key="notice:slow", kind="notice", to=TO, body="hi"), pace=slow_pace)
    assert record.status == "queued" and record.attempts == 1 and emu.stats.create_requests == 1


async def test_a_message_taken_over_while_it_waited_is_not_sent(db: Database, clocked, emulator) -> None:
    emu, _ = emulator
    gateway, clock, _ = clocked

    async def pace_while_another_sender_claims(segments: int) -> None:
        clock.at += timedelta(seconds=11)  # the lease ran out meanwhile, and another sender took the message
        assert await db.sends.claim("notice:taken", now=clock.at, lease_until=gateway.lease_from(clock.at)) is not None

    record = await gateway.send(Sms.of(key="notice:taken", kind="notice", to=TO, body="hi"),
                                pace=pace_while_another_sender_claims)
    assert record.status == "pending" and emu.stats.create_requests == 0


async def test_a_sender_whose_lease_was_taken_during_a_backoff_stops(db: Database, clocked, emulator) -> None:
    """Counting the next attempt fails once another sender holds the lease."""
    emu, _ = emulator
    gateway, clock, sleeps = clocked
    emu.set_faults(FaultPlan(script=["429"]))

    async def long_backoff(seconds: float) -> None:
        clock.at += timedelta(seconds=11)
        await db.sends.claim("notice:backoff", now=clock.at, lease_until=gateway.lease_from(clock.at))

    sleeps.append(long_backoff)
    record = await gateway.send(Sms.of(key="notice:backoff", kind="notice", to=TO, body="hi"))
    assert record.status == "pending" and record.attempts == 1 and emu.stats.create_requests == 1


async def test_a_final_status_whose_callback_was_lost_is_looked_up(db: Database, clocked, emulator) -> None:
    """Callbacks refused (the database was down) are made up for by lookups an hour on, two at the most."""
    gateway, clock, _ = clocked
    delivered = asyncio.Event()

    async def database_down(request: web.Request) -> web.Response:
        if (await request.post())["MessageStatus"] == "delivered":
            delivered.set()
        return web.Response(status=500)

    app = web.Application()
    app.router.add_post("/twilio/status", database_down)
    runner, url = await start_app(app)
    try:
        gateway.status_callback_url = url + "/twilio/status"
        await gateway.send(Sms.of(key="notice:lost", kind="notice", to=TO, body="hi"))
        gateway.status_callback_url = None  # the emulator's stays queued: a route that never reports
        await gateway.send(Sms.of(key="notice:quiet", kind="notice", to="+8613900139000", body="hi"))
        await asyncio.wait_for(delivered.wait(), 10)
    finally:
        await runner.cleanup()
    assert (await db.sends.get("notice:lost")).status == "queued"
    clock.at += timedelta(minutes=59)
    assert await gateway.check_statuses() == {}
    clock.at += timedelta(minutes=2)
    assert await gateway.check_statuses() == {"delivered": 1, "unchanged": 1}
    assert (await db.sends.get("notice:lost")).status == "delivered"
    clock.at += timedelta(hours=1, minutes=1)
    assert await gateway.check_statuses() == {"unchanged": 1}
    clock.at += timedelta(days=1)
    assert await gateway.check_statuses() == {}
    quiet = await db.sends.get("notice:quiet")
    assert quiet.status == "queued" and quiet.status_checks == 2
