"""One scheduler leader among the care services, by a lease in MongoDB."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import List

import aiohttp
from cryptography.fernet import Fernet

from care_scheduler.jobs import CareJobs
from care_scheduler.leader import LEASE, Leadership
from care_scheduler.service import JOBS, create_app
from carecore.clock import FixedClock, SystemClock, utcnow
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun.mongod import free_port
from tests.conftest import start_app
from tests.console_client import NOW, Browser, seed


def leadership(db: Database, name: str, events: List[str], ttl_s: float = 1.0) -> Leadership:
    return Leadership(db.leases, ttl_s=ttl_s, holder=name, on_elected=lambda: events.append(f"{name} elected"),
                      on_deposed=lambda: events.append(f"{name} deposed"))


async def test_one_holder_at_a_time_and_a_clean_stop_hands_over_at_once(db: Database) -> None:
    events: List[str] = []
    a, b = leadership(db, "a", events, ttl_s=30), leadership(db, "b", events, ttl_s=30)
    await a.tick()
    await b.tick()
    await a.tick()  # renewing keeps it
    assert (a.leading, b.leading) == (True, False) and events == ["a elected"]
    await a.stop()
    await b.tick()
    assert (a.leading, b.leading) == (False, True) and events == ["a elected", "a deposed", "b elected"]
    assert (await db.leases.holder(LEASE))[0] == "b"


async def test_a_killed_leader_is_replaced_once_its_lease_expires(db: Database) -> None:
    events: List[str] = []
    a, b = leadership(db, "a", events), leadership(db, "b", events)
    await a.tick()  # then "killed": it never renews or releases
    await b.tick()
    assert not b.leading
    await asyncio.sleep(1.1)
    await b.tick()
    assert b.leading
    await a.tick()  # it comes back: the lease is b's now, so a stands down
    assert not a.leading and events == ["a elected", "b elected", "a deposed"]


async def test_a_leader_that_cannot_renew_stops_before_its_lease_runs_out(db: Database) -> None:
    """MongoDB away: by the time another may take the lease over, the old leader has stopped scheduling."""
    events: List[str] = []
    now = [100.0]
    a = Leadership(db.leases, ttl_s=9, holder="a", monotonic=lambda: now[0],
                   on_elected=lambda: events.append("elected"), on_deposed=lambda: events.append("deposed"))
    await a.tick()
    away = Database.connect(f"mongodb://127.0.0.1:{free_port()}/?directConnection=true", db.name,
                            server_selection_timeout_ms=100)
    a.leases = away.leases
    try:
        now[0] += 3
        await a.tick()  # one missed renewal: the lease surely runs 6 s more
        assert a.leading
        now[0] += 3
        await a.tick()  # 3 s left, less than a renewal period: stop now
        assert not a.leading and events == ["elected", "deposed"]
    finally:
        away.close()


async def test_a_running_lease_is_refused_to_others_until_released(db: Database) -> None:
    assert await db.leases.acquire(LEASE, "a", 60)
    holder, until = await db.leases.holder(LEASE)
    assert holder == "a" and until is not None and 59 < (until - utcnow()).total_seconds() <= 60.5
    assert not await db.leases.acquire(LEASE, "b", 60)
    assert await db.leases.release(LEASE, "a")
    assert await db.leases.acquire(LEASE, "b", 60)


async def test_of_two_care_services_only_the_leader_schedules(db: Database, gateway: SmsGateway, auth_token: str) -> None:
    settings = Settings(twilio_auth_token=auth_token, scheduler_lease_s=3)
    clock = FixedClock(datetime(2026, 11, 23, 9, 30))
    apps = [create_app(settings, db=db, gateway=gateway, clock=clock, catch_up=False) for _ in range(2)]
    started = [await start_app(app) for app in apps]
    try:
        async with aiohttp.ClientSession() as http:
            health = []
            for _, url in started:
                async with http.get(url + "/healthz") as resp:
                    assert resp.status == 200
                    health.append(await resp.json())
            metrics = []
            for _, url in started:
                async with http.get(url + "/metrics") as resp:
                    metrics.append(await resp.text())
        assert [h["role"] for h in health] == ["leader", "follower"]
        assert health[0]["leader"] == health[1]["leader"] == health[0]["instance"]
        assert [h["scheduler"] for h in health] == ["running", "stopped"]
        assert "care_scheduler_leader 1.0" in metrics[0] and "care_scheduler_leader 0.0" in metrics[1]
        await started[0][0].cleanup()  # the leader stops cleanly and gives the lease up
        await asyncio.sleep(1.2)  # the follower's next attempt, a third of the lease later
        assert apps[1][JOBS].scheduler.running
    finally:
        await started[1][0].cleanup()


async def test_a_console_login_holds_on_every_instance_and_so_does_its_limit(db: Database, gateway: SmsGateway) -> None:
    """Behind a round-robin balancer each request may reach another care service: they share the
    cookie key (CONSOLE_SECRET) and count failed logins in MongoDB."""
    await seed(db)
    settings = Settings(console_secret=Fernet.generate_key().decode(), console_max_failed_logins=2)
    apps = [await start_app(create_app(settings, db=db, gateway=gateway, clock=FixedClock(NOW), start_scheduler=False))
            for _ in range(2)]
    first, second = Browser(apps[0][1]), Browser(apps[0][1])
    try:
        status, page = await first.login("AM-CZJ01")
        assert status == 200 and "林海燕" in page
        first.base = apps[1][1]  # the next request lands on the other instance, with the same cookie
        status, page = await first.get("/console/tickets/FT-20261123-0001")
        assert status == 200 and "专线中断" in page
        for base in (apps[0][1], apps[1][1], apps[0][1]):  # wrong passwords spread over both instances
            second.base = base
            await second.login("AM-CSH01", password="wrong-password-1")
        second.base = apps[1][1]
        _, page = await second.login("AM-CSH01")  # the right one, after one failure too many
        assert "吴斌" not in page and 'action="/console/login"' in page
    finally:
        await first.close()
        await second.close()
        for runner, _ in apps:
            await runner.cleanup()


async def test_stepping_down_cancels_the_runs_in_flight(db: Database, gateway: SmsGateway) -> None:
    """A deposed leader stops sending at once; a message cut off mid-call stays pending under its lease,
    and the next leader's run looks it up before any resend (``SmsGateway.resume``)."""
    jobs = CareJobs(db, gateway, Settings(), SystemClock())
    jobs.start(catch_up=False)
    running, cancelled = asyncio.Event(), asyncio.Event()

    async def campaign() -> None:
        running.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    jobs.scheduler.add_job(campaign, next_run_time=datetime.now(jobs.clock.tz))
    await asyncio.wait_for(running.wait(), 5)
    jobs.shutdown()  # Leadership's on_deposed
    await asyncio.wait_for(cancelled.wait(), 5)
