"""What the campaign benchmark and the campaign drills share: a throwaway mongod, due contacts,
the Twilio emulator as its own process, and the product's campaign command run as a child.

Nothing here is a stand-in for product code: campaigns run through
``python -m care_scheduler run``, the emulator is ``python -m localrun.twilio_emulator``.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from carecore.repository import Database  # noqa: E402
from localrun.seed import customer_doc, manager_docs  # noqa: E402

ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-emulator-token"
FROM_NUMBER = "+8610690000"


def due_customers(first_index: int, contacts: int, day: date, managers: List[Dict[str, Any]],
                  *, uniform: bool = False) -> List[Dict[str, Any]]:
    """Demo accounts (realistic tiers, languages, 3 % opted out) whose every contact is born on ``day``."""
    docs: List[Dict[str, Any]] = []
    total = 0
    index = first_index
    while total < contacts:
        doc = customer_doc(index, day, managers)
        doc["contacts"] = doc["contacts"][: contacts - total]
        doc["contacts"][0]["billing_contact"] = True
        for contact in doc["contacts"]:
            contact["birthday"] = {"calendar": "solar", "month": day.month, "day": day.day}
            if uniform:  # a run measured against a rate: alike messages, none kept back
                contact.update(language="zh", tier="silver", sms_opt_out=False)
        total += len(doc["contacts"])
        docs.append(doc)
        index += 1
    return docs


@dataclass
class Due:
    """Who a seeded campaign day must reach."""

    day: date
    mobiles: List[str] = field(default_factory=list)  # consenting: exactly one message each
    opted_out: List[str] = field(default_factory=list)  # recorded as suppressed, never sent


async def seed_due(uri: str, db_name: str, days: List[Tuple[date, int, bool]]) -> List[Due]:
    """Seed managers and, per (day, contacts, uniform), accounts whose contacts are all due that day."""
    db = Database.connect(uri, db_name)
    try:
        await db.ensure_schema()
        managers = manager_docs()
        await db.managers.insert_many(managers)
        result: List[Due] = []
        next_index = 1
        for day, contacts, uniform in days:
            docs = due_customers(next_index, contacts, day, managers, uniform=uniform)
            next_index += len(docs)
            for start in range(0, len(docs), 2000):
                await db.customers.insert_many(docs[start:start + 2000])
            due = Due(day)
            for doc in docs:
                for contact in doc["contacts"]:
                    (due.opted_out if contact.get("sms_opt_out") else due.mobiles).append(contact["mobile"])
            result.append(due)
        return result
    finally:
        db.close()


def wait_port(port: int, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port}")


class EmulatorProcess:
    """The Twilio emulator in its own process, with its received log (the drills' ground truth)."""

    def __init__(self, tmp: Path, port: int, faults: Optional[Dict[str, Any]] = None) -> None:
        self.port = port
        self.log_path = tmp / "received.jsonl"
        env = {**os.environ, "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
               "TWILIO_FROM_NUMBER": FROM_NUMBER, "LOG_LEVEL": "WARNING"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "localrun.twilio_emulator", "--port", str(port), "--received-log",
             str(self.log_path), "--no-callbacks", "--faults", json.dumps(faults or {})], cwd=ROOT, env=env)
        wait_port(port)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def received(self) -> List[Dict[str, Any]]:
        if not self.log_path.exists():
            return []
        return [json.loads(line) for line in self.log_path.read_text(encoding="utf-8").splitlines()]

    def received_count(self) -> int:
        if not self.log_path.exists():
            return 0
        with self.log_path.open("rb") as fh:
            return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 16), b""))

    def stats(self) -> Dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/_emulator/stats", timeout=10) as resp:
            return json.load(resp)["stats"]

    def clear_log(self) -> None:
        self.log_path.unlink(missing_ok=True)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def campaign_env(uri: str, db_name: str, tmp: Path, emulator: EmulatorProcess, **extra: str) -> Dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MONGODB_", "CAMPAIGN_"))}
    env.update(MONGODB_URI=uri, MONGODB_DB=db_name, VAR_DIR=str(tmp / "var"), TWILIO_ACCOUNT_SID=ACCOUNT_SID,
               TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_FROM_NUMBER=FROM_NUMBER, TWILIO_API_BASE_URL=emulator.url,
               PUBLIC_BASE_URL="http://127.0.0.1:9", LOG_LEVEL="WARNING", **extra)
    return env


def campaign_argv(day: date, *extra: str, profile: Optional[Path] = None) -> List[str]:
    profiler = ["-m", "cProfile", "-o", str(profile)] if profile else []
    return [sys.executable, *profiler, "-m", "care_scheduler", "run", "birthday", "--date", day.isoformat(),
            "--now", f"{day.isoformat()}T09:00", *extra]


RESULTS = ROOT / "results"


_REFERENCE_MESSAGE = {
    "sid": "SM" + "0" * 32, "to": "+8613900000000", "status": "queued", "num_segments": "2",
    "body": "【客户关怀】张经理，今天是您的生日，中国电信政企客户部祝您生日快乐、万事顺意！",
    "date_created": "Mon, 23 Nov 2026 01:00:00 +0000", "price": None, "error_code": None,
}


def reference_ms(rounds: int = 20_000) -> float:
    """Milliseconds this process takes for a fixed piece of single-core work like a sender's
    (JSON both ways, form quoting, date parsing): the machine's speed at that moment.

    This machine's speed swings by half from one minute to the next, and every figure
    swings with it; a rate read beside this number can be compared with another's.
    """
    from email.utils import parsedate_to_datetime
    from urllib.parse import urlencode

    started = time.process_time()
    for _ in range(rounds):
        text = json.dumps(_REFERENCE_MESSAGE)
        message = json.loads(text)
        urlencode({"To": message["to"], "Body": message["body"]})
        parsedate_to_datetime(message["date_created"])
    return round((time.process_time() - started) * 1000, 1)


def write_results(name: str, results: Dict[str, Any]) -> Path:
    """Figures go to results/<name>.json, where the README's table points."""
    out = RESULTS / f"{name}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"written: results/{name}.json")
    return out


@dataclass
class DrillResult:
    """One drill's verdict: a PASS/FAIL line with its counts, and why it failed."""

    name: str
    passed: bool
    counts: Dict[str, Any] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    def line(self) -> str:
        counts = ", ".join(f"{k}={v}" for k, v in self.counts.items())
        why = f"  ({'; '.join(self.problems)})" if self.problems else ""
        return f"{'PASS' if self.passed else 'FAIL'} {self.name}: {counts}{why}"


def cpu_seconds(pid: int) -> float:
    """User + system CPU a running process has used so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def process_tree(root: int) -> Dict[int, str]:
    """``root`` and each descendant, with a short name from its command line (rasa server, mongod, ...)."""
    parents: Dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue  # exited while we looked
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        children = [pid for pid, ppid in parents.items() if ppid == parent and pid not in tree]
        tree.update(children)
        frontier.extend(children)
    named: Dict[int, str] = {}
    for pid in tree:
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        named[pid] = _process_name([a.decode(errors="replace") for a in argv if a])
    return named


def main_thread_schedstat(pid: int) -> Optional[Tuple[float, float]]:
    """Seconds a process's main thread has run on a CPU, and waited runnable for one (Linux schedstat).

    The wait is what other processes and threads cost it: a Rasa server whose main thread
    waits for a CPU answers late however little work it has (``make bench-bot``). None
    where the kernel keeps no such figures.
    """
    try:
        on_cpu_ns, waiting_ns, _ = Path(f"/proc/{pid}/schedstat").read_text().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu_ns) / 1e9, int(waiting_ns) / 1e9


def process_tree_cpu(root: int) -> Dict[str, float]:
    """CPU seconds so far of ``root`` and its descendants, by process name.

    Which process a benchmark's time went to (rasa server, action server, mongod, ...)
    decides what is worth optimising; two samples around a run give the run's share.
    """
    used: Dict[str, float] = {}
    for pid, name in process_tree(root).items():
        try:
            used[name] = used.get(name, 0.0) + cpu_seconds(pid)
        except (OSError, ValueError, IndexError):
            continue
    return used


def _process_name(argv: List[str]) -> str:
    text = " ".join(argv)
    for marker, name in (("mongod", "mongod"), ("run actions", "action server"), ("rasa run", "rasa server"), ("-m bot run", "rasa server"),
                         ("twilio_emulator", "twilio emulator"), ("care_scheduler", "care service"),
                         ("supervisor", "supervisor")):
        if marker in text:
            return name
    return Path(argv[0]).name if argv else "?"


@dataclass
class CampaignRun:
    returncode: int
    elapsed_s: float
    peak_rss_mb: float
    output: str
    cpu_s: float = 0.0  # the campaign process's own user + system time


def run_campaign(env: Dict[str, str], argv: List[str]) -> CampaignRun:
    """Run the campaign command to its end: wall time, its own CPU time (``wait4``) and its peak RSS.

    The peak is the kernel's high-water mark of the process's own memory (``VmHWM``), read
    while it runs. ``wait4``'s ``ru_maxrss`` would overstate it: Linux carries the high-water
    mark across ``exec``, so it starts at this benchmark's own size when it spawned the child
    (at 100,000 contacts that put 226 MB where the campaign itself peaked near 100 MB).
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    peak_kb = [0]
    watcher = threading.Thread(target=_watch_peak_rss, args=(proc.pid, peak_kb), daemon=True)
    watcher.start()
    out = proc.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(proc.pid, 0)
    watcher.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    return CampaignRun(proc.returncode, time.perf_counter() - started, peak_kb[0] / 1024, out,
                       usage.ru_utime + usage.ru_stime)


def _watch_peak_rss(pid: int, peak_kb: List[int], every_s: float = 0.1) -> None:
    """Keep the last ``VmHWM`` of ``pid`` (monotonic, so the last reading is the peak) until it exits."""
    status = Path(f"/proc/{pid}/status")
    while True:
        try:
            text = status.read_text()
        except (FileNotFoundError, ProcessLookupError):
            return
        if "VmHWM:" not in text:  # a zombie: it has exited, its memory is gone
            return
        for line in text.splitlines():
            if line.startswith("VmHWM:"):
                peak_kb[0] = max(peak_kb[0], int(line.split()[1]))
        time.sleep(every_s)
