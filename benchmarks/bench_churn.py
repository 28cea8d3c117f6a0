"""The churn watch, the arrears list and the visit plan at scale (``make bench-churn``): group and province
scope over a year of bills.

Writes twelve months of usage records for 200,000 key accounts (5 % of them billed half as much
in the last three months; 4 % owing on September or October) into a throwaway mongod, then times
``care_scheduler.churn.churn_watch`` and ``care_scheduler.arrears.arrears_watch`` as the console's
pages call them: for group level (every account) and for one province (an eighth of them). The
churn baseline in the same run asks the same question in two passes, one aggregation per three
months, as the high-value job reads its one period; the arrears baseline finds the owing months by
comparing paid with billed in every record, without the derived ``owed_fen`` and its partial index.
The visit plan (``care_scheduler.visits.visits_due``) is timed over the same accounts, two thirds
of them with a visit on record in the last 100 days; it has no baseline. Prints the figures and
writes ``results/bench_churn.json``; no goal.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Dict, List, Optional
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import write_results  # noqa: E402

from care_scheduler.arrears import arrears_watch  # noqa: E402
from care_scheduler.churn import churn_watch, months_compared  # noqa: E402
from care_scheduler.visits import visits_due  # noqa: E402
from carecore.config import Settings  # noqa: E402
from carecore.months import after_bill_day  # noqa: E402
from carecore.repository import Database  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402

TODAY = date(2026, 12, 4)
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTHS = ["2025-12"] + [f"2026-{m:02d}" for m in range(1, 12)]


async def write_bills(db: Database, customers: int) -> None:
    """Raw inserts (the importer's checks are not what is timed here), as the importer would store them."""
    usage, accounts = db.client[db.name]["usage_monthly"], db.client[db.name]["customers"]
    rnd, now, batch = random.Random(1), datetime(2026, 12, 1, tzinfo=timezone.utc), []
    for i in range(customers):
        base, falling, owing = rnd.randint(500_000, 8_000_000), rnd.random() < 0.05, rnd.random() < 0.04
        for k, month in enumerate(MONTHS):
            amount = int(base * (0.5 if falling and k >= 9 else rnd.uniform(0.9, 1.1)))
            paid = amount // 3 if owing and month in ("2026-09", "2026-10") else amount
            batch.append({"_id": f"KA{i:07d}:{month}", "customer_id": f"KA{i:07d}", "month": month,
                          "voice_minutes": 0, "data_mb": 0, "sms_count": 0, "amount_fen": amount,
                          "paid_fen": paid, "owed_fen": amount - paid, "created_at": now, "updated_at": now})
        if len(batch) >= 12_000:
            await usage.insert_many(batch, ordered=False)
            batch = []
    if batch:
        await usage.insert_many(batch, ordered=False)
    # only what the arrears list and the visit plan read of a customer (a whole profile is not what is timed);
    # a province is every eighth account, as for the churn watch, under one manager
    await accounts.insert_many([{"_id": f"KA{i:07d}", "company_name": f"公司{i}", "account_manager_id": f"AM-{i % 8}",
                                 "customer_class": ("important", None, "group")[i % 3], "high_value": i % 5 == 0,
                                 "created_at": datetime(2025, 1, 1, tzinfo=timezone.utc),
                                 "billing": {"bill_day": 1 + i % 28}} for i in range(customers)],
                               ordered=False, bypass_document_validation=True)
    await db.client[db.name]["visits"].insert_many(
        [{"_id": f"VS-20261201-{i:06d}", "customer_id": f"KA{i:07d}", "manager_id": f"AM-{i % 8}",
          "visited_on": (TODAY - timedelta(days=i % 100)).isoformat(), "notes": "季度走访", "created_at": now}
         for i in range(customers) if i % 3], ordered=False)


async def arrears_by_scan(db: Database, customer_ids: Optional[List[str]]) -> int:
    """The arrears baseline: owing months found by comparing each record's paid and billed amounts."""
    query: Dict[str, Any] = {"month": {"$lte": "2026-11"}, "$expr": {"$lt": ["$paid_fen", "$amount_fen"]}}
    if customer_ids is not None:
        query["customer_id"] = {"$in": customer_ids}
    owed = [doc async for doc in db.client[db.name]["usage_monthly"].find(query, {"customer_id": 1, "month": 1})]
    bill_days = await db.customers.bill_days(doc["customer_id"] for doc in owed)
    return len({doc["customer_id"] for doc in owed
                if TODAY > after_bill_day(doc["month"], bill_days[doc["customer_id"]], 20)})


async def two_passes(db: Database, customer_ids: Optional[List[str]]) -> int:
    """The baseline: each period's averages read by an aggregation of their own, as for the high-value flag."""
    months = await months_compared(db, TODAY)
    before, now = [await db.usage.average_amounts([period], customer_ids) for period in (months[3:], months[:3])]
    return sum(1 for c, (fen,) in before.items() if fen > 0 and now.get(c, (0,))[0] * 100 <= fen * 70)


async def timed(make: Any, runs: int) -> Dict[str, Any]:
    times, found = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        found = await make()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1), "found": found}


async def main(customers: int, runs: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-churn-") as tmp:
        mongo = EmbeddedMongo(Path(tmp) / "db", free_port(), cache_size_gb=2.0)
        uri = mongo.start()
        try:
            db = Database.connect(uri, "bench_churn")
            await db.ensure_schema()
            await write_bills(db, customers)
            await db.client.admin.command("fsync")
            results: Dict[str, Any] = {"customers": customers, "usage_records": customers * len(MONTHS),
                                       "date": TODAY.isoformat()}
            province = [f"KA{i:07d}" for i in range(0, customers, 8)]
            for scope, ids, managers in (("group", None, None), ("province", province, ["AM-0"])):
                async def ours(ids: Optional[List[str]] = ids) -> int:
                    return len((await churn_watch(db, 30, TODAY, ids)).drops)

                async def baseline(ids: Optional[List[str]] = ids) -> int:
                    return await two_passes(db, ids)

                async def arrears(ids: Optional[List[str]] = ids) -> int:
                    return len(await arrears_watch(db, 20, TODAY, ids))

                async def scan(ids: Optional[List[str]] = ids) -> int:
                    return await arrears_by_scan(db, ids)

                async def plan(managers: Optional[List[str]] = managers) -> int:
                    return len(await visits_due(db, Settings().visit_every_days, TODAY, SHANGHAI, managers))

                results[scope] = {"accounts": customers if ids is None else len(ids),
                                  "ours": await timed(ours, runs), "baseline": await timed(baseline, runs),
                                  "arrears": await timed(arrears, runs), "arrears_scan": await timed(scan, runs),
                                  "visits_due": await timed(plan, runs)}
                assert results[scope]["ours"]["found"] == results[scope]["baseline"]["found"], "they disagree"
                assert results[scope]["arrears"]["found"] == results[scope]["arrears_scan"]["found"], "they disagree"
            db.close()
        finally:
            mongo.destroy()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    out = asyncio.run(main(args.customers, args.runs))
    print(f"\nchurn watch over {out['usage_records']:,} usage records ({out['customers']:,} accounts), {out['date']}:")
    for scope in ("group", "province"):
        r = out[scope]
        print(f"  {scope:9} {r['accounts']:>8,} accounts: {r['ours']['median_ms']:7.0f} ms (median of "
              f"{args.runs}; baseline, two passes: {r['baseline']['median_ms']:.0f} ms); "
              f"{r['ours']['found']:,} at risk")
        print(f"  {'':9} arrears: {r['arrears']['median_ms']:7.0f} ms (baseline, comparing every record: "
              f"{r['arrears_scan']['median_ms']:.0f} ms); {r['arrears']['found']:,} accounts in arrears")
        print(f"  {'':9} visit plan: {r['visits_due']['median_ms']:7.0f} ms; {r['visits_due']['found']:,} accounts "
              "due for a visit")
    write_results("bench_churn", out)
