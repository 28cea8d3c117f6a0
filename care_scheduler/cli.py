"""``python -m care_scheduler``: preview, run and report care campaigns from the terminal.

* ``preview KIND --date D``: who gets what, the rendered text, segments, suppressions with
  reasons and a cost estimate; nothing is sent or recorded.
* ``run KIND --date D [--dry-run]``: send (exactly once per recipient and period), with a
  progress bar.
* ``report [--since D]``: counts per kind and status from the ``sends`` log.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections import Counter
from datetime import date, datetime, time
from typing import List, Optional

from tqdm import tqdm

from care_scheduler.campaigns import KINDS, UsageGaps, plans_for
from care_scheduler.planning import PlanContext
from care_scheduler.runner import CampaignRunner, SegmentRateLimiter
from carecore.clock import FixedClock, SystemClock
from carecore.config import get_settings
from carecore.logging_setup import setup_logging
from carecore.phones import mask
from carecore.runtime import build_gateway, open_database


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None


async def preview(kind: str, day: date, price: float, limit: int) -> int:
    settings = get_settings()
    async with open_database(settings) as db:
        ctx = await PlanContext.load(db, settings, day)
        gaps = UsageGaps()
        suppressed: Counter = Counter()
        count = segments = shown = 0
        async for plan in plans_for(kind, ctx, gaps):
            count += 1
            if plan.suppressed_reason:
                suppressed[plan.suppressed_reason] += 1
            else:
                segments += plan.segments
            if shown < limit:
                shown += 1
                state = f"SUPPRESSED ({plan.suppressed_reason})" if plan.suppressed_reason else f"{plan.segments} seg"
                print(f"{plan.key}  {mask(plan.to)}  [{plan.language}, {state}]")
                print(f"    {plan.body}")
                for note in plan.notes:
                    print(f"    ! {note}")
        print(f"\n{kind} on {day}: {count} recipients, {count - sum(suppressed.values())} to send, "
              f"{segments} segments, estimated cost {segments * price:.2f} at {price} per segment")
        for reason, n in sorted(suppressed.items()):
            print(f"  suppressed ({reason}): {n}")
        if gaps.customers:
            print(f"  no usage data (nothing sent): {len(gaps.customers)} customers")
    return 0


async def run(kind: str, day: Optional[date], dry_run: bool, mps: Optional[float], now: Optional[datetime]) -> int:
    settings = get_settings()
    clock = FixedClock(now, settings.timezone) if now else SystemClock(settings.timezone)
    async with open_database(settings) as db:
        gateway = build_gateway(db, settings)
        try:
            with tqdm(desc=f"{kind} {day or clock.today()}", unit="msg", file=sys.stderr) as bar:
                runner = CampaignRunner(db, gateway, settings, clock,
                                        limiter=SegmentRateLimiter(mps) if mps else None,
                                        on_progress=bar.update)
                report = await runner.run(kind, day, dry_run=dry_run)
        finally:
            await gateway.close()
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0


async def report(since: Optional[date]) -> int:
    settings = get_settings()
    async with open_database(settings) as db:
        start = datetime.combine(since, time(0), tzinfo=SystemClock(settings.timezone).tz) if since else None
        counts = await db.sends.count_by_status(since=start)
    by_kind: dict = {}
    for (kind, status), n in sorted(counts.items()):
        by_kind.setdefault(kind, {})[status] = n
    print(json.dumps(by_kind, ensure_ascii=False, indent=2))
    return 0


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m care_scheduler", description="Care campaigns")
    sub = parser.add_subparsers(dest="command", required=True)
    p_preview = sub.add_parser("preview", help="who gets what; nothing is sent")
    p_preview.add_argument("kind", choices=KINDS)
    p_preview.add_argument("--date", type=_day, required=True)
    p_preview.add_argument("--price", type=float, default=0.05, help="price per segment for the estimate")
    p_preview.add_argument("--show", type=int, default=20, help="messages to print")
    p_run = sub.add_parser("run", help="send a campaign for a day (exactly once)")
    p_run.add_argument("kind", choices=KINDS)
    p_run.add_argument("--date", type=_day, default=None)
    p_run.add_argument("--dry-run", action="store_true")
    p_run.add_argument("--mps", type=float, default=None, help="segments per second")
    p_run.add_argument("--now", type=datetime.fromisoformat, default=None, help=argparse.SUPPRESS)
    p_report = sub.add_parser("report", help="counts per kind and status")
    p_report.add_argument("--since", type=_day, default=None)
    args = parser.parse_args(argv)
    setup_logging(get_settings().log_level)
    if args.command == "preview":
        return asyncio.run(preview(args.kind, args.date, args.price, args.show))
    if args.command == "run":
        return asyncio.run(run(args.kind, args.date, args.dry_run, args.mps, args.now))
    return asyncio.run(report(args.since))
