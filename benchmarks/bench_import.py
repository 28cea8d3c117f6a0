"""Loading an operator's data at scale (``make bench-import``): the CLI importing CSV files as a CRM and billing
export them.

Writes the demo data for ``--customers`` accounts as import files (200,000 accounts: about 1,000,000
contacts, 400,000 circuits and 2,400,000 usage months), then runs ``python -m care_scheduler import``
for each kind into a throwaway mongod, twice: a first load, and the same unchanged files again.
Prints rows per second per kind, the totals and the imports' peak RSS, and writes
``results/bench_import.json``. Goals: the first load within 10 minutes, the re-import within half
of it, peak RSS <= 500 MB.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any, Dict, List

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from harness import run_campaign, write_results  # noqa: E402

from carecore.repository import Database  # noqa: E402
from localrun.mongod import EmbeddedMongo, free_port  # noqa: E402
from localrun.seed import write_files  # noqa: E402

KINDS = ("managers", "customers", "contacts", "circuits", "usage")  # the goal's four, after their managers
SEED_DAY = date(2026, 11, 30)
GOAL_S, GOAL_RSS_MB = 600.0, 500.0


def import_kind(kind: str, path: Path, env: Dict[str, str]) -> Dict[str, Any]:
    """One ``import`` command to its end: wall time, rows per second, and its own peak RSS (``VmHWM``)."""
    run = run_campaign(env, [sys.executable, "-m", "care_scheduler", "import", kind, str(path)])
    summary = next((line for line in reversed(run.output.splitlines()) if " rows, " in line), "")
    if run.returncode != 0:
        raise SystemExit(f"import {kind} failed ({run.returncode}): {run.output[-2000:]}")
    rows = int(re.search(r"(\d+) rows", summary).group(1))  # type: ignore[union-attr]
    return {"kind": kind, "rows": rows, "seconds": round(run.elapsed_s, 1), "rows_per_s": round(rows / run.elapsed_s),
            "peak_rss_mb": round(run.peak_rss_mb), "summary": summary}


def main(customers: int) -> Dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths = write_files(folder, customers, today=SEED_DAY)
        files_s = time.perf_counter() - started
        mongo = EmbeddedMongo(folder / "db", free_port(), cache_size_gb=2.0)
        uri = mongo.start()
        try:
            import asyncio

            async def migrate() -> None:
                db = Database.connect(uri, "bench_import")
                await db.ensure_schema()
                db.close()
            asyncio.run(migrate())
            env = {**os.environ, "MONGODB_URI": uri, "MONGODB_DB": "bench_import", "LOG_LEVEL": "WARNING",
                   "PYTHONPATH": str(ROOT)}
            rounds: List[List[Dict[str, Any]]] = []
            for label in ("first load", "unchanged again"):
                results = []
                for kind in KINDS:
                    result = import_kind(kind, paths[kind], env)
                    print(f"  {label:16} {kind:10} {result['rows']:>10,} rows {result['seconds']:>8.1f} s "
                          f"{result['rows_per_s']:>8,} rows/s   peak RSS {result['peak_rss_mb']} MB", flush=True)
                    results.append(result)
                rounds.append(results)
        finally:
            mongo.destroy()
    first, again = (sum(r["seconds"] for r in results) for results in rounds)
    peak_rss_mb = max(r["peak_rss_mb"] for results in rounds for r in results)
    return {"customers": customers, "files_s": round(files_s, 1), "first_load": rounds[0], "reimport": rounds[1],
            "first_load_s": round(first, 1), "reimport_s": round(again, 1), "peak_rss_mb": round(peak_rss_mb)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200_000, help="key accounts (about 5 contacts each)")
    args = parser.parse_args()
    out = main(args.customers)
    print(f"\n{args.customers:,} accounts, files written in {out['files_s']} s")
    print(f"  first load      {out['first_load_s']:8.1f} s   [{'meets' if out['first_load_s'] <= GOAL_S else 'MISSES'}"
          f" <= {GOAL_S:.0f} s]")
    half = out["first_load_s"] / 2
    print(f"  unchanged again {out['reimport_s']:8.1f} s   [{'meets' if out['reimport_s'] <= half else 'MISSES'}"
          f" <= half the first load, {half:.0f} s]")
    print(f"  peak RSS of an import {out['peak_rss_mb']:.0f} MB   "
          f"[{'meets' if out['peak_rss_mb'] <= GOAL_RSS_MB else 'MISSES'} <= {GOAL_RSS_MB:.0f} MB]")
    write_results("bench_import", out)
