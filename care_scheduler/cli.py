"""``python -m care_scheduler``: preview, run and report care campaigns, serve them on a schedule,
import and export the operator's records, migrate the schema, set a manager's console password.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import List, Optional

from tqdm import tqdm

from care_scheduler import operations
from care_scheduler.campaigns import KINDS as CAMPAIGNS
from care_scheduler.dataio.catalog import KINDS
from care_scheduler.runner import CampaignRunner
from carecore.clock import FixedClock, SystemClock
from carecore.config import get_settings
from carecore.logging_setup import setup_logging
from carecore.passwords import WeakPassword, hash_password
from carecore.runtime import build_gateway, open_database


def _day(value: str) -> date:
    try:
        return operations.parse_day(value)
    except operations.OperationError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


async def preview(kind: str, day: date, price: Optional[float], limit: int) -> int:
    settings = get_settings()
    async with open_database(settings) as db:
        result = await operations.preview(db, settings, kind, day, price=price, limit=limit,
                                          now=SystemClock(settings.timezone).now())
    for sample in result.samples:
        state = f"SUPPRESSED ({sample['suppressed']})" if sample["suppressed"] else f"{sample['segments']} seg"
        print(f"{sample['key']}  {sample['to']}  [{sample['language']}, {state}]")
        print(f"    {sample['body']}")
        for note in sample["notes"]:
            print(f"    ! {note}")
    print(f"\n{kind} on {day}: {result.recipients} recipients, {result.to_send} to send, "
          f"{result.segments} segments, estimated cost {result.cost:.2f} at {result.price_per_segment} per segment")
    for reason, n in sorted(result.suppressed.items()):
        print(f"  suppressed ({reason}): {n}")
    if result.missing_usage:
        print(f"  no usage data (nothing sent): {result.missing_usage} customers")
    for warning in result.warnings:
        print(f"  warning: {warning}")
    return 0


async def run(kind: str, day: Optional[date], dry_run: bool, mps: Optional[float], unlimited: bool,
              now: Optional[datetime]) -> int:
    settings = get_settings()
    clock = FixedClock(now, settings.timezone) if now else SystemClock(settings.timezone)
    async with open_database(settings) as db:
        gateway = build_gateway(db, settings)
        try:
            with tqdm(desc=f"{kind} {day or clock.today()}", unit="msg", file=sys.stderr) as bar:
                runner = CampaignRunner.from_settings(db, gateway, settings, clock, mps=mps, unlimited=unlimited,
                                                      on_progress=bar.update)
                report = await runner.run(kind, day, dry_run=dry_run)
        except operations.OperationError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        finally:
            await gateway.close()
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    return 0


async def report(since: Optional[date], plot: Optional[Path]) -> int:
    settings = get_settings()
    async with open_database(settings) as db:
        by_kind = await operations.report(db, settings, since)
        days = await operations.daily(db, settings, since, SystemClock(settings.timezone).today()) if plot else {}
    print(json.dumps(by_kind, ensure_ascii=False, indent=2))
    if plot:
        from care_scheduler.charts import plot_sends_per_day  # matplotlib only when a chart is asked for

        print(f"chart: {plot_sends_per_day(days, plot)}", file=sys.stderr)
    return 0


async def set_password(manager_id: str, password: str) -> int:
    settings = get_settings()
    try:
        hashed = hash_password(password)
    except WeakPassword as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    async with open_database(settings) as db:
        if not await db.managers.set_password_hash(manager_id, hashed):
            print(f"error: no account manager {manager_id!r}", file=sys.stderr)
            return 2
    print(f"password set for {manager_id}")
    return 0


async def import_file(kind: str, path: Path, *, dry_run: bool, strict: bool, prune: bool, sheet: Optional[str],
                      errors: Optional[Path]) -> int:
    from care_scheduler.dataio.exporter import write_errors
    from care_scheduler.dataio.importer import Importer, ImportOptions
    from care_scheduler.dataio.tables import UnusableFile, format_of
    from carecore.repository.imports import ImportBusy

    settings = get_settings()
    if errors is not None:
        try:
            format_of(errors)
        except UnusableFile as exc:
            print(f"error: --errors {exc}", file=sys.stderr)
            return 2
    async with open_database(settings, migrate=True) as db:
        with tqdm(desc=f"import {kind}", unit="row", file=sys.stderr) as bar:
            importer = Importer(db, settings, SystemClock(settings.timezone), on_progress=bar.update)
            try:
                report = await importer.run(path, ImportOptions(kind, dry_run=dry_run, strict=strict, prune=prune,
                                                                sheet=sheet, actor=getpass.getuser()[:64] or "cli"))
            except ImportBusy as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
        if errors is not None and report.counts["failed"]:
            written = await write_errors(db, report.job_id, errors, format_of(errors))
            print(f"failed rows: {errors} ({written})", file=sys.stderr)
    print(report.summary())
    return report.exit_code


async def export_kind(kind: str, out: Optional[Path], chinese_headers: bool) -> int:
    from care_scheduler.dataio.exporter import export
    from care_scheduler.dataio.tables import UnusableFile

    settings = get_settings()
    async with open_database(settings) as db:
        try:
            count = await export(db, kind, out, SystemClock(settings.timezone).tz, chinese_headers=chinese_headers)
        except UnusableFile as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
    print(f"exported {count} {kind} rows" + (f" to {out}" if out else ""), file=sys.stderr)
    return 0


async def high_value() -> int:
    from care_scheduler.high_value import mark_high_value

    settings = get_settings()
    async with open_database(settings) as db:
        counts = await mark_high_value(db, settings, SystemClock(settings.timezone))
    print(json.dumps(counts))
    return 0


async def erase_contact(contact_id: str, reason: str) -> int:
    settings = get_settings()
    async with open_database(settings) as db:
        counts = await db.erase_contact(contact_id, at=SystemClock(settings.timezone).now(), source="cli",
                                        actor=getpass.getuser()[:64] or "cli", reason=reason)
    if counts is None:
        print(f"error: no contact {contact_id!r}", file=sys.stderr)
        return 2
    print(json.dumps({"contact_id": contact_id, "erased": counts}, ensure_ascii=False))
    return 0


async def migrate() -> int:
    settings = get_settings()
    async with open_database(settings, migrate=True) as db:
        print(f"schema of {db.name}: up to date ({len(await db.collection_names())} collections)")
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        first, second = getpass.getpass("new password: "), getpass.getpass("again: ")
        if first != second:
            raise SystemExit("error: the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m care_scheduler", description="Care campaigns")
    sub = parser.add_subparsers(dest="command", required=True)
    p_preview = sub.add_parser("preview", help="who gets what; nothing is sent")
    p_preview.add_argument("kind", choices=CAMPAIGNS)
    p_preview.add_argument("--date", type=_day, required=True, metavar="YYYY-MM-DD",
                           help="the day to plan for, in the business timezone")
    p_preview.add_argument("--price", type=float, default=None,
                           help="price per segment for the estimate (default SMS_PRICE_PER_SEGMENT)")
    p_preview.add_argument("--show", type=int, default=20, help="messages to print")
    p_run = sub.add_parser("run", help="send a campaign for a day (exactly once)")
    p_run.add_argument("kind", choices=CAMPAIGNS)
    p_run.add_argument("--date", type=_day, default=None, metavar="YYYY-MM-DD",
                       help="the day to send for, in the business timezone (default today)")
    p_run.add_argument("--dry-run", action="store_true")
    p_run.add_argument("--mps", type=float, default=None, help="segments per second (default CAMPAIGN_MPS)")
    p_run.add_argument("--no-rate-limit", action="store_true", help="send as fast as the provider answers")
    p_run.add_argument("--now", type=datetime.fromisoformat, default=None, help=argparse.SUPPRESS)
    p_report = sub.add_parser("report", help="counts per kind and status")
    p_report.add_argument("--since", type=_day, default=None, metavar="YYYY-MM-DD",
                          help="count sends from this day (default: all)")
    p_report.add_argument("--plot", type=Path, default=None, metavar="PNG",
                          help="also write a chart of sends per day by status")
    sub.add_parser("serve", help="run the scheduler and its HTTP service")
    p_password = sub.add_parser("set-password", help="set an account manager's console password (read from stdin)")
    p_password.add_argument("manager_id")
    sub.add_parser("migrate", help="bring the database's validators and indexes up to date, drop retired ones")
    p_erase = sub.add_parser("erase-contact", help="erase one contact everywhere, at their request (PIPL)")
    p_erase.add_argument("contact_id")
    p_erase.add_argument("--reason", required=True, help="why, for the audit log (no personal data)")
    sub.add_parser("high-value", help="set and clear the high-value flags from the last three months' billing")
    kinds = list(KINDS)
    p_import = sub.add_parser("import", help="load records of one kind from CSV, XLSX or JSON Lines (upsert by key)")
    p_import.add_argument("kind", choices=kinds)
    p_import.add_argument("file", type=Path)
    p_import.add_argument("--dry-run", action="store_true", help="check every row, write nothing")
    p_import.add_argument("--strict", action="store_true", help="write nothing if any row fails")
    p_import.add_argument("--prune", action="store_true",
                          help="contacts, circuits: remove those of the file's customers that the file leaves out")
    p_import.add_argument("--errors", type=Path, default=None, metavar="OUT.csv",
                          help="write the failed rows here, with the reason, to fix and import again")
    p_import.add_argument("--sheet", default=None, help="XLSX: the sheet to read (default: the first)")
    p_export = sub.add_parser("export", help="write one kind's records in the columns its import reads")
    p_export.add_argument("kind", choices=kinds)
    p_export.add_argument("--out", type=Path, default=None, help="FILE.csv, .xlsx or .jsonl (default: CSV to stdout)")
    p_export.add_argument("--chinese-headers", action="store_true", help="headers in Chinese (客户编号, …)")
    args = parser.parse_args(argv)
    settings = get_settings()
    setup_logging(settings.log_level)
    if args.command == "preview":
        return asyncio.run(preview(args.kind, args.date, args.price, args.show))
    if args.command == "run":
        return asyncio.run(run(args.kind, args.date, args.dry_run, args.mps, args.no_rate_limit, args.now))
    if args.command == "migrate":
        return asyncio.run(migrate())
    if args.command == "erase-contact":
        return asyncio.run(erase_contact(args.contact_id, args.reason))
    if args.command == "high-value":
        return asyncio.run(high_value())
    if args.command == "import":
        return asyncio.run(import_file(args.kind, args.file, dry_run=args.dry_run, strict=args.strict,
                                       prune=args.prune, sheet=args.sheet, errors=args.errors))
    if args.command == "export":
        return asyncio.run(export_kind(args.kind, args.out, args.chinese_headers))
    if args.command == "set-password":
        return asyncio.run(set_password(args.manager_id, _read_password()))
    if args.command == "serve":
        from care_scheduler.service import serve  # the web stack (console, charts) only when serving

        serve(settings)
        return 0
    return asyncio.run(report(args.since, args.plot))
