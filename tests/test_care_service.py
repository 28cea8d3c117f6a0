"""The care service over HTTP: status callbacks, health, metrics, admin API, and its scheduler."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Tuple
from zoneinfo import ZoneInfo

import aiohttp
import pytest
from aiohttp import web
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED

from care_scheduler.jobs import CareJobs
from care_scheduler.service import JOBS, METRICS, ServiceMetrics, create_app
from carecore.clock import FixedClock, utcnow
from carecore.config import Settings
from carecore.model import ImportStatus, SendStatus, TicketKind
from carecore.repository import Database
from carecore.sms import signature
from carecore.sms.gateway import SmsGateway
from carecore.sms.message import Sms
from localrun.mongod import free_port
from localrun.redis import EmbeddedRedis
from tests import factories
from tests.conftest import admin_api, start_app

ADMIN = "admin-" + "x" * 24
PUBLIC = "https://care.example.cn"
BIRTHDAY_TODAY = {"calendar": "solar", "month": 11, "day": 23}

Service = Tuple[web.Application, str, FixedClock, Settings]


@pytest.fixture
async def service(db: Database, gateway: SmsGateway, auth_token: str) -> AsyncIterator[Service]:
    settings = Settings(twilio_auth_token=auth_token, public_base_url=PUBLIC, care_admin_token=ADMIN)
    clock = FixedClock(datetime(2026, 11, 23, 9, 30))
    app = create_app(settings, db=db, gateway=gateway, clock=clock, catch_up=False)
    runner, url = await start_app(app)
    yield app, url, clock, settings
    await runner.cleanup()


async def seed_birthday(db: Database) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    contacts = [{"contact_id": "0000001-01", "name": "王伟", "role": "主任", "mobile": "+8613800138000",
                 "birthday": BIRTHDAY_TODAY, "language": "zh", "tier": "silver", "billing_contact": True}]
    await db.customers.insert(factories.customer(contacts=contacts))


def admin(token: str = ADMIN) -> Dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def post_status(url: str, params: Dict[str, str], sig: str | None) -> aiohttp.ClientResponse:
    headers = {signature.HEADER: sig} if sig is not None else {}
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/twilio/status", data=params, headers=headers) as resp:
            await resp.read()
            return resp


async def test_status_callbacks_are_signed_and_well_formed(service: Service, db: Database, gateway: SmsGateway,
                                                          auth_token: str) -> None:
    _, url, _, _ = service
    record = await gateway.send(Sms.of(key="notice:1", kind="notice", to="+8613800138000", body="【中国电信】测试"))
    params = {"MessageSid": record.sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    callback_url = PUBLIC + "/twilio/status"

    assert (await post_status(url, params, None)).status == 403
    assert (await post_status(url, params, signature.sign("wrong-token", callback_url, params))).status == 403
    # Signed for the URL the app sees rather than the public one: still forged.
    assert (await post_status(url, params, signature.sign(auth_token, url + "/twilio/status", params))).status == 403
    tampered = signature.sign(auth_token, callback_url, {**params, "MessageStatus": "failed"})
    assert (await post_status(url, params, tampered)).status == 403
    assert (await db.sends.get("notice:1")).status == SendStatus.queued

    resp = await post_status(url, params, signature.sign(auth_token, callback_url, params))
    assert resp.status == 204 and (await db.sends.get("notice:1")).status == SendStatus.delivered

    for bad in ({"MessageSid": record.sid}, {"MessageSid": "SM123", "MessageStatus": "delivered"},
                {"MessageSid": record.sid, "MessageStatus": "exploded"},
                {"MessageSid": record.sid, "MessageStatus": "failed", "ErrorCode": "$gt"}):
        assert (await post_status(url, bad, signature.sign(auth_token, callback_url, bad))).status == 400
    async with aiohttp.ClientSession() as http:
        async with http.post(url + "/twilio/status", json={"MessageSid": {"$gt": ""}}) as resp:
            assert resp.status == 400
        async with http.post(url + "/twilio/status", data={"Body": "x" * 70_000}) as resp:
            assert resp.status == 413
    assert (await db.sends.get("notice:1")).status == SendStatus.delivered


async def test_a_callback_before_the_sid_is_parked_and_applied_by_the_job(service: Service, db: Database,
                                                                          auth_token: str) -> None:
    app, url, _, _ = service
    sid = "SM" + "e" * 32
    await db.sends.reserve(factories.send_record("notice:early", now=utcnow()))
    params = {"MessageSid": sid, "MessageStatus": "delivered", "AccountSid": "AC" + "1" * 32}
    resp = await post_status(url, params, signature.sign(auth_token, PUBLIC + "/twilio/status", params))
    assert resp.status == 204
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/metrics") as metrics:
            assert 'care_status_callbacks_total{result="parked"} 1.0' in await metrics.text()

    jobs: CareJobs = app[JOBS]
    assert jobs.scheduler.get_job("parked_callbacks") is not None and jobs.scheduler.get_job("status_checks")
    assert jobs.scheduler.get_job("retention") is not None
    await jobs.apply_parked_callbacks()  # the sid is not recorded yet: the callback waits
    assert (await db.sends.get("notice:early")).status == SendStatus.pending
    await db.sends.finish("notice:early", SendStatus.queued, only_from=[SendStatus.pending], sid=sid)
    await jobs.apply_parked_callbacks()
    assert (await db.sends.get("notice:early")).status == SendStatus.delivered
    assert [p async for p in db.parked_callbacks.waiting()] == []


async def test_admin_api_needs_the_bearer_token(service: Service) -> None:
    _, url, _, _ = service
    async with aiohttp.ClientSession() as http:
        for headers in ({}, admin("wrong"), {"Authorization": ADMIN}, {"Authorization": "Basic " + ADMIN}):
            async with http.get(url + "/admin/report", headers=headers) as resp:
                assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
            async with http.post(url + "/admin/run", json={"kind": "birthday"}, headers=headers) as resp:
                assert resp.status == 401
        async with http.get(url + "/admin/report", headers=admin()) as resp:
            assert resp.status == 200


async def test_admin_api_refuses_a_query_parameter_the_call_does_not_take(service: Service) -> None:
    """A mistyped filter would otherwise be read as none: the whole group's accounts."""
    _, url, _, _ = service
    async with aiohttp.ClientSession(headers=admin()) as http:
        for path, unknown in (("/admin/churn?scpoe=AM-CZJ01", "scpoe"), ("/admin/tickets?month=2026-11&status=open", "status"),
                              ("/admin/broadcasts?limit=5", "limit"), ("/admin/import/customers?dryrun=true", "dryrun")):
            method = http.post if "import" in path else http.get
            async with method(url + path) as resp:
                assert resp.status == 400 and await resp.json() == {"error": f"unknown query parameter: {unknown}"}
        async with http.get(url + "/admin/churn?scope=AM-CZJ01") as resp:
            assert resp.status == 404  # the parameter it takes, naming no manager that exists
        async with http.get(url + "/admin/nowhere?x=1") as resp:
            assert resp.status == 404


async def test_admin_api_with_no_token_configured_refuses_everyone(db: Database, gateway: SmsGateway) -> None:
    app = create_app(Settings(care_admin_token=None), db=db, gateway=gateway, start_scheduler=False)
    runner, url = await start_app(app)
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/admin/report", headers={"Authorization": "Bearer "}) as resp:
                assert resp.status == 401
    finally:
        await runner.cleanup()


async def test_admin_preview_run_report_and_metrics(service: Service, db: Database, emulator) -> None:
    app, url, _, _ = service
    emu, _ = emulator
    await seed_birthday(db)
    async with aiohttp.ClientSession(headers=admin()) as http:
        async with http.post(url + "/admin/preview", json={"kind": "birthday", "date": "2026-11-23"}) as resp:
            preview = await resp.json()
        assert resp.status == 200 and preview["to_send"] == 1 and preview["segments"] == 2
        assert preview["samples"][0]["to"] == "+861******8000" and "13800138000" not in str(preview)
        assert emu.stats.create_requests == 0

        async with http.post(url + "/admin/run", json={"kind": "birthday"}) as resp:
            report = await resp.json()
        assert resp.status == 200 and report["outcomes"] == {"sent": 1} and emu.stats.create_requests == 1
        async with http.post(url + "/admin/run", json={"kind": "birthday", "date": "2026-11-23"}) as resp:
            assert (await resp.json())["outcomes"] == {"already": 1} and emu.stats.create_requests == 1

        async with http.get(url + "/admin/report", params={"since": "2026-11-01"}) as resp:
            body = await resp.json()
        assert body["by_kind"]["birthday"] in ({"queued": 1}, {"sent": 1}, {"delivered": 1})

        for bad in ({"kind": "fireworks"}, {"kind": {"$gt": ""}}, {"kind": "birthday", "date": "2026-02-30"},
                    {"kind": "birthday", "dry_run": "yes"}, ["birthday"], {"kind": "birthday", "date": "2026-11-24"}):
            async with http.post(url + "/admin/run", json=bad) as resp:
                assert resp.status == 400 and "error" in await resp.json()
        async with http.post(url + "/admin/run", data=b"{not json", headers={"Content-Type": "application/json"}) as resp:
            assert resp.status == 400
        async with http.get(url + "/admin/report", params={"since": "yesterday"}) as resp:
            assert resp.status == 400

    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthz") as resp:
            health = await resp.json()
        async with http.get(url + "/metrics") as resp:
            metrics = await resp.text()
            assert resp.headers["Content-Type"].startswith("text/plain")
    assert resp.status == 200 and health["status"] == "ok" and health["mongodb"] == "ok"
    assert health["scheduler"] == "running" and set(health["jobs"]) == {"birthday", "holiday", "usage", "compensation", "sla_watch",
                                                                  "brief", "survey", "maintenance", "kpi_brief",
                                                                  "arrears", "broadcast"}
    assert health["jobs"]["birthday"]["schedule"] == "0 9 * * *" and health["jobs"]["birthday"]["next_run"]
    assert health["jobs"]["birthday"]["last_run"]["ok"] is True
    assert health["jobs"]["birthday"]["last_run"]["report"]["outcomes"] == {"already": 1}
    assert 'care_sends{kind="birthday",status="queued"} 1.0' in metrics
    assert "care_scheduler_running 1.0" in metrics and "care_mongodb_up 1.0" in metrics
    assert 'care_job_runs{kind="birthday",result="ok"} 2.0' in metrics
    assert 'care_admin_requests_total{result="unauthorized"}' not in metrics
    assert 'care_admin_requests_total{result="bad_request"} 8.0' in metrics


async def test_metrics_recount_the_sends_log_at_most_as_often_as_configured(db: Database, gateway: SmsGateway,
                                                                           auth_token: str) -> None:
    """A scrape never waits on a long count of the sends log: it shows the last counts and when they were taken."""
    settings = Settings(twilio_auth_token=auth_token, public_base_url=PUBLIC, metrics_recount_s=600)
    clock = FixedClock(datetime(2026, 11, 23, 9, 30))
    app = create_app(settings, db=db, gateway=gateway, clock=clock, start_scheduler=False)
    now = [1000.0]
    app[METRICS] = ServiceMetrics(app, scrape_waits_s=0, monotonic=lambda: now[0])  # as if each count were slow
    runner, url = await start_app(app)

    async def record(key: str) -> None:
        at = utcnow()
        await db.sends.reserve({"_id": key, "kind": "birthday", "to": "+8613800138000", "body": "生日快乐",
                                "encoding": "UCS-2", "segments": 1, "created_at": at, "updated_at": at,
                                "status": "pending", "history": [{"status": "pending", "at": at}]})

    async def scrape() -> str:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/metrics") as resp:
                assert resp.status == 200
                return await resp.text()

    async def scrape_until(fragment: str) -> str:
        for _ in range(100):
            await asyncio.sleep(0.05)
            text = await scrape()
            if fragment in text:
                return text
        raise AssertionError(f"no {fragment!r} in /metrics")

    def counted_at(text: str) -> float:
        line = next(line for line in text.splitlines() if line.startswith("care_sends_counted_timestamp_seconds "))
        return float(line.split()[1])

    pending = 'care_sends{kind="birthday",status="pending"}'
    try:
        await record("birthday:a")
        first = await scrape()  # starts the count, does not wait for it
        assert "care_mongodb_up 1.0" in first and pending not in first
        assert "care_sends_counted_timestamp_seconds" not in first
        counted = await scrape_until(f"{pending} 1.0")
        assert counted_at(counted) == clock.now().timestamp()
        await record("birthday:b")
        clock.set(datetime(2026, 11, 23, 9, 45))
        now[0] += 599  # within METRICS_RECOUNT_S: the last counts, and when they were taken
        for _ in range(3):
            await asyncio.sleep(0.05)
            again = await scrape()
            assert f"{pending} 1.0" in again and counted_at(again) == counted_at(counted)
        now[0] += 1
        recounted = await scrape_until(f"{pending} 2.0")  # due: the next scrape starts a recount
        assert counted_at(recounted) == clock.now().timestamp()
    finally:
        await runner.cleanup()


async def test_health_is_503_when_the_scheduler_is_down(service: Service) -> None:
    app, url, _, _ = service
    app[JOBS].shutdown()
    await asyncio.sleep(0)
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthz") as resp:
            assert resp.status == 503 and (await resp.json())["scheduler"] == "stopped"


async def test_jobs_follow_their_schedules_in_shanghai_time(service: Service, db: Database) -> None:
    app, _, clock, _ = service
    jobs: CareJobs = app[JOBS]
    birthday = jobs.scheduler.get_job("birthday")
    nxt = birthday.next_run_time
    assert (nxt.hour, nxt.minute, str(nxt.tzinfo)) == (9, 0, "Asia/Shanghai")
    assert jobs.scheduler.get_job("usage").next_run_time.hour == 10
    # At 09:30 the greetings, the brief (08:30) and the rounds every few minutes are due; usage and arrears are not.
    assert jobs.due_today() == ["birthday", "holiday", "compensation", "sla_watch", "brief", "survey", "maintenance",
                                "kpi_brief", "broadcast"]
    clock.set(datetime(2026, 11, 23, 8, 29))
    assert jobs.due_today() == ["compensation", "sla_watch", "survey", "maintenance", "broadcast"]


async def test_the_scheduler_runs_a_job_in_the_service_loop(service: Service, db: Database) -> None:
    app, _, _, _ = service
    jobs: CareJobs = app[JOBS]
    ran = asyncio.Event()
    jobs.scheduler.add_listener(lambda event: event.job_id == "compensation" and ran.set(),
                                EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    jobs.scheduler.modify_job("compensation", next_run_time=datetime.now(jobs.clock.tz))
    await asyncio.wait_for(ran.wait(), 10)
    run = jobs.last_runs["compensation"]
    assert run.ok is True and run.trigger == "schedule" and run.report["planned"] == 0


@pytest.mark.parametrize("hh, mm", [(7, 59), (21, 0)])  # the window's edges themselves: test_care_calendar
async def test_a_run_outside_the_window_is_rescheduled_for_the_window(
        service: Service, db: Database, emulator, hh: int, mm: int) -> None:
    app, _, clock, _ = service
    emu, _ = emulator
    jobs: CareJobs = app[JOBS]
    jobs.scheduler.pause()  # the fixed clock is not the scheduler's: look at what is planned, do not let it fire
    await seed_birthday(db)
    clock.set(datetime(2026, 11, 23, hh, mm))
    report = await jobs.run("birthday", None, "schedule")
    window_job = jobs.scheduler.get_job("birthday:2026-11-23:window")
    assert report.planned == 0 and emu.stats.create_requests == 0
    expected = datetime(2026, 11, 23 if hh < 8 else 24, 8, 0, tzinfo=clock.tz)
    assert window_job is not None and window_job.trigger.run_date == expected
    assert window_job.args == ("birthday", report.day, "send-window")


async def test_the_nightly_retention_counts_its_days_on_the_clock(db: Database, gateway: SmsGateway) -> None:
    clock = FixedClock(datetime(2026, 12, 4, 3, 30, tzinfo=timezone.utc))
    live = db.client[db.name]["conversations"]
    for sender, idle in (("idle-31-days", 31), ("idle-29-days", 29)):
        idle_since = (clock.now() - timedelta(days=idle)).timestamp()
        await live.insert_one({"sender_id": sender, "latest_event_time": idle_since})
    for key, age, status in (("sent-31-days", 31, "delivered"), ("sent-29-days", 29, "delivered"),
                             ("sent-400-days", 400, "failed"),  # kept by an older version: the first run reaches it
                             ("unsettled-31-days", 31, "ambiguous")):  # its resend needs the text
        created = clock.now() - timedelta(days=age)
        await db.sends.reserve({"_id": key, "kind": "birthday", "to": "+8613800138000", "body": "生日快乐",
                                "encoding": "UCS-2", "segments": 1, "created_at": created, "updated_at": created})
        await db.client[db.name]["sends"].update_one({"_id": key}, {"$set": {"status": status}})
    await CareJobs(db, gateway, Settings(conversation_retention_days=0), clock).forget_old_conversations()
    assert await live.count_documents({}) == 2  # 0 keeps every conversation
    await CareJobs(db, gateway, Settings(conversation_retention_days=30), clock).forget_old_conversations()
    assert await live.distinct("sender_id") == ["idle-29-days"]
    keys = ("sent-31-days", "sent-29-days", "sent-400-days", "unsettled-31-days")
    texts = {key: (await db.sends.get(key)).body for key in keys}
    assert texts == {"sent-31-days": None, "sent-29-days": "生日快乐", "sent-400-days": None,
                     "unsettled-31-days": "生日快乐"}
    # The next night starts a month before the last cutoff: a message settled meanwhile loses its text too.
    await db.client[db.name]["sends"].update_one({"_id": "unsettled-31-days"}, {"$set": {"status": "delivered"}})
    clock.advance(timedelta(days=1))
    await CareJobs(db, gateway, Settings(conversation_retention_days=30), clock).forget_old_conversations()
    assert (await db.sends.get("unsettled-31-days")).body is None


async def test_a_failed_run_is_recorded(service: Service, db: Database, monkeypatch: Any) -> None:
    app, url, _, _ = service
    jobs: CareJobs = app[JOBS]

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("database went away")

    monkeypatch.setattr("care_scheduler.runner.CampaignRunner.run", broken)
    with pytest.raises(RuntimeError):
        await jobs.run("usage", None, "schedule")
    assert jobs.last_runs["usage"].ok is False and "database went away" in jobs.last_runs["usage"].error
    assert jobs.runs_total[("usage", "error")] == 1


async def test_admin_api_opens_and_closes_cases_as_the_console_does(db: Database, gateway: SmsGateway, rasa,
                                                          emulator) -> None:
    from tests.test_casework import seed as seed_case

    stub, rasa_url = rasa
    settings = Settings(care_admin_token=ADMIN, rasa_url=rasa_url)
    app = create_app(settings, db=db, gateway=gateway, clock=FixedClock(datetime(2026, 11, 23, 10, 30)),
                     start_scheduler=False)
    runner, url = await start_app(app)
    await seed_case(db)
    try:
        async with aiohttp.ClientSession() as http:
            async def post(path: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
                async with http.post(url + path, json=body, headers=admin()) as resp:
                    return resp.status, await resp.json()

            assert (await post("/admin/escalations/ES-20990101-0001/handback", {}))[0] == 404
            assert (await post("/admin/tickets/FT-20261123-0001/resolve", {"actor": ""}))[0] == 400
            await db.tickets.create(factories.ticket(_id="CP-20261122-0001", kind="complaint", circuit_id=None,
                                                     category="manager", manager_id="AM-CZJ01", text="换个客户经理"))
            status, body = await post("/admin/tickets/CP-20261122-0001/resolve", {"actor": "AM-CZJ01"})
            assert status == 403 and "someone above them resolves it" in body["error"]
            stub.up = False
            status, body = await post("/admin/escalations/ES-20261123-0001/handback", {})
            assert status == 502 and "stays open" in body["error"]
            status, body = await post("/admin/tickets/FT-20261123-0001/resolve", {"actor": "ops", "note": "已恢复"})
            assert status == 502 and body["escalations_left_open"] == ["ES-20261123-0001"]
            assert body["status"] == "resolved"
            stub.up = True
            assert (await post("/admin/tickets/FT-20261123-0001/resolve", {}))[0] == 409
            status, body = await post("/admin/escalations/ES-20261123-0001/handback", {})
            assert (status, body["status"]) == (200, "handed_back")
            assert (await post("/admin/escalations/ES-20261123-0001/resolve", {}))[0] == 409

            await db.tickets.next_id(TicketKind.fault, date(2026, 11, 23))  # the seeded ticket's number
            await db._db.tickets.update_one({"_id": "FT-20261123-0001"},  # fixed days ago: a new fault, not it
                                            {"$set": {"resolved_at": datetime(2026, 11, 20, tzinfo=timezone.utc)}})
            fault = {"customer_id": "KA0000001", "kind": "fault", "contact_id": "0000001-01",
                     "circuit_id": "ZJ-2M-0000001-1", "text": "专线中断（10000号受理）", "actor": "callcentre"}
            assert (await post("/admin/tickets", {**fault, "customer_id": "KA9999999"}))[0] == 404
            refused = (400, {"error": "customer_id is required (a string)"})
            assert (await post("/admin/tickets", {**fault, "customer_id": 5})) == refused
            status, body = await post("/admin/tickets", {**fault, "circuit_id": "SH-155M-0000002-1"})
            assert status == 400 and body["error"].startswith("circuit_id:")
            assert (await post("/admin/tickets", {**fault, "text": ["x"]}))[0] == 400
            assert (await post("/admin/tickets", {**fault, "urgent": "yes"})) == (400, {"error": "urgent: true or false"})
            status, body = await post("/admin/tickets", fault)
            assert status == 201 and body["ticket_id"] == "FT-20261123-0002"
            ticket = await db.tickets.get("FT-20261123-0002")
            assert ticket is not None and [(e.actor, e.action) for e in ticket.history] == [("callcentre", "created")]
            assert ticket.sla is not None and body["restore_due"] == ticket.sla.restore_due.astimezone(
                ZoneInfo("Asia/Shanghai")).isoformat() and body["restore_due"].endswith("+08:00")  # business time
            status, body = await post("/admin/tickets", fault)  # the same outage again
            assert (status, body["ticket_id"]) == (409, "FT-20261123-0002") and "still open" in body["error"]
            assert (await post("/admin/tickets/FT-20261123-0002/resolve", {}))[0] == 200
            status, body = await post("/admin/tickets", fault)  # the fix did not hold
            assert (status, body["ticket_id"], body["reopened"]) == (200, "FT-20261123-0002", True)
            status, body = await post("/admin/tickets", {**fault, "kind": "complaint", "text": "账单有误"})
            assert (status, body["priority"]) == (201, "normal")
        emu, _ = emulator  # the diamond contact's fault pages their manager, the plain complaint does not
        pages = [m["body"] for m in emu.messages.values() if m["to"] == "+8613920000001"]
        assert [p for p in pages if "紧急" in p and "FT-20261123-0002" in p] and not [p for p in pages if "CP-" in p]
    finally:
        await runner.cleanup()


async def test_admin_api_erases_a_contact_at_their_request(service: Service, db: Database) -> None:
    _, url, _, _ = service
    await seed_birthday(db)
    async with aiohttp.ClientSession() as http:
        async def post(path: str, body: Dict[str, Any]) -> Tuple[int, Dict[str, Any]]:
            async with http.post(url + path, json=body, headers=admin()) as resp:
                return resp.status, await resp.json()

        assert (await post("/admin/contacts/0000001-01/erase", {}))[0] == 400  # a reason is required
        assert (await post("/admin/contacts/nobody/erase", {"reason": "request"}))[0] == 404
        status, body = await post("/admin/contacts/0000001-01/erase", {"reason": "客户申请", "actor": "dpo"})
        assert status == 200 and body["erased"]["messages"] == 0
    customer = await db.customers.get("KA0000001")
    assert customer is not None and customer.contacts == []
    [entry] = await db.audit.for_entity("contact", "0000001-01")
    assert (entry.action, entry.source, entry.actor, entry.note) == ("erased", "api", "dpo", "客户申请")


async def test_behind_https_cookies_are_secure_and_browsers_get_hsts(service: Service) -> None:
    _, url, _, settings = service
    assert settings.behind_https
    async with aiohttp.ClientSession() as http:
        for path in ("/healthz", "/console/login", "/console/"):  # a page, and a redirect to the login
            async with http.get(url + path, allow_redirects=False) as resp:
                assert resp.headers["Strict-Transport-Security"] == "max-age=31536000", path
        async with http.get(url + "/console/login") as resp:
            cookie = resp.headers.get("Set-Cookie", "")
    assert "keycare_console=" in cookie and "Secure" in cookie and "HttpOnly" in cookie


async def test_over_plain_http_no_hsts_is_sent(db: Database, gateway: SmsGateway, auth_token: str) -> None:
    settings = Settings(twilio_auth_token=auth_token, public_base_url="http://127.0.0.1:8080")
    runner, url = await start_app(create_app(settings, db=db, gateway=gateway, start_scheduler=False))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/console/login") as resp:
                assert "Strict-Transport-Security" not in resp.headers
                assert "Secure" not in resp.headers.get("Set-Cookie", "")
    finally:
        await runner.cleanup()


async def test_metrics_report_the_lock_stores_redis_and_failed_imports(db: Database, gateway: SmsGateway,
                                                                      auth_token: str, tmp_path: Path) -> None:
    """What the alert rules need beside MongoDB: Redis down, an import that failed."""
    redis = EmbeddedRedis(tmp_path, free_port())
    settings = Settings(twilio_auth_token=auth_token, lock_store_url=redis.start(), metrics_recount_s=0)
    now = datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc)
    await db.import_jobs.start({"_id": "IMP-20261204-0001", "kind": "contacts", "source": "cli", "actor": "ops",
                                "file_name": "contacts.csv", "owner": "ops:1", "started_at": now, "heartbeat_at": now},
                               stale_after=timedelta(minutes=5))
    await db.import_jobs.finish("IMP-20261204-0001", ImportStatus.failed, {}, now, error="no such column")
    runner, url = await start_app(create_app(settings, db=db, gateway=gateway, start_scheduler=False))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/metrics") as resp:
                up = await resp.text()
            redis.stop()
            async with http.get(url + "/metrics") as resp:
                down = await resp.text()
    finally:
        await runner.cleanup()
        redis.stop()
    assert "care_redis_up 1.0" in up and "care_redis_up 0.0" in down
    assert 'care_import_jobs{status="failed"} 1.0' in up


async def test_admin_api_lists_accounts_in_arrears_by_scope(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # AM-CZJ01's, bill day 31: September's bill due 2026-11-20
    await db.usage.upsert(factories.usage("KA0000001", "2026-09", amount_fen=100_000, paid_fen=40_000))
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.get(url + "/admin/arrears?scope=AM-PZJ") as resp:
            body = await resp.json()
        assert resp.status == 200 and body["accounts"] == [{
            "customer_id": "KA0000001", "owed_fen": 60_000, "days_overdue": 3, "reminder_held": None,
            "months": [{"month": "2026-09", "owed_fen": 60_000, "due_on": "2026-11-20"}]}]
        async with http.get(url + "/admin/arrears?scope=AM-NOBODY") as resp:
            assert resp.status == 404 and await resp.json() == {"error": "no such manager"}


async def test_admin_api_lists_record_gaps_by_scope(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer(contacts=[]))
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.get(url + "/admin/gaps?scope=AM-PZJ") as resp:
            assert await resp.json() == {"accounts": [{"customer_id": "KA0000001", "manager_id": "AM-CZJ01",
                                                       "contacts": 0, "gaps": ["no_contacts"],
                                                       "contacts_without_birthday": 0}]}


async def test_admin_api_serves_the_ticket_register_by_month_and_scope(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # AM-CZJ01's
    await db.tickets.create(factories.ticket(manager_id="AM-CZJ01"))  # opened 2026-11-23 10:00, restored by 14:00
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.get(url + "/admin/tickets?month=2026-11&scope=AM-PZJ&kind=fault") as resp:
            body = await resp.json()
        assert resp.status == 200 and body["month"] == "2026-11" and [
            (t["ticket_id"], t["deadlines"], t["restore_due"], t["manager_id"]) for t in body["tickets"]] == [
            ("FT-20261123-0001", "pending", "2026-11-23T14:00:00+08:00", "AM-CZJ01")]  # business time
        for query, status in (("?month=2026-10", 200), ("?kind=visit", 400), ("?month=2027-01", 400)):
            async with http.get(url + "/admin/tickets" + query) as resp:
                assert resp.status == status and (status != 200 or (await resp.json())["tickets"] == []), query


async def test_admin_api_lists_the_churn_watch_by_scope(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # AM-CZJ01's
    for month, amount in (("2026-05", 90_000), ("2026-06", 90_000), ("2026-07", 90_000),
                          ("2026-08", 45_000), ("2026-09", 45_000), ("2026-10", 45_000)):
        await db.usage.upsert(factories.usage("KA0000001", month, amount_fen=amount))
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.get(url + "/admin/churn?scope=AM-CZJ01") as resp:
            body = await resp.json()
        assert resp.status == 200 and body["recent_months"] == ["2026-10", "2026-09", "2026-08"]
        assert body["accounts"] == [{"customer_id": "KA0000001", "earlier_monthly_fen": 90_000,
                                     "recent_monthly_fen": 45_000, "drop_percent": 50, "open_complaint": False,
                                     "said_leaving_at": None}]
        for scope in ("?scope=AM-PZJ", ""):  # the province above, and group
            async with http.get(url + "/admin/churn" + scope) as resp:
                assert [a["customer_id"] for a in (await resp.json())["accounts"]] == ["KA0000001"]
        async with http.get(url + "/admin/churn?scope=AM-NOBODY") as resp:
            assert resp.status == 404


async def test_admin_api_lists_escalations_by_scope_and_status(db: Database, gateway: SmsGateway) -> None:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    await db.customers.insert(factories.customer())  # AM-CZJ01's
    await db.customers.insert({**factories.other_customer(), "account_manager_id": "AM-G001"})
    at = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    for number, customer_id, status in ((1, "KA0000001", "open"), (2, "KA0000001", "resolved"), (3, "KA0000002", "open")):
        await db.escalations.create(factories.escalation(
            f"ES-20261123-000{number}", at, customer_id=customer_id, contact_id=f"{customer_id[2:]}-01",
            sender_id=f"chat-{number}", status=status, contact_by=at + timedelta(hours=number)))
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.get(url + "/admin/escalations?scope=AM-PZJ") as resp:
            [only] = (await resp.json())["escalations"]
        assert resp.status == 200 and (only["escalation_id"], only["status"], only["reason"]) == (
            "ES-20261123-0001", "open", "request_human")
        assert only["contact_by"] == "2026-11-23T11:00:00+08:00"  # business time
        async with http.get(url + "/admin/escalations?scope=AM-CZJ01&status=all") as resp:
            assert [e["escalation_id"] for e in (await resp.json())["escalations"]] == [
                "ES-20261123-0001", "ES-20261123-0002"]
        async with http.get(url + "/admin/escalations") as resp:  # group: every open one
            assert [e["escalation_id"] for e in (await resp.json())["escalations"]] == [
                "ES-20261123-0001", "ES-20261123-0003"]
        async with http.get(url + "/admin/escalations?status=closed") as resp:
            assert resp.status == 400


async def test_admin_api_clears_a_kept_customers_word_of_leaving(db: Database, gateway: SmsGateway) -> None:
    await db.customers.insert(factories.customer())
    said = datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc)
    await db.escalations.create(factories.escalation("ES-20261120-0001", said, reason="leaving",
                                                     summary="合同到期不续了"))
    async with admin_api(db, gateway, datetime(2026, 11, 23, 10, 30)) as (http, url):
        async with http.post(url + "/admin/churn/KA0000001/kept", json={"actor": "crm-sync"}) as resp:
            assert resp.status == 200 and await resp.json() == {"customer_id": "KA0000001", "cleared": 1}
        async with http.get(url + "/admin/churn") as resp:
            assert (await resp.json())["accounts"] == []
        async with http.post(url + "/admin/churn/KA0000001/kept", json={}) as resp:
            assert resp.status == 409
        async with http.post(url + "/admin/churn/KA0999999/kept", json={}) as resp:
            assert resp.status == 404
    [entry] = await db._db.audit_log.find({"action": "kept"}).to_list(None)
    assert (entry["actor"], entry["source"]) == ("crm-sync", "api")
