"""Wiring from settings: an external MONGODB_URI starts nothing; no credentials means an offline outbox."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from carecore.clock import utcnow
from carecore.config import DEFAULT_SCHEDULES, Settings
from carecore.runtime import build_gateway, build_transport, open_database
from carecore.sms.message import Sms
from carecore.sms.transports import ConsoleOutbox, TwilioTransport


async def test_external_mongodb_uri_starts_no_mongod(mongo_uri: str, tmp_path: Path) -> None:
    settings = Settings(mongodb_uri=mongo_uri, mongodb_db="test_external", var_dir=tmp_path / "var")
    async with open_database(settings) as db:
        assert await db.ping() and await db.collection_names() == []  # connecting migrates nothing
    async with open_database(settings, migrate=True) as db:
        assert "customers" in await db.collection_names()
        await db.drop()
    assert not (tmp_path / "var" / "mongo").exists()


async def test_without_credentials_sms_go_to_the_console_outbox(mongo_uri: str, tmp_path: Path) -> None:
    settings = Settings(mongodb_uri=mongo_uri, mongodb_db="test_outbox", var_dir=tmp_path,
                        twilio_account_sid=None, twilio_auth_token=None)
    assert isinstance(build_transport(settings), ConsoleOutbox)
    async with open_database(settings) as db:
        gateway = build_gateway(db, settings)
        record = await gateway.send(Sms.of(key="notice:k1", kind="notice", to="13800138000", body="离线发送"))
        assert record.status == "sent" and record.sid
        found = await gateway.transport.find_sent("+8613800138000", "离线发送", utcnow() - timedelta(minutes=1))
        assert found is not None and found.sid == record.sid
        await db.drop()
    assert "+8613800138000" in (tmp_path / "outbox.jsonl").read_text(encoding="utf-8")


def test_with_credentials_the_real_client_is_used() -> None:
    settings = Settings(twilio_account_sid="AC" + "2" * 32, twilio_auth_token="x", twilio_from_number="+8610690000",
                        twilio_api_base_url="http://127.0.0.1:1")
    transport = build_transport(settings)
    assert isinstance(transport, TwilioTransport) and transport.base_url == "http://127.0.0.1:1"


def test_care_schedules_are_checked_as_crontab_lines() -> None:
    with pytest.raises(ValidationError, match=r"CARE_SCHEDULES\[birthday\]"):
        Settings(care_schedules={"birthday": "every morning"})
    settings = Settings(care_schedules={"birthday": "30 8 * * *"})
    assert settings.care_schedules["birthday"] == "30 8 * * *"
    assert set(settings.care_schedules) == set(DEFAULT_SCHEDULES)


@pytest.mark.parametrize("kind", sorted(DEFAULT_SCHEDULES))
def test_default_schedules_are_crontab_lines(kind: str) -> None:
    from apscheduler.triggers.cron import CronTrigger

    CronTrigger.from_crontab(DEFAULT_SCHEDULES[kind])  # Settings checks only lines given to it


def test_reading_the_settings_does_not_import_the_scheduler() -> None:
    """APScheduler imports pkg_resources (0.16 s): only the service and a given CARE_SCHEDULES need it."""
    code = ("import sys; from carecore.config import Settings; Settings(); "
            "assert 'apscheduler' not in sys.modules and 'pkg_resources' not in sys.modules, 'imported'")
    env = {k: v for k, v in os.environ.items() if k != "CARE_SCHEDULES"}
    subprocess.run([sys.executable, "-c", code], check=True, env=env, cwd=Path(__file__).resolve().parents[1])
