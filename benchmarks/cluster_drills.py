"""Failover drills of ``make cluster`` (``make cluster-drills``): one process SIGKILLed at a time.

The whole topology runs as ``make cluster`` starts it (3-member replica set, Redis, 2 Rasa, 2 action and
2 care services, HAProxy), with the business timezone set to one where it is daytime now, so the care
services' scheduler may send. Each drill prints PASS/FAIL with its counts; figures go to
``results/cluster-drills.json``. "Sent exactly once" is judged against the Twilio emulator's own log.

1. leader: the scheduler leader SIGKILLed mid-campaign; another takes over within the lease + 5 s.
2. mongo: the MongoDB primary SIGKILLed during a campaign and a conversation.
3. rasa: a Rasa server SIGKILLed mid-conversation (verified, a form in progress).
4. redis: Redis SIGKILLed, conversations carry on, and recover when it returns.
5. ordering: messages sent at the same moment to one conversation, through HAProxy to both Rasa servers.
   socketio: a socket.io chat over long-polling through HAProxy and both servers, pinned by cookie.
6. backup: the replica set backed up, every member's data destroyed, restored; the counts still hold.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple
from zoneinfo import ZoneInfo

import aiohttp
import socketio

sys.path.insert(0, str(Path(__file__).resolve().parent))

from drills import exactly_once, merged_results  # noqa: E402
from harness import RESULTS, ROOT, DrillResult, Due, due_customers, write_results  # noqa: E402

from bot.fallback import TRY_AGAIN  # noqa: E402
from carecore import repository  # noqa: E402
from carecore.config import Settings  # noqa: E402
from carecore.repository import Database  # noqa: E402
from localrun.backup import backup, restore  # noqa: E402
from localrun.cluster import REPLICA_SET, Cluster, Ports  # noqa: E402
from localrun.mongod import HOST  # noqa: E402
from localrun.seed import manager_docs  # noqa: E402
from tests.stack import latest_code  # noqa: E402

LEASE_S = 10
DRILL_ENV = {"TWILIO_TIMEOUT_S": "1", "SMS_LEASE_S": "2", "SCHEDULER_LEASE_S": str(LEASE_S), "CAMPAIGN_MPS": "20",
             "CHAT_SESSIONS_PER_ADDRESS": "100000"}  # every simulated customer chats from 127.0.0.1
BIRTHDAY_WORDS = ("生日", "birthday")


def daytime_zone(now: Optional[datetime] = None) -> str:
    """Asia/Shanghai when its clock reads 10:00-17:59 now, else a fixed-offset zone where it does."""
    now = now or datetime.now(timezone.utc)
    if 10 <= now.astimezone(ZoneInfo("Asia/Shanghai")).hour < 18:
        return "Asia/Shanghai"
    offset = next(o for o in range(-10, 15) if 10 <= (now.hour + o) % 24 < 18)
    return "Etc/GMT" if offset == 0 else f"Etc/GMT{-offset:+d}"  # POSIX sign: Etc/GMT-8 is UTC+8


def call(url: str, body: Any = None, token: str = "", timeout_s: float = 30) -> Any:
    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=timeout_s) as resp:
        return json.load(resp)


class Chat:
    """One web chat through HAProxy, as the chat page holds it."""

    def __init__(self, cluster: Cluster) -> None:
        self.bot = cluster.ports.url(cluster.ports.bot)
        self.api_token = cluster.env["RASA_API_TOKEN"]
        session = call(f"{self.bot}/webhooks/rest/session", {})
        self.id, self.token = session["session_id"], session["token"]

    def say(self, text: str) -> Tuple[str, List[str], float]:
        """('normal' | 'polite' | 'error', replies, seconds)."""
        started = time.monotonic()
        try:
            replies = [r.get("text", "") for r in call(f"{self.bot}/webhooks/rest/webhook", {"message": text},
                                                       token=self.token, timeout_s=60)]
        except (urllib.error.URLError, OSError) as exc:
            return "error", [str(exc)], time.monotonic() - started
        kind = "polite" if any(r in TRY_AGAIN.values() for r in replies) else "normal" if replies else "error"
        return kind, replies, time.monotonic() - started

    def tracker(self) -> Dict[str, Any]:
        return call(f"{self.bot}/conversations/{self.id}/tracker?token={self.api_token}")

    def verify(self, cluster: Cluster, mobile: str = "+8613800000010") -> bool:
        self.say("上个月话费多少")
        self.say(mobile[3:])
        code = latest_code(received(cluster, to=mobile))
        return bool(code) and any("验证成功" in r for r in self.say(code or "")[1])


def received(cluster: Cluster, to: Optional[str] = None) -> List[Dict[str, Any]]:
    if not cluster.emulator_log.exists():
        return []
    lines = [json.loads(line) for line in cluster.emulator_log.read_text(encoding="utf-8").splitlines() if line]
    return [line for line in lines if to is None or line.get("to") == to]


def greetings_to(cluster: Cluster, due: Due) -> List[Dict[str, Any]]:
    wanted = set(due.mobiles) | set(due.opted_out)
    return [line for line in received(cluster) if line.get("to") in wanted
            and any(word in line.get("body", "").lower() for word in BIRTHDAY_WORDS)]


def seed_birthdays(cluster: Cluster, day: date, contacts: int, first_index: int) -> Due:
    async def insert() -> Due:
        db = Database.connect(cluster.mongodb_uri, cluster.settings.mongodb_db)
        try:
            docs = due_customers(first_index, contacts, day, manager_docs())
            await db.customers.insert_many(docs)
            due = Due(day)
            for doc in docs:
                for contact in doc["contacts"]:
                    (due.opted_out if contact.get("sms_opt_out") else due.mobiles).append(contact["mobile"])
            return due
        finally:
            db.close()

    return asyncio.run(insert())


def role_of(cluster: Cluster, port: int) -> Optional[str]:
    try:
        return call(f"{cluster.ports.url(port)}/healthz", timeout_s=3).get("role")
    except urllib.error.HTTPError as exc:
        return json.load(exc).get("role")
    except (urllib.error.URLError, OSError, ValueError):
        return None


def wait_for(check: Any, timeout_s: float, every_s: float = 0.2) -> Optional[float]:
    """Seconds until ``check()`` held, or None."""
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if check():
            return time.monotonic() - started
        time.sleep(every_s)
    return None


def settled(check: Dict[str, int]) -> bool:
    return check["missing"] == 0


def drill_leader(cluster: Cluster, today: date, contacts: int) -> DrillResult:
    due = seed_birthdays(cluster, today, contacts, first_index=1001)
    leader = next(f"care-{i + 1}" for i, port in enumerate(cluster.ports.care_services)
                  if role_of(cluster, port) == "leader")
    leader_port = cluster.ports.care_services[int(leader.split("-")[1]) - 1]
    admin = cluster.env["CARE_ADMIN_TOKEN"]
    threading.Thread(target=lambda: _ignore(lambda: call(f"{cluster.ports.url(leader_port)}/admin/run",
                                                         {"kind": "birthday"}, token=admin, timeout_s=600)),
                     daemon=True).start()
    wait_for(lambda: len(greetings_to(cluster, due)) >= len(due.mobiles) // 4, 120)
    killed_at = len(greetings_to(cluster, due))
    cluster.kill(leader)
    others = [p for p in cluster.ports.care_services if p != leader_port]
    takeover_s = wait_for(lambda: any(role_of(cluster, p) == "leader" for p in others), LEASE_S + 30)
    wait_for(lambda: settled(exactly_once(due, greetings_to(cluster, due))), 240, every_s=1)
    time.sleep(3)  # anything still in flight lands before counting
    check = exactly_once(due, greetings_to(cluster, due))
    cluster.restart(leader)
    counts = {"due": check["due"], "sent_before_kill": killed_at, "takeover_s": round(takeover_s or -1, 1),
              "lease_s": LEASE_S, "duplicates": check["duplicates"], "missing": check["missing"]}
    problems = [f"{k}: {counts[k]}" for k in ("duplicates", "missing") if counts[k]]
    if takeover_s is None or takeover_s > LEASE_S + 5:
        problems.append(f"takeover took {takeover_s} s (lease {LEASE_S} s + 5 s allowed)")
    if killed_at >= len(due.mobiles):
        problems.append("the campaign had finished before the kill: the drill proves nothing")
    return DrillResult("scheduler leader killed mid-campaign", not problems, counts, problems)


def _ignore(action: Any) -> None:
    try:
        action()
    except Exception:  # the process it talks to is killed on purpose
        pass


def drill_mongo(cluster: Cluster, day: date, contacts: int) -> DrillResult:
    due = seed_birthdays(cluster, day, contacts, first_index=3001)
    argv = [sys.executable, "-m", "care_scheduler", "run", "birthday", "--date", day.isoformat(),
            "--now", f"{day.isoformat()}T09:00"]
    log_path = cluster.var / "campaign.log"  # a pipe nobody reads would stall the campaign when full
    with log_path.open("ab") as log_file:
        campaign = subprocess.Popen(argv, env=cluster.env, cwd=ROOT, stdout=log_file, stderr=subprocess.STDOUT)
    chat = Chat(cluster)
    replies: List[Tuple[float, str, float]] = []  # (sent at, kind, seconds)
    talking = threading.Event()
    talking.set()

    def talk() -> None:
        while talking.is_set():
            sent = time.monotonic()
            kind, _, seconds = chat.say("我的客户经理是谁")
            replies.append((sent, kind, seconds))
            time.sleep(0.3)

    talker = threading.Thread(target=talk, daemon=True)
    talker.start()
    wait_for(lambda: len(greetings_to(cluster, due)) >= len(due.mobiles) // 4, 120)
    killed_at = len(greetings_to(cluster, due))
    primary = cluster.primary_port()
    killed = time.monotonic()
    cluster.kill(f"mongo-{primary}")
    new_primary = cluster.primary_port(timeout_s=60)
    election_s = time.monotonic() - killed
    campaign.wait(timeout=900)
    reruns = 0
    while not settled(exactly_once(due, greetings_to(cluster, due))) and reruns < 2:  # only if it could not carry on
        reruns += 1
        subprocess.run(argv, env=cluster.env, cwd=ROOT, capture_output=True, timeout=900)
    wait_for(lambda: any(sent > killed and kind == "normal" for sent, kind, _ in replies), 30)
    talking.clear()
    talker.join(timeout=70)
    cluster.restart(f"mongo-{primary}")
    check = exactly_once(due, greetings_to(cluster, due))
    after = [(sent - killed, kind, seconds) for sent, kind, seconds in replies if sent > killed]
    normal_again = next((round(at + seconds, 1) for at, kind, seconds in after if kind == "normal"), None)
    counts = {"due": check["due"], "sent_before_kill": killed_at, "election_s": round(election_s, 1),
              "new_primary": new_primary != primary, "campaign_exit": campaign.returncode, "reruns": reruns,
              "duplicates": check["duplicates"], "missing": check["missing"], "messages_after_kill": len(after),
              "polite_answers": sum(1 for _, kind, _ in after if kind == "polite"),
              "unanswered": sum(1 for _, kind, _ in after if kind == "error"),
              "slowest_answer_s": round(max((s for _, _, s in after), default=0), 1),
              "answered_normally_after_s": normal_again}
    problems = [f"{k}: {counts[k]}" for k in ("duplicates", "missing", "unanswered") if counts[k]]
    if normal_again is None or normal_again > 15:
        problems.append(f"no normal answer within 15 s of the kill ({normal_again})")
    if campaign.returncode != 0:
        problems.append(f"the campaign process failed: {log_path.read_text(errors='replace')[-300:]}")
    return DrillResult("mongodb primary killed during a campaign and a conversation", not problems, counts, problems)


def drill_rasa(cluster: Cluster) -> DrillResult:
    chat = Chat(cluster)
    verified = chat.verify(cluster)
    chat.say("我们的专线又down了")
    before = chat.tracker()
    cluster.kill("rasa-1")
    kind, replies, seconds = chat.say("第一条")
    after = chat.tracker()
    cluster.restart("rasa-1")
    slots = after.get("slots", {})
    counts = {"verified_before": verified, "form_before": (before.get("active_loop") or {}).get("name"),
              "answer": kind, "answer_s": round(seconds, 1), "verified_after": slots.get("verified"),
              "form_after": (after.get("active_loop") or {}).get("name"), "asks_next": slots.get("requested_slot")}
    problems = []
    if not verified or counts["form_before"] != "fault_form":
        problems.append("the conversation did not reach the form before the kill")
    if kind != "normal" or slots.get("verified") is not True or counts["form_after"] != "fault_form" \
            or slots.get("requested_slot") != "fault_symptom" or not slots.get("fault_circuit"):
        problems.append(f"the other server did not carry the conversation on: {replies}")
    return DrillResult("rasa server killed mid-conversation", not problems, counts, problems)


def drill_redis(cluster: Cluster, messages: int = 5) -> DrillResult:
    chat = Chat(cluster)
    first, _, _ = chat.say("你好")
    cluster.kill("redis")
    down = [chat.say("你好") for _ in range(messages)]
    cluster.restart("redis")
    recovered_s = wait_for(lambda: chat.say("你好")[0] == "normal", 60, every_s=0.5)
    counts = {"before": first, "answers_while_down": {k: sum(1 for d in down if d[0] == k) for k in
                                                      ("normal", "polite", "error")},
              "slowest_while_down_s": round(max(d[2] for d in down), 2),
              "recovered_after_s": round(recovered_s, 1) if recovered_s is not None else None}
    problems = []
    if counts["answers_while_down"]["error"]:
        problems.append("a message got no answer while Redis was down")
    if counts["slowest_while_down_s"] > 5:
        problems.append("a conversation was stuck while Redis was down")
    if recovered_s is None:
        problems.append("no normal answer within 60 s of Redis's return")
    return DrillResult("redis killed", not problems, counts, problems)


def drill_socketio(cluster: Cluster, messages: int = 5) -> DrillResult:
    """socket.io held to long-polling through HAProxy and both Rasa servers: each poll must reach the server
    holding the connection, which HAProxy's cookie ensures. Without the cookie, as a control, it breaks."""
    bot = cluster.ports.url(cluster.ports.bot)

    async def chat(keep_cookies: bool) -> Tuple[int, str]:
        jar = aiohttp.CookieJar(unsafe=True) if keep_cookies else aiohttp.DummyCookieJar()
        answers: List[Any] = []
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            sio = socketio.AsyncClient(http_session=http, reconnection=False)
            sio.on("bot_uttered", answers.append)
            session = call(f"{bot}/webhooks/rest/session", {})
            answered = 0
            try:
                await sio.connect(bot, auth={"token": session["token"]}, transports=["polling"], wait_timeout=10)
                await sio.emit("session_request", {"session_id": session["session_id"]})
                for _ in range(messages):
                    before = len(answers)
                    await sio.emit("user_uttered", {"message": "你好", "session_id": session["session_id"]})
                    for _ in range(150):
                        if len(answers) > before or not sio.connected:
                            break
                        await asyncio.sleep(0.1)
                    if len(answers) == before:
                        return answered, "no answer" if sio.connected else "disconnected"
                    answered += 1
                return answered, "ok"
            except Exception as exc:  # the control is expected to end here
                return answered, type(exc).__name__
            finally:
                await sio.disconnect()

    pinned, pinned_end = asyncio.run(chat(True))
    unpinned, unpinned_end = asyncio.run(chat(False))
    counts = {"messages": messages, "answered_with_cookie": pinned, "with_cookie": pinned_end,
              "answered_without_cookie": unpinned, "without_cookie": unpinned_end}
    problems = [] if pinned == messages else [f"only {pinned} of {messages} answered over polling ({pinned_end})"]
    return DrillResult("socket.io pinned to one Rasa server by cookie", not problems, counts, problems)


def drill_ordering(cluster: Cluster, messages: int = 8) -> DrillResult:
    chat = Chat(cluster)
    texts = [f"你好{i}" for i in range(messages)]
    with ThreadPoolExecutor(max_workers=messages) as pool:
        kinds = [k for k, _, _ in pool.map(chat.say, texts)]
    events = chat.tracker()["events"]
    users = [i for i, e in enumerate(events) if e["event"] == "user"]
    interleaved = sum(1 for a, b in zip(users, users[1:], strict=False)
                      if not any(e["event"] == "action" and e.get("name") == "action_listen" for e in events[a:b]))
    counts = {"sent": messages, "answered": kinds.count("normal"), "user_events": len(users),
              "turns_interleaved": interleaved}
    problems = []
    if len(users) != messages:
        problems.append(f"{len(users)} user events for {messages} messages")
    if interleaved:
        problems.append(f"{interleaved} turns began before the previous one ended")
    if kinds.count("normal") != messages:
        problems.append(f"answers: {kinds}")
    return DrillResult("simultaneous messages to one conversation", not problems, counts, problems)


def stored_counts(cluster: Cluster) -> Dict[str, int]:
    db = repository.inspection_handle(HOST, cluster.primary_port(timeout_s=120), cluster.settings.mongodb_db)
    counts = {f"sends_{row['_id']}": row["n"] for row in db["sends"].aggregate(
        [{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}
    for name in ("customers", "tickets", "escalations", "audit_log", "conversations"):
        counts[name] = db[name].count_documents({})
    db.client.close()
    return dict(sorted(counts.items()))


def drill_backup_restore(cluster: Cluster, day: date, tmp: Path) -> DrillResult:
    """Back up, destroy every member's data, restore: what the drills left is all there, and a rerun of the
    MongoDB drill's campaign sends nothing again."""
    before = stored_counts(cluster)
    archive = backup(cluster.mongo, tmp / "backup.tar.gz")
    for member in cluster.mongo:
        member.kill()
        shutil.rmtree(member.data_dir)
    started = time.monotonic()
    restore(archive, cluster.mongo, REPLICA_SET)
    restored_s = time.monotonic() - started
    after = stored_counts(cluster)
    messages = len(received(cluster))
    argv = [sys.executable, "-m", "care_scheduler", "run", "birthday", "--date", day.isoformat(),
            "--now", f"{day.isoformat()}T09:00"]
    rerun = subprocess.run(argv, env=cluster.env, cwd=ROOT, capture_output=True, text=True, timeout=600)
    time.sleep(1)
    sent_again = len(received(cluster)) - messages
    chat = Chat(cluster)
    answered_s = wait_for(lambda: chat.say("你好")[0] == "normal", 60, every_s=0.5)
    counts = {"archive_mb": round(archive.stat().st_size / 1e6, 1), "restore_s": round(restored_s, 1),
              "records_before": sum(before.values()), "records_after": sum(after.values()),
              "rerun_exit": rerun.returncode, "sent_again": sent_again,
              "assistant_back_s": round(answered_s, 1) if answered_s is not None else None}
    problems = []
    if before != after:
        problems.append(f"records differ: {set(before.items()) ^ set(after.items())}")
    if rerun.returncode != 0 or sent_again:
        problems.append(f"the rerun sent {sent_again} again (exit {rerun.returncode}): {rerun.stderr[-300:]}")
    if answered_s is None:
        problems.append("the assistant did not answer normally within 60 s of the restore")
    return DrillResult("backup, destroy, restore", not problems, counts, problems)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=600, help="greetings per campaign drill")
    parser.add_argument("--only", action="append", choices=["ordering", "socketio", "rasa", "redis", "leader", "mongo", "backup"],
                        help="run only these drills (backup reruns the mongo drill's campaign: run both)")
    args = parser.parse_args()
    zone = daytime_zone()
    today = datetime.now(ZoneInfo(zone)).date()
    print(f"cluster drills: business timezone {zone} (local time {datetime.now(ZoneInfo(zone)):%H:%M})", flush=True)
    results: List[DrillResult] = []
    with tempfile.TemporaryDirectory(prefix="cluster-drills-") as tmp_name:
        tmp = Path(tmp_name)
        settings = Settings(var_dir=tmp / "var", twilio_account_sid=None, twilio_auth_token=None, mongodb_uri=None)
        cluster = Cluster(settings, Ports.free(rasa=2, actions=2, care=2), tmp / "cluster", demo_customers=20,
                          extra_env={**DRILL_ENV, "TIMEZONE": zone})
        try:
            started = time.perf_counter()
            cluster.start()
            print(f"cluster started in {time.perf_counter() - started:.0f} s", flush=True)
            drills = {"ordering": lambda: drill_ordering(cluster), "socketio": lambda: drill_socketio(cluster),
                      "rasa": lambda: drill_rasa(cluster),
                      "redis": lambda: drill_redis(cluster), "leader": lambda: drill_leader(cluster, today, args.contacts),
                      "mongo": lambda: drill_mongo(cluster, today + timedelta(days=1), args.contacts),
                      "backup": lambda: drill_backup_restore(cluster, today + timedelta(days=1), tmp)}
            for name, drill in drills.items():
                if args.only and name not in args.only:
                    continue
                started = time.perf_counter()
                result = drill()
                result.counts["seconds"] = round(time.perf_counter() - started, 1)
                print(result.line(), flush=True)
                results.append(result)
        finally:
            cluster.stop()
    for result in results:
        result.counts["timezone"] = zone
    write_results("cluster-drills", merged_results(RESULTS / "cluster-drills.json", 0, results))
    return 0 if results and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
