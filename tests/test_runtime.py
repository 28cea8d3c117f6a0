"""Wiring from settings: an external MONGODB_URI starts nothing; no credentials means an offline outbox."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from carecore.clock import utcnow
from carecore.config import Settings
from carecore.runtime import build_gateway, build_transport, open_database
from carecore.sms.transports import ConsoleOutbox, TwilioTransport


async def test_external_mongodb_uri_starts_no_mongod(mongo_uri: str, tmp_path: Path) -> None:
    settings = Settings(mongodb_uri=mongo_uri, mongodb_db="test_external", var_dir=tmp_path / "var")
    async with open_database(settings) as db:
        assert await db.ping()
        assert "customers" in await db.collection_names()
        await db.drop()
    assert not (tmp_path / "var" / "mongo").exists()


async def test_without_credentials_sms_go_to_the_console_outbox(mongo_uri: str, tmp_path: Path) -> None:
    settings = Settings(mongodb_uri=mongo_uri, mongodb_db="test_outbox", var_dir=tmp_path,
                        twilio_account_sid=None, twilio_auth_token=None)
    assert isinstance(build_transport(settings), ConsoleOutbox)
    async with open_database(settings) as db:
        gateway = build_gateway(db, settings)
        record = await gateway.send(key="notice:k1", kind="notice", to="13800138000", body="离线发送")
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


def test_settle_heap_freezes_start_up_and_collects_young_objects_less_often() -> None:
    import gc

    from carecore.runtime import YOUNG_GENERATION_THRESHOLD, settle_heap

    before = gc.get_threshold()
    try:
        settle_heap()
        assert gc.get_freeze_count() > 10_000  # the imported modules, models and metadata
        assert gc.get_threshold() == (YOUNG_GENERATION_THRESHOLD, before[1], before[2])
        cycle: list = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1  # cycles made afterwards are still collected
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
