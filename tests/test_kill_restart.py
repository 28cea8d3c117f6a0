"""A campaign process killed with SIGKILL at several points, then restarted: every due message once.

The campaign runs as ``python -m care_scheduler run`` against the test mongod and
the Twilio emulator. The emulator stores each message and only then, after a
delay, answers: a kill in that gap leaves messages Twilio accepted but the sender
never heard of. The restart must find those by lookup instead of resending them.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections import Counter
from pathlib import Path
from typing import Dict, List

from carecore.repository import Database
from localrun.twilio_emulator import FaultPlan, TwilioEmulator
from tests import factories
from tests.conftest import TEST_ACCOUNT_SID, TEST_FROM

ROOT = Path(__file__).resolve().parent.parent
DUE = 40
BIRTHDAY_TODAY = {"calendar": "solar", "month": 11, "day": 23}


async def seed_due_contacts(db: Database) -> List[str]:
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    mobiles = []
    for c in range(4):
        contacts = []
        for i in range(10):
            mobile = f"+86138001{c}{i:02d}00"
            mobiles.append(mobile)
            contacts.append({"contact_id": f"000001{c}-{i:02d}", "name": f"联系人{c}{i}", "role": "经理",
                             "mobile": mobile, "birthday": BIRTHDAY_TODAY, "language": "zh",
                             "tier": "silver", "billing_contact": i == 0})
        await db.customers.insert(factories.customer(_id=f"KA000001{c}", contacts=contacts, services=[]))
    # Not due today, and opted out: neither may ever be sent.
    await db.customers.insert(factories.customer(_id="KA0000020", services=[], contacts=[
        {"contact_id": "0000020-01", "name": "甲", "role": "经理", "mobile": "+8613800002001",
         "birthday": {"calendar": "solar", "month": 11, "day": 24}, "language": "zh", "tier": "silver",
         "billing_contact": True},
        {"contact_id": "0000020-02", "name": "乙", "role": "经理", "mobile": "+8613800002002",
         "birthday": BIRTHDAY_TODAY, "language": "zh", "tier": "silver", "sms_opt_out": True}]))
    return mobiles


def campaign_env(db: Database, mongo_uri: str, url: str, auth_token: str, tmp_path: Path) -> Dict[str, str]:
    return {**os.environ, "MONGODB_URI": mongo_uri, "MONGODB_DB": db.name, "VAR_DIR": str(tmp_path),
            "TWILIO_ACCOUNT_SID": TEST_ACCOUNT_SID, "TWILIO_AUTH_TOKEN": auth_token,
            "TWILIO_FROM_NUMBER": TEST_FROM, "TWILIO_API_BASE_URL": url, "TWILIO_TIMEOUT_S": "1",
            "SMS_LEASE_S": "2", "PUBLIC_BASE_URL": "http://127.0.0.1:9", "CAMPAIGN_CONCURRENCY": "3", "LOG_LEVEL": "WARNING"}


async def start_campaign(env: Dict[str, str]) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "care_scheduler", "run", "birthday", "--date", "2026-11-23",
        "--now", "2026-11-23T09:00", "--no-rate-limit", cwd=ROOT, env=env,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)


async def kill_after(proc: asyncio.subprocess.Process, emu: TwilioEmulator, requests: int) -> bool:
    """SIGKILL once the emulator has seen ``requests`` create calls; False if the run ended first."""
    while emu.stats.create_requests < requests:
        if proc.returncode is not None:
            return False
        await asyncio.sleep(0.002)
    proc.send_signal(signal.SIGKILL)
    await proc.wait()
    return True


async def test_sigkill_at_several_points_then_restart_sends_each_due_message_once(
        db: Database, mongo_uri: str, emulator, auth_token: str, tmp_path: Path) -> None:
    emu, url = emulator
    emu.set_faults(FaultPlan(latency_ms=15, ack_delay_ms=40))
    mobiles = await seed_due_contacts(db)
    env = campaign_env(db, mongo_uri, url, auth_token, tmp_path)

    kills = 0
    for point in (1, 9, 18, 30):  # create calls seen by the emulator when the process dies
        proc = await start_campaign(env)
        if await kill_after(proc, emu, point):
            kills += 1
    assert kills >= 3, "the campaign finished before it could be killed"
    pending = [r for r in await all_sends(db) if r["status"] == "pending"]
    assert pending, "no kill landed between reserving and hearing back: the test proves nothing"

    proc = await start_campaign(env)
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]

    received = Counter(m["to"] for m in emu.messages.values())
    assert set(received) == set(mobiles), "a due contact got nothing, or someone not due got a message"
    assert all(n == 1 for n in received.values()), f"duplicates: {[to for to, n in received.items() if n > 1]}"
    log_lines = [json.loads(line) for line in (tmp_path / "received.jsonl").read_text().splitlines()]
    assert sorted(line["to"] for line in log_lines) == sorted(mobiles)  # the emulator's own received log
    sends = await all_sends(db)
    statuses = Counter("suppressed" if r["status"] == "suppressed" else
                       "accepted" if r["status"] in ("queued", "sent", "delivered") else r["status"] for r in sends)
    assert statuses == {"accepted": DUE, "suppressed": 1}
    assert sorted(r["sid"] for r in sends if r["status"] != "suppressed") == sorted(emu.messages)
    # The restart after the last kill needed lookups for what was accepted but unacknowledged.
    assert emu.stats.list_requests >= 1


async def all_sends(db: Database) -> List[dict]:
    records = []
    for key in [f"birthday:000001{c}-{i:02d}:2026-11-23" for c in range(4) for i in range(10)] + [
            "birthday:0000020-02:2026-11-23"]:
        record = await db.sends.get(key)
        if record is not None:
            records.append(record.dict(by_alias=True))
    return records
