"""A short run of `make cluster`'s topology with one Rasa server: start, a conversation through HAProxy,
one small campaign, stop. The failover drills (`make cluster-drills`) run the full topology."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
from datetime import date, datetime
from typing import Any, Dict, Iterator, List
from zoneinfo import ZoneInfo

import pytest

from carecore import repository
from carecore.config import Settings
from localrun.cluster import Cluster, Ports
from localrun.haproxy import STICKY_COOKIE
from tests.stack import MODEL, ROOT, latest_code

TOKEN = "cluster-smoke-emulator-token"


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    assert MODEL.exists(), "no trained model: run `make test` (it trains before pytest)"
    tmp = tmp_path_factory.mktemp("cluster")
    settings = Settings(var_dir=tmp / "var", emulator_auth_token=TOKEN, twilio_account_sid=None,
                        twilio_auth_token=None, mongodb_uri=None, care_admin_token="smoke-admin-token-0123456789")
    running = Cluster(settings, Ports.free(rasa=1, actions=1, care=2), tmp / "cluster", demo_customers=20)
    try:
        running.start()
        yield running
    finally:
        running.stop()


def call(url: str, body: Any = None, token: str = "", cookie: str = "") -> tuple[Any, Dict[str, str]]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if cookie:
        headers["Cookie"] = cookie
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=60) as resp:
        return json.load(resp), dict(resp.headers)


def emulator_messages(cluster: Cluster, to: str = "") -> List[Dict[str, Any]]:
    query = f"?to={urllib.request.quote(to)}" if to else ""
    return call(f"{cluster.ports.url(cluster.ports.emulator)}/_emulator/messages{query}")[0]["messages"]


def test_replica_set_lock_store_and_leader(cluster: Cluster) -> None:
    assert cluster.primary_port() in cluster.ports.mongo
    assert cluster.env["LOCK_STORE_TYPE"] == "bot.lock_store.AtomicRedisLockStore"
    roles = []
    for port in cluster.ports.care_services:
        health, _ = call(f"{cluster.ports.url(port)}/healthz")
        roles.append(health["role"])
    assert sorted(roles) == ["follower", "leader"]


def test_a_verified_conversation_through_haproxy(cluster: Cluster) -> None:
    bot = cluster.ports.url(cluster.ports.bot)
    session, _ = call(f"{bot}/webhooks/rest/session", {})

    def say(text: str) -> List[str]:
        replies, _ = call(f"{bot}/webhooks/rest/webhook", {"message": text}, token=session["token"])
        return [r.get("text", "") for r in replies]

    assert any("验证身份" in r for r in say("上个月话费多少"))
    assert any("验证码" in r for r in say("13800000010"))
    code = latest_code(emulator_messages(cluster, "+8613800000010"))
    assert code
    replies = say(code)
    assert any("验证成功" in r for r in replies) and any("元" in r for r in replies), replies
    # socket.io is pinned by HAProxy's cookie; REST is not
    with urllib.request.urlopen(f"{bot}/socket.io/?EIO=4&transport=polling", timeout=30) as resp:
        assert f"{STICKY_COOKIE}=rasa1" in resp.headers.get("Set-Cookie", "")
    with urllib.request.urlopen(f"{bot}/", timeout=30) as resp:
        assert STICKY_COOKIE not in resp.headers.get("Set-Cookie", "")


def test_a_small_campaign_goes_out_exactly_once(cluster: Cluster) -> None:
    """The product's campaign command on the cluster's database: next year's greetings of one seeded
    birthday (a day the scheduler leader will not run meanwhile), at 09:00 so the send window is open."""
    db = repository.inspection_handle("127.0.0.1", cluster.primary_port(), cluster.settings.mongodb_db)
    birthdays = [c["birthday"] for doc in db["customers"].find({}, {"contacts.birthday": 1})
                 for c in doc.get("contacts", []) if c.get("birthday", {}).get("calendar") == "solar"]
    month, day = next((b["month"], b["day"]) for b in birthdays if (b["month"], b["day"]) != (2, 29))
    when = date(datetime.now(ZoneInfo("Asia/Shanghai")).year + 1, month, day)
    argv = [sys.executable, "-m", "care_scheduler", "run", "birthday", "--date", when.isoformat(),
            "--now", f"{when.isoformat()}T09:00"]
    before = len(emulator_messages(cluster))
    first = subprocess.run(argv, env=cluster.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr[-2000:]
    sent = len(emulator_messages(cluster)) - before
    assert sent == report(first.stdout)["outcomes"].get("sent") > 0, first.stdout[-2000:]
    again = subprocess.run(argv, env=cluster.env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert report(again.stdout)["outcomes"] == {"already": sent}
    time.sleep(0.5)
    assert len(emulator_messages(cluster)) - before == sent


def report(stdout: str) -> Dict[str, Any]:
    return json.loads(stdout[stdout.index("{"):])


def test_it_stops_cleanly(cluster: Cluster) -> None:
    procs = dict(cluster.procs)
    started = time.monotonic()
    cluster.stop()
    assert time.monotonic() - started < 45
    assert all(proc.poll() is not None for proc in procs.values())
    assert not any(repository.server_answers(f"mongodb://127.0.0.1:{p}/", timeout_s=0.3) for p in cluster.ports.mongo)
