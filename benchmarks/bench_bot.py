"""Bot round-trip latency (``make bench-bot``): simulated customers through the REST webhook, ours vs bare Rasa.

N concurrent simulated customers (default 20) hold short, realistic conversations
in Chinese and English (greeting, an SLA question, a bill question that needs
verification, mobile number, the one-time code read from the Twilio emulator,
manager, tickets, thanks, goodbye) until 2,000 messages have been sent. Each
conversation has its own sender id, as each customer's chat would.

Ours is the whole product as ``make run`` starts it (Mongo tracker store, action
server, SMS gateway). The baseline is made here, in a temporary folder: the same
NLU data, pipeline and policy settings (Rasa's own policy classes, where the
product skips TED when a rule has decided: ``--baseline-policies ours`` gives the
baseline that skip too), every intent answered by an ``utter_`` response,
no custom actions, Rasa's default in-memory tracker store. Its intent/response
pairs are given as rules and as stories: Rasa trains TEDPolicy from stories
only, and a rules-only baseline would run without the TED model the product
runs at every prediction. Both get the same scripts; the
figures are p50/p95/p99 latency per message and throughput, and ours/baseline.

Goal: p95 ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import RESULTS, process_tree, process_tree_cpu, write_results  # noqa: E402

from carecore.mongod import free_port  # noqa: E402
from carecore.seed import customer_doc, manager_docs  # noqa: E402
from tests.stack import Stack, latest_code  # noqa: E402

SCRIPTS = {
    "zh": ["你好", "你们承诺多久修复故障", "上个月话费多少", "{mobile}", "{code}", "我的客户经理是谁",
           "查一下我的工单", "谢谢", "再见"],
    "en": ["hello", "how fast do you fix faults", "how much was our bill last month", "{mobile}", "{code}",
           "who is my account manager", "any update on my ticket", "thanks", "bye"],
}


def contact_pool(customers: int) -> List[str]:
    """Mobiles (as customers type them) of the demo contacts the stack seeds, minus opted-out ones."""
    managers = manager_docs()
    mobiles = []
    for index in range(1, customers + 1):
        for contact in customer_doc(index, date.today(), managers)["contacts"]:
            if not contact["sms_opt_out"]:
                mobiles.append(contact["mobile"][3:])
    return mobiles


class Target:
    """One assistant under test: where its REST webhook is and how a customer gets a code."""

    def __init__(self, name: str, webhook: str, code_for: Callable[[aiohttp.ClientSession, str], Any]) -> None:
        self.name, self.webhook, self.code_for = name, webhook, code_for


def emulator_code_lookup(emulator_url: str) -> Callable[[aiohttp.ClientSession, str], Any]:
    async def code_for(session: aiohttp.ClientSession, mobile: str) -> str:
        async with session.get(f"{emulator_url}/_emulator/messages", params={"to": "+86" + mobile}) as resp:
            return latest_code((await resp.json())["messages"]) or "000000"
    return code_for


async def fixed_code(session: aiohttp.ClientSession, mobile: str) -> str:
    return "123456"


# Where a Rasa server's main thread spends its time, by frame (inclusive), for ``--profile``.
PROFILE_FRAMES = {
    "policy predictions": "_predict_next_with_tracker (rasa/core/processor.py",
    "  TEDPolicy": "predict_action_probabilities (rasa/core/policies/ted_policy.py",
    "  RulePolicy": "predict_action_probabilities (rasa/core/policies/rule_policy.py",
    "  MemoizationPolicy": "predict_action_probabilities (rasa/core/policies/memoization.py",
    "NLU": "_parse_message_with_graph (rasa/core/processor.py",
    "actions (custom ones over HTTP)": "run (rasa/core/actions/action.py",
    "tracker store read": "retrieve (rasa/core/tracker_store.py",
    "whole message": "handle_message (rasa/core/processor.py",
}
SPY_RATE_HZ = 50


def drive_measured(target: Target, mobiles: List[str], server_pid: int, *, users: int, messages: int,
                   profile: bool = False) -> Dict[str, Any]:
    """``drive``, plus the CPU each process of the assistant used per message meanwhile (and this driver's own).

    With ``profile``, py-spy samples the Rasa server meanwhile; its raw stacks go to
    ``results/bench_bot_<target>.pyspy.txt`` and a breakdown by frame into the result.
    """
    spy, spy_out = None, RESULTS / f"bench_bot_{target.name}.pyspy.txt"
    if profile:
        rasa_pid = next(pid for pid, name in process_tree(server_pid).items() if name == "rasa server")
        RESULTS.mkdir(exist_ok=True)
        spy = subprocess.Popen([py_spy(), "record", "--pid", str(rasa_pid), "--rate", str(SPY_RATE_HZ), "--format", "raw",
                                "--output", str(spy_out), "--nonblocking"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(1)
    before, own_before = process_tree_cpu(server_pid), _own_cpu_s()
    result = asyncio.run(drive(target, mobiles, users=users, messages=messages))
    after, own_after = process_tree_cpu(server_pid), _own_cpu_s()
    per_msg = {name: round((after[name] - before.get(name, 0.0)) * 1000 / result["messages"], 1) for name in after}
    per_msg = {name: ms for name, ms in sorted(per_msg.items(), key=lambda kv: -kv[1]) if ms >= 0.1}
    per_msg["benchmark driver"] = round((own_after - own_before) * 1000 / result["messages"], 1)
    result = {**result, "cpu_ms_per_msg": per_msg}
    if spy is not None:
        spy.send_signal(signal.SIGINT)
        spy.wait(60)
        result["rasa_main_thread_ms_per_msg"] = frame_breakdown(spy_out, result["messages"])
    return result


def py_spy() -> str:
    found = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if not found:
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    return found


def frame_breakdown(raw: Path, messages: int) -> Dict[str, float]:
    """Milliseconds per message the Rasa server's main thread spent inside each of PROFILE_FRAMES."""
    samples = dict.fromkeys(PROFILE_FRAMES, 0)
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if "main (rasa/__main__.py" not in stack:  # worker threads mostly wait on sockets
            continue
        for label, frame in PROFILE_FRAMES.items():
            if frame in stack:
                samples[label] += int(count)
    return {label: round(n * 1000 / SPY_RATE_HZ / messages, 1) for label, n in samples.items()}


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def drive(target: Target, mobiles: List[str], *, users: int, messages: int) -> Dict[str, Any]:
    latencies: List[float] = []
    errors = 0
    sent = 0
    conversation = 0
    lock = asyncio.Lock()

    async def user(worker: int, session: aiohttp.ClientSession) -> None:
        nonlocal sent, errors, conversation
        own = mobiles[worker::users] or mobiles
        turn = 0
        while True:
            async with lock:
                if sent >= messages:
                    return
                conversation += 1
                number = conversation
            lang = "zh" if number % 2 else "en"
            mobile = own[turn % len(own)]
            turn += 1
            sender = f"bench-{target.name}-{number}"
            for step in SCRIPTS[lang]:
                async with lock:
                    if sent >= messages:
                        return
                    sent += 1
                text = step.format(mobile=mobile, code=await target.code_for(session, mobile) if "{code}" in step else "")
                started = time.perf_counter()
                try:
                    async with session.post(target.webhook, json={"sender": sender, "message": text}) as resp:
                        await resp.read()
                        ok = resp.status == 200
                except aiohttp.ClientError:
                    ok = False
                latencies.append((time.perf_counter() - started) * 1000)
                errors += not ok

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for i in range(users):  # warm-up: models and connections, not counted
            async with session.post(target.webhook, json={"sender": f"warmup-{target.name}-{i}", "message": "你好"}) as r:
                await r.read()
        started = time.perf_counter()
        await asyncio.gather(*(user(w, session) for w in range(users)))
        wall = time.perf_counter() - started
    q = statistics.quantiles(latencies, n=100)
    return {"messages": len(latencies), "errors": errors, "conversations": conversation, "wall_s": round(wall, 1),
            "throughput_msgs_s": round(len(latencies) / wall, 1), "p50_ms": round(q[49], 1),
            "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1), "mean_ms": round(statistics.mean(latencies), 1)}


# The product's policies are Rasa's own three, with TED not run when a rule has decided (bot/policies.py);
# a bare Rasa baseline gets Rasa's classes with the same settings.
STOCK_POLICIES = {
    "bot.policies.NotingMemoizationPolicy": "MemoizationPolicy",
    "bot.policies.NotingRulePolicy": "RulePolicy",
    "bot.policies.SettledSkippingTEDPolicy": "TEDPolicy",
}


def make_baseline(folder: Path, *, policies: str = "stock") -> Path:
    """A bare Rasa 3.6 assistant: our NLU data, pipeline and policy settings, one utter_ response per intent, nothing else.

    ``policies="ours"`` keeps the product's policy classes instead of Rasa's, to
    show what the TED skip alone is worth to a bare assistant.
    """
    core = yaml.safe_load((ROOT / "domain" / "core.yml").read_text(encoding="utf-8"))
    intents = [i if isinstance(i, str) else next(iter(i)) for i in core["intents"]]
    domain = {
        "version": "3.1",
        "intents": intents,
        "entities": core.get("entities", []),
        "responses": {f"utter_{i}": [{"text": f"({i})"}] for i in [*intents, "default"]},
    }
    rules = [{"rule": f"answer {i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    rules.append({"rule": "fallback", "steps": [{"intent": "nlu_fallback"}, {"action": "utter_default"}]})
    stories = [{"story": f"answer {i}", "steps": [{"intent": i}, {"action": f"utter_{i}"}]} for i in intents]
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    for component in config["pipeline"]:
        if "dictionary_path" in component:
            component["dictionary_path"] = str(ROOT / component["dictionary_path"])
    for policy in config["policies"]:
        if policies == "stock":
            policy["name"] = STOCK_POLICIES.get(policy["name"], policy["name"])
        if policy.get("core_fallback_action_name"):
            policy["core_fallback_action_name"] = "action_default_fallback"
    (folder / "data").mkdir(parents=True)
    shutil.copytree(ROOT / "data" / "nlu", folder / "data" / "nlu")
    (folder / "data" / "rules.yml").write_text(yaml.safe_dump({"version": "3.1", "rules": rules}, allow_unicode=True))
    (folder / "data" / "stories.yml").write_text(yaml.safe_dump({"version": "3.1", "stories": stories}, allow_unicode=True))
    (folder / "domain.yml").write_text(yaml.safe_dump(domain, allow_unicode=True))
    (folder / "config.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    (folder / "credentials.yml").write_text("rest:\n")
    return folder


def rasa(folder: Path, *args: str, **popen: Any) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the pipeline's tokenizer lives in bot/
    return subprocess.Popen([str(Path(sys.executable).with_name("rasa")), *args], cwd=folder, env=env, **popen)


def wait_http(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 300) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{url}: the server exited ({proc.returncode})")
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except OSError:
            time.sleep(1)
    raise SystemExit(f"{url}: no answer after {timeout_s} s")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--customers", type=int, default=40, help="demo key accounts the stack seeds")
    parser.add_argument("--profile", action="store_true",
                        help="sample both Rasa servers with py-spy and print where their main threads spend each message")
    parser.add_argument("--baseline-policies", choices=("stock", "ours"), default="stock",
                        help="stock: Rasa's own policy classes (the bare baseline); ours: the product's (bot/policies.py)")
    args = parser.parse_args()
    results: Dict[str, Any] = {"users": args.users, "messages": args.messages,
                               "baseline_policies": args.baseline_policies}
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp_name:
        tmp = Path(tmp_name)
        baseline = make_baseline(tmp / "baseline", policies=args.baseline_policies)
        print("training the baseline assistant …", flush=True)
        started = time.perf_counter()
        trained = rasa(baseline, "train", "--fixed-model-name", "baseline", "--out", "models",
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if trained.wait() != 0:
            raise SystemExit("baseline training failed")
        results["baseline_train_s"] = round(time.perf_counter() - started, 1)

        print("starting the product (make run's stack) …", flush=True)
        mobiles = contact_pool(args.customers)
        stack: Optional[Stack] = Stack(tmp / "stack", demo_customers=args.customers)
        stack.start()
        try:
            ours = Target("ours", f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook",
                          emulator_code_lookup(f"http://127.0.0.1:{stack.emulator_port}"))
            print("driving ours …", flush=True)
            assert stack.proc is not None
            results["ours"] = drive_measured(ours, mobiles, stack.proc.pid, users=args.users, messages=args.messages,
                                             profile=args.profile)
        finally:
            stack.stop()

        port = free_port()
        server = rasa(baseline, "run", "--model", "models/baseline.tar.gz", "--port", str(port),
                      "--credentials", "credentials.yml", stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/", server)
            print("driving the baseline …", flush=True)
            base = Target("baseline", f"http://127.0.0.1:{port}/webhooks/rest/webhook", fixed_code)
            results["baseline"] = drive_measured(base, mobiles, server.pid, users=args.users, messages=args.messages,
                                                 profile=args.profile)
        finally:
            server.terminate()
            server.wait(30)

    ours_r, base_r = results["ours"], results["baseline"]
    results["p95_ratio"] = round(ours_r["p95_ms"] / base_r["p95_ms"], 2)
    for name, r in (("ours", ours_r), ("baseline", base_r)):
        print(f"  {name:8}  p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
              f"{r['throughput_msgs_s']:6.1f} msgs/s  ({r['messages']:,} messages, {r['conversations']} conversations, "
              f"{r['errors']} errors)")
        print("            CPU per message: " + ", ".join(f"{n} {ms} ms" for n, ms in r["cpu_ms_per_msg"].items()))
    if args.profile:
        print("  Rasa server main thread, ms per message (py-spy):   ours  baseline")
        for label in PROFILE_FRAMES:
            print(f"    {label:46} {ours_r['rasa_main_thread_ms_per_msg'][label]:6.1f} "
                  f"{base_r['rasa_main_thread_ms_per_msg'][label]:9.1f}")
    ok = results["p95_ratio"] <= 1.3
    print(f"  p95 ours/baseline: {results['p95_ratio']}   [{'meets' if ok else 'MISSES'} <= 1.3]")
    write_results("bench_bot", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
