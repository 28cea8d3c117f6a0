"""The KPI dashboard at scale (``make bench-kpis``): group's figures over 200,000 accounts, 100,000 tickets and
5,000,000 messages.

Loads a throwaway mongod with a year of records (spread over the twelve months up to ``NOW``, each
stamped with its customer's manager as the product stamps them), counts the twelve months as the
care service's KPI job does, then times the group scope's figures as the dashboard and
``GET /admin/kpis`` read them. The baseline in the same run is what the dashboard would cost
without kept counts: a recount of the current month from the raw records. Goal: group's figures in
at most 2 s. Writes ``results/bench_kpis.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Dict, List
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import write_results  # noqa: E402
from tqdm import tqdm  # noqa: E402

from care_scheduler import kpis  # noqa: E402
from carecore.clock import FixedClock  # noqa: E402
from carecore.kpis import CARE_KINDS  # noqa: E402
from carecore.repository import Database  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402
from localrun.seed import customer_doc, manager_docs  # noqa: E402

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=SHANGHAI)
YEAR_AGO = NOW - timedelta(days=365)
GOAL_S = 2.0
BATCH = 10_000
STATUSES = ["delivered"] * 90 + ["failed"] * 3 + ["sent"] * 4 + ["undelivered"] + ["suppressed"] * 2


def moment(rng: random.Random) -> datetime:
    return YEAR_AGO + timedelta(seconds=rng.randrange(365 * 86400))


async def load(uri: str, name: str, customers: int, tickets: int, sends: int, sessions: int) -> Dict[str, float]:
    """Insert the records: accounts through the repository, the rest straight into the product's collections
    (their validators on), as a data generator may and product code may not."""
    product = Database.connect(uri, name)
    db = product.client[name]
    managers = manager_docs()
    await product.managers.insert_many(managers)
    owners: List[str] = []
    timings: Dict[str, float] = {}
    started = time.perf_counter()
    for first in tqdm(range(0, customers, BATCH), desc="customers", unit_scale=BATCH):
        docs = [customer_doc(i, date(2026, 11, 30), managers) for i in range(first, min(first + BATCH, customers))]
        owners += [d["account_manager_id"] for d in docs]
        await product.customers.insert_many(docs)
    timings["customers_s"] = time.perf_counter() - started
    rng = random.Random(7)
    started = time.perf_counter()
    batch: List[Dict[str, Any]] = []
    for i in tqdm(range(tickets), desc="tickets", unit_scale=1):
        c = rng.randrange(customers)
        created = moment(rng)
        fault = rng.random() < 0.6
        due = created + timedelta(hours=4 if fault else 8)
        doc: Dict[str, Any] = {
            "_id": f"{'FT' if fault else 'CP'}-{created:%Y%m%d}-{i % 1000000:06d}", "kind": "fault" if fault else
            "complaint", "customer_id": f"KA{c:07d}", "manager_id": owners[c], "text": "专线中断" if fault else "账单有误",
            "status": "resolved", "created_at": created, "updated_at": created,
            "sla": {"response_due": created + timedelta(hours=2 if fault else 8),
                    "responded_at": created + timedelta(minutes=rng.randrange(30, 240)),
                    **({"restore_due": due, "restored_at": created + timedelta(minutes=rng.randrange(60, 600))}
                       if fault else {})},
            "resolved_at": created + timedelta(hours=6)}
        if fault:
            doc["circuit_id"] = "ZJ-2M-0000001-1"
        if rng.random() < 0.8:
            score = rng.choice([5, 5, 5, 4, 4, 3, 2, 1])
            answered = rng.random() < 0.6
            doc["survey"] = {"contact_id": f"{c:07d}-01", "sent_at": created + timedelta(hours=8),
                             "outcome": "delivered", **({"score": score, "channel": "link",
                                                         "answered_at": created + timedelta(hours=9)}
                                                        if answered else {})}
            if answered and score <= 2:
                fdue = created + timedelta(hours=57)
                doc["followup"] = {"manager_id": owners[c], "opened_at": created + timedelta(hours=9), "due": fdue,
                                   **({"done_at": fdue - timedelta(hours=rng.randrange(-10, 40))}
                                      if rng.random() < 0.9 else {})}
        batch.append(doc)
        if len(batch) == BATCH:
            await db.tickets.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await db.tickets.insert_many(batch, ordered=False)
    timings["tickets_s"] = time.perf_counter() - started
    started = time.perf_counter()
    kinds = list(CARE_KINDS) + ["sla_watch", "brief"]
    for first in tqdm(range(0, sends, BATCH), desc="sends", unit_scale=BATCH):
        docs = []
        for i in range(first, min(first + BATCH, sends)):
            c = rng.randrange(customers)
            at = moment(rng)
            status = rng.choice(STATUSES)
            docs.append({"_id": f"bench:{i}", "kind": rng.choice(kinds), "to": "+8613800138000",
                         "body": "【中国电信】尊敬的客户：祝您生日快乐。", "encoding": "UCS-2", "segments": 1, "status": status,
                         "attempts": 1, "customer_id": f"KA{c:07d}", "created_at": at, "updated_at": at,
                         "meta": {"campaign": f"bench:{at:%Y-%m-%d}", "manager_id": owners[c]},
                         **({"suppressed_reason": "opted_out"} if status == "suppressed" else {}),
                         "history": [{"status": status, "at": at}]})
        await db.sends.insert_many(docs, ordered=False)
    timings["sends_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for first in tqdm(range(0, sessions, BATCH), desc="sessions", unit_scale=BATCH):
        docs = []
        for i in range(first, min(first + BATCH, sessions)):
            c = rng.randrange(customers)
            at = moment(rng)
            known = rng.random() < 0.7
            docs.append({"_id": f"s{i}@{at.isoformat()}", "sender_id": f"s{i}", "started_at": at,
                         "manager_id": owners[c] if known else None, "escalated": rng.random() < 0.08,
                         "fallbacks": int(rng.random() < 0.1), "verifications_started": int(not known),
                         "verified": (not known) and rng.random() < 0.8})
        await db.assistant_sessions.insert_many(docs, ordered=False)
    timings["sessions_s"] = time.perf_counter() - started
    product.close()
    return {k: round(v, 1) for k, v in timings.items()}


async def measure(uri: str, name: str, repeats: int) -> Dict[str, Any]:
    db = Database.connect(uri, name)
    clock = FixedClock(NOW)
    try:
        started = time.perf_counter()
        counted = await kpis.refresh(db, clock)
        refresh_s = time.perf_counter() - started
        group = await kpis.scope_of(db, None)
        month = "2026-11"
        reads = []
        for _ in range(repeats):
            started = time.perf_counter()
            report = await kpis.report(db, clock, group, month)
            reads.append(time.perf_counter() - started)
        recounts = []
        for _ in range(max(1, repeats // 2)):
            started = time.perf_counter()
            await kpis.recount(db, clock, month)
            recounts.append(time.perf_counter() - started)
        return {"months_counted": len(counted), "refresh_12_months_s": round(refresh_s, 2),
                "group_report_s": round(statistics.median(reads), 3), "group_report_max_s": round(max(reads), 3),
                "recount_current_month_s": round(statistics.median(recounts), 2),
                "group_figures": {k: report["figures"][k] for k in ("accounts", "complaints", "complaint_rate",
                                                                     "satisfaction", "care_delivery_rate")}}
    finally:
        db.close()


def main(args: argparse.Namespace) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-kpis-") as tmp:
        mongo = EmbeddedMongo(Path(tmp) / "db", free_port(), cache_size_gb=4.0)
        uri = mongo.start()
        try:
            async def migrate() -> None:
                db = Database.connect(uri, "bench_kpis")
                await db.ensure_schema()
                db.close()
            asyncio.run(migrate())
            loaded = asyncio.run(load(uri, "bench_kpis", args.customers, args.tickets, args.sends, args.sessions))
            measured = asyncio.run(measure(uri, "bench_kpis", args.repeats))
        finally:
            mongo.destroy()
    return {"customers": args.customers, "tickets": args.tickets, "sends": args.sends, "sessions": args.sessions,
            "load": loaded, **measured}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--sends", type=int, default=5_000_000)
    parser.add_argument("--sessions", type=int, default=300_000)
    parser.add_argument("--repeats", type=int, default=6)
    out = main(parser.parse_args())
    print(f"\n{out['customers']:,} accounts, {out['tickets']:,} tickets, {out['sends']:,} messages, "
          f"{out['sessions']:,} assistant sessions (loaded: {out['load']})")
    print(f"  counting twelve months (the KPI job's first run)  {out['refresh_12_months_s']:8.2f} s")
    print(f"  recount of the current month (baseline)           {out['recount_current_month_s']:8.2f} s")
    verdict = "meets" if out["group_report_s"] <= GOAL_S else "MISSES"
    print(f"  group's figures, parts and trend (median)         {out['group_report_s']:8.3f} s   "
          f"[{verdict} <= {GOAL_S:.0f} s; max {out['group_report_max_s']} s]")
    print(f"  group figures: {out['group_figures']}")
    write_results("bench_kpis", out)
