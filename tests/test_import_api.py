"""`POST /admin/import/{kind}` and its jobs, against the care service and the real mongod."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path
from typing import AsyncIterator, Tuple

import aiohttp
import pytest
from aiohttp import web

from care_scheduler.import_api import TASKS
from care_scheduler.service import SETTINGS, create_app
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from tests.conftest import start_app
from tests.test_dataio_importer import CONTACTS, CUSTOMERS, MANAGERS

ADMIN = "admin-" + "y" * 24
AUTH = {"Authorization": f"Bearer {ADMIN}"}
CSV = {**AUTH, "Content-Type": "text/csv"}
NOW = datetime(2026, 12, 4, 10, 0)


@pytest.fixture
async def service(db: Database, gateway: SmsGateway, tmp_path: Path) -> AsyncIterator[Tuple[web.Application, str]]:
    await db.ensure_schema()
    settings = Settings(care_admin_token=ADMIN, var_dir=tmp_path, import_max_bytes=4096)
    app = create_app(settings, db=db, gateway=gateway, clock=FixedClock(NOW), start_scheduler=False)
    runner, url = await start_app(app)
    yield app, url
    await runner.cleanup()


async def post(url: str, path: str, body: str | bytes, headers: dict = CSV) -> Tuple[int, dict]:
    async with aiohttp.ClientSession() as http:
        async with http.post(url + path, data=body.encode() if isinstance(body, str) else body,
                             headers=headers) as resp:
            return resp.status, await resp.json()


async def finished(app: web.Application, url: str, job_id: str) -> dict:
    """The job once the service's import task is done (awaited, not polled)."""
    await asyncio.gather(*app[TASKS])
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/admin/import/jobs/{job_id}", headers=AUTH) as resp:
            assert resp.status == 200
            return await resp.json()


async def test_a_crm_pushes_its_files_and_reads_the_jobs(service, db: Database) -> None:
    app, url = service
    for kind, text in (("managers", MANAGERS), ("customers", CUSTOMERS)):
        status, body = await post(url, f"/admin/import/{kind}", text)
        assert status == 202 and body["status"] == "running"
        job = await finished(app, url, body["job_id"])
        assert job["status"] == "done" and job["counts"]["failed"] == 0 and job["source"] == "api"
        [entry] = await db.audit.for_job(body["job_id"])
        assert (entry.action, entry.source, entry.counts["created"]) == ("imported", "api", job["counts"]["created"])
    status, body = await post(url, "/admin/import/contacts?dry_run=true",
                              CONTACTS + "CRM-001,C-9,坏号码,职员,12345,,,,,gold,,\n")
    job = await finished(app, url, body["job_id"])
    assert job["dry_run"] and job["counts"]["created"] == 3 and job["counts"]["failed"] == 1
    assert (await db.customers.get("CRM-001")).contacts == []  # type: ignore[union-attr]
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/admin/import/jobs/{body['job_id']}/errors.csv", headers=AUTH) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
            lines = (await resp.read()).decode("utf-8-sig").splitlines()
    assert lines[0].endswith("error_row,error_column,error_reason") and lines[1].startswith("CRM-001,C-9,坏号码")
    assert ",5,mobile," in lines[1]


async def test_refusals(service, db: Database) -> None:
    app, url = service
    assert (await post(url, "/admin/import/contacts", CONTACTS, headers={"Content-Type": "text/csv"}))[0] == 401
    assert (await post(url, "/admin/import/planets", "a\n"))[0] == 404
    assert (await post(url, "/admin/import/contacts", "a\n", headers={**AUTH, "Content-Type": "text/plain"}))[0] == 415
    assert (await post(url, "/admin/import/contacts?dry_run=perhaps", CONTACTS))[0] == 400
    status, body = await post(url, "/admin/import/contacts", "x" * 5000)
    assert status == 413 and "4096" in body["error"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: the limit is kept while streaming
        for _ in range(5):
            yield b"y" * 1000
    status, body = await post(url, "/admin/import/contacts", chunks(), headers=CSV)  # type: ignore[arg-type]
    assert status == 413
    assert list((app[SETTINGS].var_dir / "imports").glob("*")) == []  # nothing of a refused body is kept
    await db.import_jobs.start({"_id": "IMP-20261204-0777", "kind": "contacts", "source": "cli", "actor": "ops",
                                "file_name": "big.csv", "owner": "other:1", "started_at": NOW, "heartbeat_at": NOW},
                               stale_after=timedelta(minutes=5))
    status, body = await post(url, "/admin/import/contacts", CONTACTS)
    assert status == 409 and body["job_id"] == "IMP-20261204-0777"
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{url}/admin/import/jobs/IMP-20991231-0001", headers=AUTH) as resp:
            assert resp.status == 404
