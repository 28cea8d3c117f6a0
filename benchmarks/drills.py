"""Fault drills (``make drills``): the product under the failures it must survive without losing a message.

Each drill prints one ``PASS``/``FAIL`` line with its counts; all figures go to
``results/drills.json``. The ground truth for "sent exactly once" is the Twilio
emulator's own received log, never the product's records.

1. kill: a 10,000-recipient campaign SIGKILLed at 5 random points, restarted each time.
2. twilio: 10 % 429, 3 % 500, 1 % timeouts, invalid and unsubscribed numbers.
3. mongo: MongoDB SIGKILLed and restarted mid-campaign, and mid-conversation (whole stack).
4. hostile: hypothesis fuzzing of the SMS webhook, status callback, admin API, REST and socket.io channels.
5. disclosure: 200 attempts by a verified customer to read other customers' data.

Drills 3 (conversation part), 4 and 5 run against the whole product as ``make run``
starts it, which needs the trained model (``make drills`` trains first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    RESULTS,
    ROOT,
    DrillResult,
    Due,
    EmulatorProcess,
    campaign_argv,
    campaign_env,
    run_campaign,
    seed_due,
    write_results,
)

from carecore.repository import Database  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402

UNFINISHED = ("pending", "ambiguous", "deferred")
# Short timeouts make the drills quick; the lease stays at twice the timeout, as in production.
FAST_FAILURES = {"TWILIO_TIMEOUT_S": "1", "SMS_LEASE_S": "2"}


async def _statuses(uri: str, db_name: str) -> Counter:
    db = Database.connect(uri, db_name)
    try:
        return Counter({status: n for (_, status), n in (await db.sends.count_by_status()).items()})
    finally:
        db.close()


async def _opted_out(uri: str, db_name: str, mobiles: List[str]) -> int:
    db = Database.connect(uri, db_name)
    try:
        found = [await db.customers.find_by_mobile(m) for m in mobiles]
        return sum(1 for f in found if f and f[1].sms_opt_out)
    finally:
        db.close()


def drill_rng(seed: int, drill: str) -> random.Random:
    """The drill's own random numbers: ``--only NAME --seed N`` replays what NAME drew in the full run.

    One generator shared by every drill made each drill's draws depend on the drills run
    before it, so a drill run alone with the full run's seed drew other kill points,
    other faulty numbers and other probes.
    """
    return random.Random(f"{seed}:{drill}")


def merged_results(path: Path, seed: int, results: List[DrillResult]) -> Dict[str, Any]:
    """The drills file with this run's drills replaced and any other drill's latest result kept.

    ``--only`` runs a subset; writing just that subset threw the other drills' figures
    away. Each drill carries the seed it ran with (``counts["seed"]``), since after a
    partial run they may differ.
    """
    ran = {r.name for r in results}
    kept: List[Dict[str, Any]] = []
    try:
        previous = json.loads(path.read_text(encoding="utf-8"))
        kept = [d for d in previous.get("drills", []) if isinstance(d, dict) and d.get("name") not in ran]
        for drill in kept:
            drill.setdefault("counts", {}).setdefault("seed", previous.get("seed"))
    except (OSError, ValueError, AttributeError):
        kept = []  # none yet, or not ours to read: this run's drills alone
    return {"seed": seed, "drills": kept + [r.__dict__ for r in results]}


def exactly_once(due: Due, received: List[Dict[str, Any]], *, excluded: frozenset = frozenset()) -> Dict[str, int]:
    """Compare the emulator's received log with who was due (``excluded``: numbers Twilio refuses)."""
    got = Counter(line["to"] for line in received)
    expected = set(due.mobiles) - excluded
    return {"due": len(expected), "received": sum(got.values()),
            "duplicates": sum(n - 1 for n in got.values() if n > 1),
            "missing": len(expected - set(got)), "not_due": len(set(got) - expected)}


def drill_kill(tmp: Path, uri: str, contacts: int, kills: int, rng: random.Random) -> DrillResult:
    day = date(2026, 11, 23)
    db_name = "drill_kill"
    (due,) = asyncio.run(seed_due(uri, db_name, [(day, contacts, False)]))
    # The emulator stores each message, then waits before answering: a kill in that gap leaves
    # messages Twilio accepted but the sender never heard of, which the restart must look up.
    emulator = EmulatorProcess(tmp / "kill", free_port(), {"ack_delay_ms": 5})
    try:
        env = campaign_env(uri, db_name, tmp / "kill", emulator, **FAST_FAILURES)
        points = sorted(rng.sample(range(contacts // 20, contacts * 19 // 20), kills))
        landed: List[int] = []
        for point in points:
            proc = subprocess.Popen(campaign_argv(day, "--no-rate-limit"), cwd=ROOT, env=env,
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            while emulator.received_count() < point and proc.poll() is None:
                time.sleep(0.005)
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                landed.append(emulator.received_count())
            proc.wait()
        pending_after_kills = asyncio.run(_statuses(uri, db_name)).get("pending", 0)
        final = run_campaign(env, campaign_argv(day, "--no-rate-limit"))
        statuses = asyncio.run(_statuses(uri, db_name))
        check = exactly_once(due, emulator.received())
        counts = {"kills": len(landed), "killed_at": landed, "left_pending": pending_after_kills,
                  "lookups": emulator.stats()["list_requests"], **check,
                  "unfinished_records": sum(statuses.get(s, 0) for s in UNFINISHED)}
    finally:
        emulator.stop()
    problems = []
    if final.returncode != 0:
        problems.append(f"restart exited {final.returncode}: {final.output[-300:]}")
    if len(landed) < kills:
        problems.append(f"only {len(landed)} of {kills} kills landed before the campaign finished")
    for key in ("duplicates", "missing", "not_due", "unfinished_records"):
        if counts[key]:
            problems.append(f"{key}: {counts[key]}")
    return DrillResult("kill and restart", not problems, counts, problems)


def drill_twilio_faults(tmp: Path, uri: str, contacts: int, rng: random.Random) -> DrillResult:
    day = date(2026, 11, 24)
    db_name = "drill_twilio"
    (due,) = asyncio.run(seed_due(uri, db_name, [(day, contacts, False)]))
    picked = rng.sample(due.mobiles, 40)
    invalid, unsubscribed = picked[:20], picked[20:]
    faults = {"rate_429": 0.10, "rate_500": 0.03, "rate_timeout": 0.01, "timeout_hang_s": 3, "store_on_500": True,
              "invalid_numbers": invalid, "unsubscribed_numbers": unsubscribed, "seed": rng.randrange(1 << 30)}
    emulator = EmulatorProcess(tmp / "twilio", free_port(), faults)
    try:
        env = campaign_env(uri, db_name, tmp / "twilio", emulator, **FAST_FAILURES)
        runs = 0
        statuses: Counter = Counter()
        while runs < 5:  # a run finishes what it can; what is still unsettled is taken up by the next
            runs += 1
            result = run_campaign(env, campaign_argv(day, "--no-rate-limit"))
            if result.returncode != 0:
                return DrillResult("twilio faults", False, {"runs": runs}, [result.output[-300:]])
            statuses = asyncio.run(_statuses(uri, db_name))
            if not any(statuses.get(s) for s in UNFINISHED):
                break
        stats = emulator.stats()
        check = exactly_once(due, emulator.received(), excluded=frozenset(picked))
        opted_out_now = asyncio.run(_opted_out(uri, db_name, unsubscribed))
        counts = {"runs": runs, "injected": stats["faults"], "lookups": stats["list_requests"], **check,
                  "failed": statuses.get("failed", 0), "unsubscribed_now_opted_out": opted_out_now,
                  "unfinished_records": sum(statuses.get(s, 0) for s in UNFINISHED)}
    finally:
        emulator.stop()
    problems = [f"{key}: {counts[key]}" for key in ("duplicates", "missing", "not_due", "unfinished_records")
                if counts[key]]
    if counts["failed"] != len(picked):
        problems.append(f"{counts['failed']} failed, expected {len(picked)} (invalid + unsubscribed)")
    if opted_out_now != len(unsubscribed):
        problems.append(f"only {opted_out_now} of {len(unsubscribed)} unsubscribed numbers marked opted out")
    if not stats["faults"].get("429") or not stats["faults"].get("500") or not stats["faults"].get("timeout"):
        problems.append("a fault kind was never injected: the drill proves nothing about it")
    return DrillResult("twilio faults", not problems, counts, problems)


def drill_mongo_campaign(tmp: Path, contacts: int) -> DrillResult:
    """MongoDB killed and restarted while a campaign sends: the same process carries on, nothing lost."""
    day = date(2026, 11, 25)
    db_name = "drill_mongo"
    mongo = EmbeddedMongo(tmp / "db", free_port(), cache_size_gb=0.5)
    uri = mongo.start()
    restarted: Optional[EmbeddedMongo] = None
    emulator = EmulatorProcess(tmp, free_port(), {"ack_delay_ms": 5})
    try:
        (due,) = asyncio.run(seed_due(uri, db_name, [(day, contacts, False)]))
        env = campaign_env(uri, db_name, tmp, emulator)
        proc = subprocess.Popen(campaign_argv(day, "--no-rate-limit"), cwd=ROOT, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        while emulator.received_count() < contacts // 3 and proc.poll() is None:
            time.sleep(0.01)
        killed_at = emulator.received_count()
        assert mongo.process is not None
        mongo.process.kill()
        mongo.process.wait()
        time.sleep(2)
        restarted = EmbeddedMongo(tmp / "db", mongo.port, cache_size_gb=0.5)
        restarted.start()
        out, _ = proc.communicate(timeout=600)
        in_process = proc.returncode == 0
        statuses = asyncio.run(_statuses(uri, db_name))
        reruns = 0
        while any(statuses.get(s) for s in UNFINISHED) and reruns < 3:  # only if the process could not carry on
            reruns += 1
            run_campaign(env, campaign_argv(day, "--no-rate-limit"))
            statuses = asyncio.run(_statuses(uri, db_name))
        check = exactly_once(due, emulator.received())
        counts = {"killed_at_received": killed_at, "campaign_exit": proc.returncode, "reruns_needed": reruns, **check,
                  "unfinished_records": sum(statuses.get(s, 0) for s in UNFINISHED)}
    finally:
        emulator.stop()
        (restarted or mongo).destroy()
    problems = [f"{key}: {counts[key]}" for key in ("duplicates", "missing", "not_due", "unfinished_records")
                if counts[key]]
    if not in_process:
        problems.append(f"the campaign process failed ({counts['campaign_exit']}): {out.decode()[-300:]}")
    return DrillResult("mongodb restart mid-campaign", not problems, counts, problems)


def stack_drills(tmp: Path, seed: int, only: Optional[List[str]], probes: int,
                 examples: int) -> List[DrillResult]:
    """Drills 3 (conversation), 4 and 5, on one running stack; the MongoDB kill goes last."""
    from stack_drills import drill_disclosure, drill_hostile, drill_mongo_conversation

    from tests.stack import Stack

    stack = Stack(tmp / "stack")
    stack.start()
    results = []
    try:
        for name, drill in (("disclosure", lambda: drill_disclosure(stack, drill_rng(seed, "disclosure"), probes)),
                            ("hostile", lambda: drill_hostile(stack, examples)),
                            ("mongo", lambda: drill_mongo_conversation(stack))):
            if only and name not in only:
                continue
            started = time.perf_counter()
            try:
                result = drill()
            except Exception as exc:  # noqa: BLE001 - a drill that cannot run is a failed drill
                result = DrillResult(name, False, {}, [f"{type(exc).__name__}: {exc}"])
            result.counts["seconds"] = round(time.perf_counter() - started, 1)
            print(result.line(), flush=True)
            results.append(result)
    finally:
        stack.stop()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=["kill", "twilio", "mongo", "hostile", "disclosure"], action="append",
                        help="run only these drills")
    parser.add_argument("--kill-contacts", type=int, default=10_000)
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--twilio-contacts", type=int, default=5_000)
    parser.add_argument("--mongo-contacts", type=int, default=3_000)
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--examples", type=int, default=100, help="hypothesis examples per fuzzed endpoint")
    parser.add_argument("--seed", type=int, default=None, help="random seed (printed, so a failure can be replayed)")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    print(f"drills with seed {seed}", flush=True)

    drills: Dict[str, Callable[[Path, str], DrillResult]] = {
        "kill": lambda tmp, uri: drill_kill(tmp, uri, args.kill_contacts, args.kills, drill_rng(seed, "kill")),
        "twilio": lambda tmp, uri: drill_twilio_faults(tmp, uri, args.twilio_contacts, drill_rng(seed, "twilio")),
    }
    results: List[DrillResult] = []
    with tempfile.TemporaryDirectory(prefix="drills-") as tmp_name:
        tmp = Path(tmp_name)
        mongo = EmbeddedMongo(tmp / "db", free_port(), cache_size_gb=1.0)
        uri = mongo.start()
        try:
            for name, drill in drills.items():
                if args.only and name not in args.only:
                    continue
                (tmp / name).mkdir()
                started = time.perf_counter()
                result = drill(tmp, uri)
                result.counts["seconds"] = round(time.perf_counter() - started, 1)
                print(result.line(), flush=True)
                results.append(result)
        finally:
            mongo.destroy()
        if not args.only or "mongo" in args.only:
            (tmp / "mongo").mkdir()
            started = time.perf_counter()
            result = drill_mongo_campaign(tmp / "mongo", args.mongo_contacts)
            result.counts["seconds"] = round(time.perf_counter() - started, 1)
            print(result.line(), flush=True)
            results.append(result)
        if not args.only or {"mongo", "hostile", "disclosure"} & set(args.only):
            results += stack_drills(tmp, seed, args.only, args.probes, args.examples)
    for result in results:
        result.counts.setdefault("seed", seed)
    write_results("drills", merged_results(RESULTS / "drills.json", seed, results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
