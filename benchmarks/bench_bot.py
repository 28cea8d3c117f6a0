"""Bot round-trip latency (``make bench-bot``): simulated customers through the REST webhook, ours vs bare Rasa.

N concurrent simulated customers (default 20) hold short, realistic conversations
in Chinese and English (greeting, an SLA question, a bill question that needs
verification, mobile number, the one-time code read from the Twilio emulator,
manager, tickets, thanks, goodbye) until 2,000 messages have been sent. Each
conversation has its own sender id, as each customer's chat would.

Ours is the whole product as ``make run`` starts it (Mongo tracker store, action
server, SMS gateway). The baseline is made here, in a temporary folder: the same
NLU data, pipeline and policy settings (Rasa's own policy classes), every intent
answered by an ``utter_`` response,
no custom actions, Rasa's default in-memory tracker store, plain ``rasa`` (no patches). Its intent/response
pairs are given as rules and as stories: Rasa trains TEDPolicy from stories
only, and a rules-only baseline would run without the TED model the product
runs at every prediction. Both get the same scripts; the
figures are p50/p95/p99 latency per message and throughput, and ours/baseline.

Both run at once, idle in turn: each is warmed up with about one whole conversation
per customer (20 at once, as measured), then they take turns (4 each by default, ours first), and each one's
figures are taken over all its turns. A customer whose conversation a turn ends in
carries on from that step in its assistant's next turn. This machine's speed swings by a third within
minutes; run one after the other, the two could meet different machines (in one such
run the baseline answered 30 % faster than in the run before, its code unchanged),
while turns put any swing on both (docs/performance.md, "Bot latency").

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
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import aiohttp
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import RESULTS, main_thread_schedstat, process_tree, process_tree_cpu, write_results  # noqa: E402

from localrun.mongod import free_port  # noqa: E402
from localrun.seed import customer_doc, manager_docs  # noqa: E402
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
    """One assistant under test: where its REST webhook is, how a customer gets a code, and where a chat
    session is opened (ours; the baseline takes any conversation id a client names)."""

    def __init__(self, name: str, webhook: str, code_for: Callable[[aiohttp.ClientSession, str], Any],
                 session_url: Optional[str] = None) -> None:
        self.name, self.webhook, self.code_for, self.session_url = name, webhook, code_for, session_url
        self.chats: Dict[str, Tuple[str, Dict[str, str]]] = {}

    async def chat(self, http: aiohttp.ClientSession, key: str) -> Tuple[str, Dict[str, str]]:
        """The conversation id and headers for the chat a customer calls ``key``; a session is opened
        before the chat's first message, outside its timing, as the chat page opens one on loading."""
        if self.session_url is None:
            return key, {}
        if key not in self.chats:
            async with http.post(self.session_url, json={}) as resp:
                opened = await resp.json()
            self.chats[key] = (opened["session_id"], {"Authorization": f"Bearer {opened['token']}"})
        return self.chats[key]


def emulator_code_lookup(emulator_url: str) -> Callable[[aiohttp.ClientSession, str], Any]:
    async def code_for(session: aiohttp.ClientSession, mobile: str) -> str:
        async with session.get(f"{emulator_url}/_emulator/messages", params={"to": "+86" + mobile}) as resp:
            return latest_code((await resp.json())["messages"]) or "000000"
    return code_for


async def fixed_code(session: aiohttp.ClientSession, mobile: str) -> str:
    return "123456"


# Warm-up conversations are numbered from here: apart from the measured ones. Without them, the first
# turn of whichever assistant had not run whole conversations yet carried its first-use costs (TensorFlow
# tracing paths the greeting did not take): p95 746 ms against 457 to 500 in the baseline's later turns;
# after one conversation per language, still 742 against 514 to 531 in one run.
WARM_UP_CONVERSATIONS = 1_000_000

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


def rasa_server_pid(root: int) -> int:
    """The Rasa server among ``root`` and its descendants (the stack's supervisor, or the server itself)."""
    return next(pid for pid, name in process_tree(root).items() if name == "rasa server")


def start_spy(target: Target, server_pid: int) -> Tuple[subprocess.Popen[bytes], Path]:
    """py-spy sampling a Rasa server's main thread until ``stop_spy``: raw stacks in ``results/``.

    It samples only while the thread works (py-spy leaves idle threads out), so a server
    waiting while the other one has its turn adds nothing.
    """
    rasa_pid = rasa_server_pid(server_pid)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"bench_bot_{target.name}.pyspy.txt"
    spy = subprocess.Popen([py_spy(), "record", "--pid", str(rasa_pid), "--rate", str(SPY_RATE_HZ), "--format", "raw",
                            "--output", str(out), "--nonblocking"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    return spy, out


def stop_spy(spy: subprocess.Popen[bytes]) -> None:
    spy.send_signal(signal.SIGINT)
    spy.wait(60)


def drive_measured(target: Target, customers: List[Customer], numbers: Conversations, server_pid: int, *,
                   messages: int, warm_up: bool = True) -> Dict[str, Any]:
    """``drive``, plus the CPU seconds each process of the assistant used meanwhile (and this driver's own),
    and how long the Rasa server's main thread ran and waited for a CPU."""
    rasa_pid = rasa_server_pid(server_pid)
    before, own_before, main_before = process_tree_cpu(server_pid), _own_cpu_s(), main_thread_schedstat(rasa_pid)
    result = asyncio.run(drive(target, customers, numbers, messages=messages, warm_up=warm_up))
    after, own_after, main_after = process_tree_cpu(server_pid), _own_cpu_s(), main_thread_schedstat(rasa_pid)
    cpu_s = {name: after[name] - before.get(name, 0.0) for name in after}
    cpu_s["benchmark driver"] = own_after - own_before
    main_s = ({"on a CPU": main_after[0] - main_before[0], "waiting for a CPU": main_after[1] - main_before[1]}
              if main_before is not None and main_after is not None else {})
    return {**result, "cpu_s": cpu_s, "rasa_main_thread_s": main_s}


def combined(turns: List[Dict[str, Any]]) -> Dict[str, Any]:
    """One assistant's figures over all its turns: latencies pooled, CPU and time added up."""
    latencies = [ms for turn in turns for ms in turn["latencies"]]
    wall = sum(turn["wall_s"] for turn in turns)
    cpu: Dict[str, float] = {}
    for turn in turns:
        for name, seconds in turn["cpu_s"].items():
            cpu[name] = cpu.get(name, 0.0) + seconds
    per_msg = {name: round(seconds * 1000 / len(latencies), 1) for name, seconds in cpu.items()}
    driver = per_msg.pop("benchmark driver")
    per_msg = {name: ms for name, ms in sorted(per_msg.items(), key=lambda kv: -kv[1]) if ms >= 0.1}
    per_msg["benchmark driver"] = driver
    main_thread = {what: round(sum(turn["rasa_main_thread_s"][what] for turn in turns) * 1000 / len(latencies), 1)
                   for what in turns[0]["rasa_main_thread_s"]}
    q = statistics.quantiles(latencies, n=100)
    return {"messages": len(latencies), "errors": sum(turn["errors"] for turn in turns),
            "conversations": sum(turn["conversations"] for turn in turns), "turns": len(turns),
            "wall_s": round(wall, 1), "throughput_msgs_s": round(len(latencies) / wall, 1),
            "p50_ms": round(q[49], 1), "p95_ms": round(q[94], 1), "p99_ms": round(q[98], 1),
            "mean_ms": round(statistics.mean(latencies), 1), "cpu_ms_per_msg": per_msg,
            "rasa_main_thread_sched_ms_per_msg": main_thread,
            "p95_ms_by_turn": [round(statistics.quantiles(turn["latencies"], n=100)[94], 1) for turn in turns]}


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


@dataclass
class Customer:
    """One simulated customer of one assistant: where it is in its conversation, kept from turn to turn.

    A turn that ends mid-conversation leaves the customer there, and the assistant's next
    turn carries on from that step: every conversation runs its whole script, and turns
    change neither the mix of steps nor the number of customers waiting at once.
    """

    mobiles: List[str]
    conversation: int = 0  # 0: none started yet
    step: int = 0
    started: int = 0  # conversations this customer has started

    def script(self) -> List[str]:
        return SCRIPTS["zh" if self.conversation % 2 else "en"]


class Conversations:
    """The numbers an assistant's customers give their conversations, from ``first`` on."""

    def __init__(self, first: int = 0) -> None:
        self.last = first

    def next(self) -> int:
        self.last += 1
        return self.last


def customers_for(mobiles: List[str], users: int) -> List[Customer]:
    return [Customer(mobiles[worker::users] or mobiles) for worker in range(users)]


async def drive(target: Target, customers: List[Customer], numbers: Conversations, *, messages: int,
                warm_up: bool = True) -> Dict[str, Any]:
    """The customers send ``messages`` messages in all, each waiting for its answer before the next."""
    latencies: List[float] = []
    errors = 0
    sent = 0
    started_conversations = 0

    async def user(customer: Customer, session: aiohttp.ClientSession) -> None:
        nonlocal sent, errors, started_conversations
        while sent < messages:
            if customer.conversation == 0 or customer.step == len(customer.script()):
                customer.conversation, customer.step = numbers.next(), 0
                customer.started += 1
                started_conversations += 1
            sent += 1  # no await since the check: no other customer ran in between
            mobile = customer.mobiles[(customer.started - 1) % len(customer.mobiles)]
            step = customer.script()[customer.step]
            customer.step += 1
            text = step.format(mobile=mobile, code=await target.code_for(session, mobile) if "{code}" in step else "")
            sender, headers = await target.chat(session, f"bench-{target.name}-{customer.conversation}")
            started = time.perf_counter()
            try:
                async with session.post(target.webhook, json={"sender": sender, "message": text},
                                        headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            latencies.append((time.perf_counter() - started) * 1000)
            errors += not ok

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for i in range(len(customers) if warm_up else 0):  # warm-up: models and connections, not counted
            sender, headers = await target.chat(session, f"warmup-{target.name}-{i}")
            async with session.post(target.webhook, json={"sender": sender, "message": "你好"}, headers=headers) as r:
                await r.read()
        started = time.perf_counter()
        await asyncio.gather(*(user(customer, session) for customer in customers))
        wall = time.perf_counter() - started
    return {"latencies": latencies, "errors": errors, "conversations": started_conversations, "wall_s": wall}


# The product's policies are Rasa's own three, with TED not run when a rule has decided (bot/policies.py);
# a bare Rasa baseline gets Rasa's classes with the same settings.
STOCK_POLICIES = {
    "bot.policies.NotingMemoizationPolicy": "MemoizationPolicy",
    "bot.policies.NotingRulePolicy": "RulePolicy",
    "bot.policies.SettledSkippingTEDPolicy": "TEDPolicy",
}


def make_baseline(folder: Path) -> Path:
    """A bare Rasa 3.6 assistant: our NLU data, pipeline and policy settings, one utter_ response per intent, nothing else."""
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
    parser.add_argument("--rounds", type=int, default=4,
                        help="ours and the baseline take this many turns each, alternating, so that a change in "
                             "the machine's speed mid-run falls on both (p95 is taken over all turns)")
    parser.add_argument("--speed-patches", default=None,
                        help="the product's Rasa speed patches for this run (KEYCARE_RASA_SPEED_PATCHES: all, none, "
                             "or names; bot/rasa_compat.py): to measure what each is worth")
    parser.add_argument("--cluster", action="store_true",
                        help="instead: throughput through HAProxy with one Rasa server and with two (bench_cluster.py)")
    args = parser.parse_args()
    if args.cluster:
        from bench_cluster import main as cluster_main

        return cluster_main(args.users, args.messages, args.customers)
    if args.speed_patches is not None:
        os.environ["KEYCARE_RASA_SPEED_PATCHES"] = args.speed_patches
    if not 1 <= args.rounds <= args.messages // (2 * args.users):
        parser.error(f"--rounds: 1 to {args.messages // (2 * args.users)} (each turn needs two messages per customer)")
    results: Dict[str, Any] = {"users": args.users, "messages": args.messages, "rounds": args.rounds,
                               "speed_patches": os.environ.get("KEYCARE_RASA_SPEED_PATCHES", "all")}
    with tempfile.TemporaryDirectory(prefix="bench-bot-") as tmp_name:
        tmp = Path(tmp_name)
        baseline = make_baseline(tmp / "baseline")
        print("training the baseline assistant …", flush=True)
        started = time.perf_counter()
        trained = rasa(baseline, "train", "--fixed-model-name", "baseline", "--out", "models",
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        if trained.wait() != 0:
            raise SystemExit("baseline training failed")
        results["baseline_train_s"] = round(time.perf_counter() - started, 1)

        print("starting the product (make run's stack) and the baseline …", flush=True)
        mobiles = contact_pool(args.customers)
        stack = Stack(tmp / "stack", demo_customers=args.customers)
        port = free_port()
        server: Optional[subprocess.Popen[bytes]] = None
        spies: List[subprocess.Popen[bytes]] = []
        try:
            stack.start()
            assert stack.proc is not None
            server = rasa(baseline, "run", "--model", "models/baseline.tar.gz", "--port", str(port),
                          "--credentials", "credentials.yml", stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            wait_http(f"http://127.0.0.1:{port}/", server)
            targets = [
                (Target("ours", f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/webhook",
                        emulator_code_lookup(f"http://127.0.0.1:{stack.emulator_port}"),
                        f"http://127.0.0.1:{stack.rasa_port}/webhooks/rest/session"), stack.proc.pid),
                (Target("baseline", f"http://127.0.0.1:{port}/webhooks/rest/webhook", fixed_code), server.pid),
            ]
            spy_outs: Dict[str, Path] = {}
            if args.profile:
                for target, pid in targets:
                    spy, spy_outs[target.name] = start_spy(target, pid)
                    spies.append(spy)
            for target, _ in targets:  # warm-up, not counted: every customer holds about one whole conversation
                asyncio.run(drive(target, customers_for(mobiles, args.users), Conversations(WARM_UP_CONVERSATIONS),
                                  messages=args.users * len(SCRIPTS["zh"]), warm_up=False))
            turns: Dict[str, List[Dict[str, Any]]] = {target.name: [] for target, _ in targets}
            customers = {target.name: customers_for(mobiles, args.users) for target, _ in targets}
            numbers = {target.name: Conversations() for target, _ in targets}
            for turn in range(args.rounds):
                share = args.messages // args.rounds + (1 if turn < args.messages % args.rounds else 0)
                for target, pid in targets:
                    print(f"turn {turn + 1} of {args.rounds}: {target.name}, {share} messages …", flush=True)
                    turns[target.name].append(drive_measured(target, customers[target.name], numbers[target.name], pid,
                                                             messages=share, warm_up=turn == 0))
            for spy in spies:
                stop_spy(spy)
            spies = []
            for target, _ in targets:
                results[target.name] = combined(turns[target.name])
                if args.profile:
                    results[target.name]["rasa_main_thread_ms_per_msg"] = frame_breakdown(
                        spy_outs[target.name], results[target.name]["messages"])
        finally:
            for spy in spies:
                stop_spy(spy)
            if server is not None:
                server.terminate()
                server.wait(30)
            stack.stop()

    ours_r, base_r = results["ours"], results["baseline"]
    results["p95_ratio"] = round(ours_r["p95_ms"] / base_r["p95_ms"], 2)
    for name, r in (("ours", ours_r), ("baseline", base_r)):
        print(f"  {name:8}  p50 {r['p50_ms']:7.1f} ms  p95 {r['p95_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  "
              f"{r['throughput_msgs_s']:6.1f} msgs/s  ({r['messages']:,} messages, {r['conversations']} conversations, "
              f"{r['errors']} errors)")
        print("            CPU per message: " + ", ".join(f"{n} {ms} ms" for n, ms in r["cpu_ms_per_msg"].items()))
        if r["rasa_main_thread_sched_ms_per_msg"]:
            print("            Rasa server's main thread per message: " + ", ".join(
                f"{what} {ms} ms" for what, ms in r["rasa_main_thread_sched_ms_per_msg"].items()))
        print("            p95 in each turn: " + ", ".join(f"{ms:.0f}" for ms in r["p95_ms_by_turn"]) + " ms")
    if args.profile:
        print("  Rasa server main thread, ms per message (py-spy):   ours  baseline")
        for label in PROFILE_FRAMES:
            print(f"    {label:46} {ours_r['rasa_main_thread_ms_per_msg'][label]:6.1f} "
                  f"{base_r['rasa_main_thread_ms_per_msg'][label]:9.1f}")
    ok = results["p95_ratio"] <= 1.3
    print(f"  p95 ours/baseline: {results['p95_ratio']}   [{'meets' if ok else 'MISSES'} <= 1.3]   "
          f"(speed patches: {results['speed_patches']})")
    write_results("bench_bot", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
