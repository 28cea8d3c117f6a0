"""Selection at scale (``make bench-select``): whose birthday / bill day is today, indexed vs scanned.

Seeds about 1,000,000 contacts (200,000 key accounts) into a throwaway mongod,
then times the campaign selections exactly as the campaigns run them (the
repository's id selections: which accounts are due, from the customers' ``birthday``
and ``bill_day`` indexes), and the same questions asked by a forced collection scan,
for comparison. It also prints how long reading the selected profiles takes
afterwards, which the campaign does a batch at a time. The console's record gaps over every account
(``care_scheduler.record_gaps``, counted in MongoDB), with a tenth of the accounts given a gap, are
timed beside a baseline that reads every profile and finds the gaps in Python; no goal. Prints the figures and writes
``results/bench_select.json``. Goal: <= 200 ms for each selection's ids; the ratio
against the scan is printed, with no goal.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import write_results  # noqa: E402

from care_scheduler.calendar import birthdays_greeted  # noqa: E402
from care_scheduler.campaigns import bill_days_due  # noqa: E402
from care_scheduler.record_gaps import record_gaps  # noqa: E402
from carecore.repository import Database, inspection_handle  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402
from localrun.seed import seed  # noqa: E402

TODAY = date(2026, 11, 30)  # a month end: bill days 30 and 31 are both due
# The demo seed puts 4 % of birthdays on its own "today"; seeding for another day leaves TODAY with
# the natural share (about 1 in 365), as a real customer base has.
SEED_DAY = date(2026, 5, 15)


async def timed(select: Callable[[], Awaitable[List[str]]], runs: int) -> Dict[str, Any]:
    times: List[float] = []
    ids: List[str] = []
    for _ in range(runs):
        started = time.perf_counter()
        ids = await select()
        times.append((time.perf_counter() - started) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "min_ms": round(min(times), 1), "matches": len(ids),
            "ids": ids}


def birthdays(db: Database) -> Callable[[], Awaitable[List[str]]]:
    """Solar birthdays today plus lunar ones, as ``plan_birthdays`` selects them."""
    return lambda: db.customers.ids_with_birthday_in(birthdays_greeted(TODAY))


def bill_days(db: Database) -> Callable[[], Awaitable[List[str]]]:
    return lambda: db.customers.ids_with_bill_day_in(bill_days_due(TODAY))


def scanned(handle: Any, query: Dict[str, Any]) -> Callable[[], Awaitable[List[str]]]:
    """The same question by a collection scan (hint ``$natural``): the baseline the indexes are compared with."""
    def scan() -> List[str]:
        return sorted(doc["_id"] for doc in handle.customers.find(query, {"_id": 1}).hint([("$natural", 1)]))
    return lambda: asyncio.to_thread(scan)


SCAN_QUERIES = {
    "birthday_today": {"$or": [{"contacts": {"$elemMatch": {"birthday.calendar": calendar, "birthday.month": month,
                                                             "birthday.day": {"$in": list(days)}}}}
                               for calendar, month, days in birthdays_greeted(TODAY)]},
    "bill_day_today": {"billing.bill_day": {"$in": list(bill_days_due(TODAY))}},
}


async def with_profiles(db: Database, ids: List[str]) -> float:
    """What a campaign does next: read the selected profiles (not part of the selection goal)."""
    started = time.perf_counter()
    count = sum([1 async for _ in db.customers.profiles(ids)])
    assert count == len(ids)
    return round((time.perf_counter() - started) * 1000, 1)


async def gaps_in_python(db: Database) -> List[str]:
    """The record gaps' baseline: every profile's contacts read here and checked one by one."""
    active = {m.id for m in await db.managers.all() if m.active}
    found = []
    async for doc in db.customers.stream({}, projection={"contacts": 1, "account_manager_id": 1}):
        contacts = doc.get("contacts") or []
        if (not contacts or doc["account_manager_id"] not in active or any(not c.get("birthday") for c in contacts)
                or all(c.get("sms_opt_out") for c in contacts) or not any(c.get("billing_contact") for c in contacts)):
            found.append(doc["_id"])
    return found


async def main(customers: int, runs: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-select-") as tmp:
        mongo = EmbeddedMongo(Path(tmp) / "db", free_port(), cache_size_gb=2.0)
        uri = mongo.start()
        try:
            db = Database.connect(uri, "bench_select")
            await db.ensure_schema()
            started = time.perf_counter()
            report = await seed(db, customers, today=SEED_DAY, months=1, progress=True)
            seed_s = time.perf_counter() - started
            handle = inspection_handle("127.0.0.1", mongo.port, "bench_select")
            # A checkpoint now, so that the seeding's writes reach the disk before anything is timed.
            handle.client.admin.command("fsync")
            contacts = report.contacts
            results: Dict[str, Any] = {"customers": customers, "contacts": contacts, "seed_s": round(seed_s, 1),
                                       "date": TODAY.isoformat()}
            for name, make in (("birthday_today", birthdays), ("bill_day_today", bill_days)):
                indexed = await timed(make(db), runs)
                scan = await timed(scanned(handle, SCAN_QUERIES[name]), max(1, runs // 3))
                assert indexed.pop("ids") == scan.pop("ids"), "index and scan disagree"
                results[name] = {"indexed": indexed, "scan": scan,
                                 "speedup": round(scan["median_ms"] / max(indexed["median_ms"], 0.01), 1),
                                 "then_profiles_ms": await with_profiles(db, await make(db)())}

            # gaps as a CRM's data has them: a tenth of the accounts with a contact's birthday unknown, one
            # in a hundred with no billing contact (the demo data has none)
            customers_col = handle.client["bench_select"]["customers"]
            customers_col.update_many({"_id": {"$regex": "0$"}}, {"$unset": {"contacts.0.birthday": ""}})
            customers_col.update_many({"_id": {"$regex": "00$"}}, {"$set": {"contacts.$[].billing_contact": False}})

            async def gaps() -> List[str]:
                return [g.customer_id for g in await record_gaps(db, None)]

            ours, python = await timed(gaps, max(1, runs // 2)), await timed(lambda: gaps_in_python(db), max(1, runs // 2))
            assert ours.pop("ids") == python.pop("ids"), "the record gaps disagree"
            results["record_gaps"] = {"counted_in_mongodb": ours, "read_in_python": python}
            handle.client.close()
            db.close()
        finally:
            mongo.destroy()
    return results


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000, help="key accounts (about 5 contacts each)")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    out = asyncio.run(main(args.customers, args.runs))
    print(f"\n{out['contacts']:,} contacts in {out['customers']:,} accounts (seeded in {out['seed_s']} s), "
          f"selections for {out['date']}:")
    for name in ("birthday_today", "bill_day_today"):
        r = out[name]
        ok = r["indexed"]["median_ms"] <= 200
        print(f"  {name:15} indexed {r['indexed']['median_ms']:8.1f} ms   scan {r['scan']['median_ms']:8.1f} ms   "
              f"{r['speedup']:6.1f}x   {r['indexed']['matches']:,} accounts "
              f"(then reading their profiles: {r['then_profiles_ms']:.0f} ms)   "
              f"[{'meets' if ok else 'MISSES'} <=200 ms]")
    gaps = out["record_gaps"]
    print(f"  record gaps     counted in MongoDB {gaps['counted_in_mongodb']['median_ms']:.0f} ms   every profile read "
          f"in Python {gaps['read_in_python']['median_ms']:.0f} ms   {gaps['counted_in_mongodb']['matches']:,} accounts")
    write_results("bench_select", out)
