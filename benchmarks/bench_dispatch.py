"""Campaign dispatch throughput (``make bench-dispatch``): 100,000 birthday greetings, end to end.

A throwaway mongod gets about 20,000 demo key accounts whose contacts (100,000)
are all born on the campaign day; the Twilio emulator runs as its own process,
as Twilio would be elsewhere. The campaign is the product's own command,
``python -m care_scheduler run birthday --no-rate-limit``, so every message is
selected, rendered, recorded before the call, sent through the real twilio
client and recorded again (the gateway's one send path). Figures: messages per second from start to exit of
that command, its peak RSS, and an exactly-once check against the emulator's
own received log. Then the upper bound: twilio-python alone sending to the same
emulator (``transport_ceiling.py``), since the campaign cannot be faster than the
client library it calls. A second campaign then runs at 50 MPS (segments per second, as Twilio
counts them) and the achieved rate is measured from the emulator's timestamps.

Goals: >= 300 msgs/s with no rate limit (ten times the default MPS), peak RSS <= 300 MB, achieved rate within 2 % of the limit.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import date, datetime
from pathlib import Path
from typing import Any, Dict, List, Optional

sys.path.insert(0, str(Path(__file__).resolve().parent))

from harness import (  # noqa: E402
    ROOT,
    EmulatorProcess,
    campaign_argv,
    campaign_env,
    cpu_seconds,
    reference_ms,
    run_campaign,
    seed_due,
    write_results,
)

from carecore.config import Settings  # noqa: E402
from carecore.sms.segments import segment_info  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402

FULL_DAY = date(2026, 11, 23)  # the throughput campaign
RATE_DAY = date(2026, 11, 24)  # the rate-limited one
CONCURRENCY_DEFAULT: int = Settings.__fields__["campaign_concurrency"].default  # campaign_env drops CAMPAIGN_*


def achieved_rate(lines: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Segments and messages per second between the first and the last acceptance, and the busiest second.

    MPS counts segments: a greeting with its opt-out link is two, so 50 MPS sends 25 of them a second.
    """
    accepted = sorted((datetime.fromisoformat(line["at"]).timestamp(), segment_info(line["body"]).segments)
                      for line in lines)
    times = [at for at, _ in accepted]
    span = times[-1] - times[0]
    per_second = Counter(int(t - times[0]) for t in times)
    return {"messages": len(times), "segments": sum(n for _, n in accepted), "span_s": round(span, 2),
            "rate": round(sum(n for _, n in accepted[:-1]) / span, 2),
            "msgs_per_s": round((len(times) - 1) / span, 2), "busiest_second": max(per_second.values())}


def interpreter() -> Dict[str, Any]:
    """What the children run on."""
    return {"python": platform.python_version(), "implementation": platform.python_implementation()}


def transport_ceiling(emulator: EmulatorProcess, messages: int, concurrency: int) -> Dict[str, Any]:
    """``transport_ceiling.py`` as a child: twilio-python to the emulator with nothing around it."""
    emulator_cpu = cpu_seconds(emulator.proc.pid)
    out = subprocess.run([sys.executable, str(Path(__file__).with_name("transport_ceiling.py")), emulator.url,
                          str(messages), str(concurrency)], check=True, capture_output=True, text=True, cwd=ROOT)
    figures: Dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    figures["emulator_cpu_ms_per_msg"] = round((cpu_seconds(emulator.proc.pid) - emulator_cpu) * 1000 / messages, 2)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--mps", type=float, default=50.0)
    parser.add_argument("--rate-contacts", type=int, default=6_000,
                        help="recipients of the rate-limited run (0: no rate-limited run)")
    parser.add_argument("--concurrency", type=int, default=None, help="CAMPAIGN_CONCURRENCY (default: the setting's)")
    parser.add_argument("--profile", type=Path, default=None, help="cProfile the unlimited run into this file")
    parser.add_argument("--ceiling-messages", type=int, default=20_000,
                        help="messages sent through the bare Twilio transport for the upper bound (0: skip)")
    args = parser.parse_args()
    if args.rate_contacts == 1 or args.rate_contacts < 0:
        parser.error("--rate-contacts: 0 (no rate-limited run) or at least 2 (a rate needs two messages)")

    results: Dict[str, Any] = {"contacts": args.contacts, "mps_limit": args.mps, "concurrency": args.concurrency,
                               "interpreter": interpreter()}
    with tempfile.TemporaryDirectory(prefix="bench-dispatch-") as tmp_name:
        tmp = Path(tmp_name)
        mongo = EmbeddedMongo(tmp / "db", free_port(), cache_size_gb=1.0)
        uri = mongo.start()
        emulator: Optional[EmulatorProcess] = None
        try:
            print(f"seeding {args.contacts:,} + {args.rate_contacts:,} due contacts …", flush=True)
            started = time.perf_counter()
            full_due, rate_due = asyncio.run(seed_due(uri, "bench_dispatch", [
                (FULL_DAY, args.contacts, False), (RATE_DAY, args.rate_contacts, True)]))
            results["seed_s"] = round(time.perf_counter() - started, 1)
            emulator = EmulatorProcess(tmp, free_port())
            extra = {"CAMPAIGN_CONCURRENCY": str(args.concurrency)} if args.concurrency else {}
            env = campaign_env(uri, "bench_dispatch", tmp, emulator, **extra)

            print("unlimited run …", flush=True)
            speed_before = reference_ms()
            emulator_cpu, mongod_cpu = cpu_seconds(emulator.proc.pid), cpu_seconds(mongo.process.pid)
            full = run_campaign(env, campaign_argv(FULL_DAY, "--no-rate-limit", profile=args.profile))
            emulator_cpu = cpu_seconds(emulator.proc.pid) - emulator_cpu
            mongod_cpu = cpu_seconds(mongo.process.pid) - mongod_cpu
            results["reference_ms"] = {"before": speed_before, "after": reference_ms()}
            if full.returncode != 0:
                raise SystemExit(f"campaign failed:\n{full.output[-3000:]}")
            received = Counter(line["to"] for line in emulator.received())
            results["unlimited"] = {
                "sent": sum(received.values()), "expected": len(full_due.mobiles),
                "suppressed_opted_out": len(full_due.opted_out),
                "duplicates": sum(n - 1 for n in received.values() if n > 1),
                "missing": len(set(full_due.mobiles) - set(received)),
                "not_due": len(set(received) - set(full_due.mobiles)),
                "elapsed_s": round(full.elapsed_s, 1),
                "msgs_per_s": round(args.contacts / full.elapsed_s, 1),
                "peak_rss_mb": round(full.peak_rss_mb, 1),
                # Where the two cores went: CPU milliseconds per message in each process.
                "cpu_ms_per_msg": {"campaign": round(full.cpu_s * 1000 / args.contacts, 2),
                                   "twilio_emulator": round(emulator_cpu * 1000 / args.contacts, 2),
                                   "mongod": round(mongod_cpu * 1000 / args.contacts, 2)},
            }
            emulator.clear_log()

            results["transport_ceiling"] = None
            if args.ceiling_messages:
                print("the bare Twilio transport, for the upper bound …", flush=True)
                results["transport_ceiling"] = transport_ceiling(emulator, args.ceiling_messages,
                                                                 args.concurrency or CONCURRENCY_DEFAULT)
                emulator.clear_log()

            results["limited"] = None
            if args.rate_contacts:
                print(f"run at {args.mps:g} MPS …", flush=True)
                limited = run_campaign(env, campaign_argv(RATE_DAY, "--mps", f"{args.mps:g}"))
                if limited.returncode != 0:
                    raise SystemExit(f"campaign failed:\n{limited.output[-3000:]}")
                rate = achieved_rate(emulator.received())
                rate["deviation_pct"] = round((rate["rate"] - args.mps) / args.mps * 100, 2)
                results["limited"] = rate
        finally:
            if emulator is not None:
                emulator.stop()
            mongo.destroy()

    u, r = results["unlimited"], results["limited"]
    i = results["interpreter"]
    print(f"\n{i['implementation']} {i['python']}")
    ok_rate, ok_rss = u["msgs_per_s"] >= 300, u["peak_rss_mb"] <= 300
    print(f"{args.contacts:,} due contacts ({u['suppressed_opted_out']:,} opted out, recorded as suppressed):")
    print(f"  unlimited: {u['msgs_per_s']:,.0f} msgs/s end to end ({u['elapsed_s']} s), {u['sent']:,} sent, "
          f"{u['duplicates']} duplicates, {u['missing']} missing, {u['not_due']} not due   "
          f"[{'meets' if ok_rate else 'MISSES'} >= 300 msgs/s]")
    speed = results["reference_ms"]
    print(f"  machine speed: the reference work took {speed['before']:.0f} ms before the run and "
          f"{speed['after']:.0f} ms after (less is faster; see harness.reference_ms)")
    cpu = u["cpu_ms_per_msg"]
    print(f"  CPU per message: campaign {cpu['campaign']} ms, Twilio emulator {cpu['twilio_emulator']} ms, "
          f"mongod {cpu['mongod']} ms (2 cores shared by all three)")
    c = results["transport_ceiling"]
    if c is not None:
        print(f"  upper bound, twilio-python to the emulator alone (no database, no planning, {c['messages']:,} "
              f"messages, {c['concurrency']} in flight): {c['msgs_per_s']:,.0f} msgs/s; CPU per message: sender "
              f"{c['sender_cpu_ms_per_msg']} ms, emulator {c['emulator_cpu_ms_per_msg']} ms")
    print(f"  peak RSS of the campaign process: {u['peak_rss_mb']:.0f} MB   [{'meets' if ok_rss else 'MISSES'} <= 300 MB]")
    if r is not None:
        ok_limit = abs(r["deviation_pct"]) <= 2
        print(f"  limited to {args.mps:g} MPS: {r['rate']} segments/s ({r['msgs_per_s']} msgs/s) over {r['span_s']} s "
              f"({r['messages']:,} messages, {r['segments']:,} segments, busiest second {r['busiest_second']} "
              f"messages), {r['deviation_pct']:+.2f} %   "
              f"[{'meets' if ok_limit else 'MISSES'} within 2 %]")
    write_results("bench_dispatch", results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
