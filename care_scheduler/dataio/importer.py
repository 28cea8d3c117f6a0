"""Loading a file of one kind: every row checked, upserted by its key, and reported on.

Rows are read as a stream and applied a batch at a time; a batch ends where a document ends, since
a CRM export keeps one customer's rows together, and each document is written once per batch. A
row that fails writes nothing and is reported with its number, its column and the reason. The job
(its lock, progress and report) and its failed rows are kept in MongoDB.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Set, Tuple

from care_scheduler.dataio.catalog import kind_named, map_headers, parse_row
from care_scheduler.dataio.kinds import Applied, Context, Doc, Kind, RowError
from care_scheduler.dataio.nested import _Nested
from care_scheduler.dataio.tables import Table, UnusableFile, open_table
from carecore.clock import Clock
from carecore.config import Settings
from carecore.model import IMPORT_COUNTS, ChangeSource, ImportStatus
from carecore.phones import InvalidPhoneNumber, to_e164
from carecore.repository import Database
from carecore.repository.records import Change, RecordStore

log = logging.getLogger(__name__)

BATCH_ROWS = 1000
STALE_AFTER = timedelta(minutes=5)  # a running job without a heartbeat this long is taken over
WRITE_ATTEMPTS = 5


@dataclass
class ImportOptions:
    kind: str
    dry_run: bool = False
    strict: bool = False
    prune: bool = False
    sheet: Optional[str] = None
    source: ChangeSource = ChangeSource.cli
    actor: str = "cli"
    file_name: Optional[str] = None  # as the operator named it (the API stores the body under another name)


@dataclass
class ImportReport:
    job_id: str
    kind: str
    dry_run: bool
    counts: Counter = field(default_factory=Counter)
    error: Optional[str] = None  # the file was unusable: nothing was read
    written: bool = True  # False when --strict found failures (or a dry run): nothing was written

    @property
    def exit_code(self) -> int:
        return 2 if self.error else (1 if self.counts["failed"] else 0)

    def summary(self) -> str:
        if self.error:
            return f"{self.job_id}: {self.kind}: not imported: {self.error}"
        c = self.counts
        parts = [f"{c['rows']} rows", f"{c['created']} created", f"{c['updated']} updated",
                 f"{c['unchanged']} unchanged", f"{c['failed']} failed"]
        if c["pruned"]:
            parts.append(f"{c['pruned']} pruned")
        if c["opt_out_kept"]:
            parts.append(f"{c['opt_out_kept']} opt-outs kept")
        tail = " (dry run: nothing written)" if self.dry_run else ("" if self.written else " (nothing written)")
        return f"{self.job_id}: {self.kind}: " + ", ".join(parts) + tail

    def as_dict(self) -> Dict[str, Any]:
        return {"job_id": self.job_id, "kind": self.kind, "dry_run": self.dry_run, "written": self.written,
                "counts": {k: self.counts[k] for k in (*IMPORT_COUNTS, "opt_out_kept")}, "error": self.error}


@dataclass
class _Row:
    number: int
    values: Doc
    cells: Dict[str, str]
    doc_id: str


class Importer:
    def __init__(self, db: Database, settings: Settings, clock: Clock, *,
                 on_progress: Optional[Callable[[int], object]] = None, batch_rows: int = BATCH_ROWS) -> None:
        self.db, self.settings, self.clock = db, settings, clock
        self.on_progress = on_progress
        self.batch_rows = batch_rows

    async def run(self, path: Path, options: ImportOptions) -> ImportReport:
        """Import one file; the report says what happened, and ``exit_code`` what the CLI returns."""
        return await self.carry_out(await self.begin(path, options), path, options)

    async def begin(self, path: Path, options: ImportOptions) -> str:
        """Record the job and take its kind's lock (``ImportBusy`` if taken); returns the job id."""
        now = self.clock.now()
        job_id = await self.db.import_jobs.next_id(now.date())
        await self.db.import_jobs.start({
            "_id": job_id, "kind": options.kind, "source": options.source, "actor": options.actor,
            "file_name": (options.file_name or path.name)[:200], "dry_run": options.dry_run,
            "strict": options.strict, "prune": options.prune, "owner": f"{socket.gethostname()}:{os.getpid()}",
            "started_at": now, "heartbeat_at": now}, stale_after=STALE_AFTER)
        return job_id

    async def carry_out(self, job_id: str, path: Path, options: ImportOptions) -> ImportReport:
        """Read and apply the file of a begun job, then record how it ended."""
        report = ImportReport(job_id, options.kind, options.dry_run, written=not options.dry_run)
        try:
            await self._import(path, options, report)
        except UnusableFile as exc:
            report.error, report.written = str(exc), False
            await self.db.import_jobs.finish(job_id, ImportStatus.failed, {}, self.clock.now(), report.error)
            return report
        except BaseException as exc:
            await self.db.import_jobs.finish(job_id, ImportStatus.failed, _counts(report), self.clock.now(),
                                             f"stopped: {exc!r}")
            raise
        await self.db.import_jobs.finish(job_id, ImportStatus.done, _counts(report), self.clock.now())
        return report

    async def _import(self, path: Path, options: ImportOptions, report: ImportReport) -> None:
        kind = kind_named(options.kind)
        if options.prune and not isinstance(kind, _Nested):
            raise UnusableFile("--prune applies to contacts and circuits")
        ctx = Context(self.clock.now(), self.clock.tz, self.settings.bill_delivery_days,
                      manager_ids=await self._manager_ids(kind, path, options))
        if options.strict and not options.dry_run:
            await self._pass(kind, path, options, ctx, report, write=False)
            if report.counts["failed"]:
                report.written = False
                return
            report.counts.clear()
        await self._pass(kind, path, options, ctx, report, write=not options.dry_run)
        if report.written:
            await self.db.audit.record([{
                "at": self.clock.now(), "source": options.source, "actor": options.actor, "entity": "import_job",
                "entity_id": report.job_id, "action": "imported", "job_id": report.job_id,
                "note": f"{options.kind} from {(options.file_name or path.name)[:200]}", "counts": _counts(report)}])

    async def _manager_ids(self, kind: Kind, path: Path, options: ImportOptions) -> Set[str]:
        """Managers that exist, and for a managers file those it brings (a supervisor may come after)."""
        if not kind.needs_managers:
            return set()
        ids = {doc["_id"] async for doc in self.db.records("account_managers").stream()}
        if kind.name == "managers":
            table = open_table(path, sheet=options.sheet)
            try:
                mapping = map_headers(kind, table.headers)
                column = mapping.index("manager_id")
                ids.update(cells[column].strip() for _, cells, _ in table.rows if cells and column < len(cells))
            finally:
                table.close()
        return ids

    async def _pass(self, kind: Kind, path: Path, options: ImportOptions, ctx: Context, report: ImportReport,
                    *, write: bool) -> None:
        table: Table = open_table(path, sheet=options.sheet)
        try:
            await self.db.import_jobs.set_headers(report.job_id, table.headers)
            mapping = map_headers(kind, table.headers)
            pass_ = _Pass(self, kind, options, ctx, report, write, table.headers)
            batch: List[_Row] = []
            for number, cells, problem in table.rows:
                report.counts["rows"] += 1
                row = pass_.read(number, cells, problem, mapping)
                if row is None:
                    continue
                if len(batch) >= self.batch_rows and row.doc_id != batch[-1].doc_id:
                    await pass_.flush(batch)
                    batch = []
                batch.append(row)
            await pass_.flush(batch)
            if options.prune:
                await pass_.prune()
        finally:
            table.close()


def _holds(values: Doc, value: Any) -> bool:
    """Whether a row gave this unique value (a mobile in any written form): the row a refusal is about."""
    for given in values.values():
        if given == value:
            return True
        if isinstance(given, str) and isinstance(value, str) and value.startswith("+"):
            try:
                if to_e164(given, mobile_only=False) == value:
                    return True
            except InvalidPhoneNumber:
                continue
    return False


def _counts(report: ImportReport) -> Dict[str, int]:
    return {k: report.counts[k] for k in (*IMPORT_COUNTS, "opt_out_kept")}


class _Pass:
    """One reading of the file: with ``write`` off it checks everything and changes nothing."""

    def __init__(self, importer: Importer, kind: Kind, options: ImportOptions, ctx: Context,
                 report: ImportReport, write: bool, headers: Sequence[str]) -> None:
        self.importer, self.db, self.kind, self.options = importer, importer.db, kind, options
        self.ctx, self.report, self.write, self.headers = ctx, report, write, list(headers)
        self.store: RecordStore = self.db.records(kind.target)
        self.seen: Set[bytes] = set()  # record keys read so far, hashed: a million keys in a few dozen MB
        self.kept: Dict[str, Set[str]] = {}  # --prune: each customer's records named in the file
        self.errors: List[Dict[str, Any]] = []

    def read(self, number: int, cells: Optional[List[str]], problem: Optional[str],
             mapping: Sequence[Optional[str]]) -> Optional[_Row]:
        raw = dict(zip(self.headers, cells or [], strict=False))  # a short row: the cells it has
        if problem is not None:
            self.fail(number, "row", problem, raw)
            return None
        try:
            values = parse_row(self.kind, mapping, cells or [])
        except RowError as exc:
            self.fail(number, exc.column, exc.reason, raw)
            return None
        key = self.kind.record_key(values) if not isinstance(self.kind, _Nested) else \
            f"{values['customer_id']}:{self.kind.record_key(values)}"
        digest = hashlib.blake2b(key.encode(), digest_size=8).digest()
        if digest in self.seen:
            self.fail(number, self.kind.key[-1], f"{key} appears earlier in this file", raw)
            return None
        self.seen.add(digest)
        if self.options.prune:
            self.kept.setdefault(values["customer_id"], set()).add(self.kind.record_key(values))
        return _Row(number, values, raw, self.kind.doc_id(values))

    def fail(self, number: int, column: str, reason: str, cells: Dict[str, str]) -> None:
        self.report.counts["failed"] += 1
        self.errors.append({"job_id": self.report.job_id, "row": number, "column": column, "reason": reason[:1000],
                            "cells": {k: str(c)[:500] for k, c in cells.items()}, "created_at": self.ctx.now})

    async def flush(self, batch: List[_Row]) -> None:
        if batch:
            await self._apply_batch(batch)
        if self.errors:
            await self.db.import_errors.add(self.errors)
            self.errors = []
        if self.importer.on_progress is not None:
            self.importer.on_progress(len(batch))
        await self.db.import_jobs.progress(self.report.job_id, _counts(self.report), self.importer.clock.now())
        await asyncio.sleep(0)  # in the care service, other requests get their turn between batches

    async def _apply_batch(self, batch: List[_Row]) -> None:
        ids = {row.doc_id for row in batch}
        docs = await self.store.fetch(ids)
        customers: Optional[Set[str]] = None
        if self.kind.needs_customer and self.kind.target != "customers":
            customers = await self.db.records("customers").existing(row.values["customer_id"] for row in batch)
        refused: Dict[int, Tuple[str, str]] = {}  # row number -> (column, reason), found when writing
        for _ in range(WRITE_ATTEMPTS):
            work: Dict[str, Doc] = {}
            results: List[Tuple[_Row, Optional[Applied], Optional[RowError]]] = []
            for row in batch:
                if row.number in refused:
                    results.append((row, None, RowError(*refused[row.number])))
                    continue
                if customers is not None and row.values["customer_id"] not in customers:
                    results.append((row, None, RowError("customer_id", f"no customer {row.values['customer_id']!r}")))
                    continue
                current = work[row.doc_id] if row.doc_id in work else docs.get(row.doc_id)
                try:
                    new_doc, applied = self.kind.apply(current, row.values, self.ctx)
                except RowError as exc:
                    results.append((row, None, exc))
                    continue
                work[row.doc_id] = new_doc
                results.append((row, applied, None))
            changes, audit = self._changes(docs, work, results)
            if not self.write:
                break
            outcome = await self.store.write(changes, audit)
            if outcome.ok:
                break
            if outcome.stale:  # read again what changed meanwhile, and apply the rows to that
                fresh = await self.store.fetch(outcome.stale)
                for doc_id in outcome.stale:
                    if doc_id in fresh:
                        docs[doc_id] = fresh[doc_id]
                    else:
                        docs.pop(doc_id, None)
                continue
            doc_id, reason, value = self._refusal(outcome)
            rows = [r for r, applied, err in results if r.doc_id == doc_id and err is None]
            culprits = [r for r in rows if value is not None and _holds(r.values, value)] or rows
            for r in culprits:
                refused[r.number] = reason
        else:
            for row, _, err in results:
                if err is None:
                    refused[row.number] = ("row", "changed by someone else throughout the import; import it again")
            results = [(r, None, RowError(*refused[r.number])) if r.number in refused else (r, a, e)
                       for r, a, e in results]
        self._count(results)

    def _refusal(self, outcome: Any) -> Tuple[str, Tuple[str, str], Optional[str]]:
        if outcome.duplicate is not None:
            doc_id, key = outcome.duplicate
            field_name, value = next(iter(key.items()), ("record", None))
            column = field_name.rsplit(".", 1)[-1]
            return doc_id, (column, f"{value} already belongs to another record"), value
        doc_id, message = outcome.invalid
        return doc_id, ("row", message), None

    def _changes(self, docs: Dict[str, Doc], work: Dict[str, Doc],
                 results: List[Tuple[_Row, Optional[Applied], Optional[RowError]]]) -> Tuple[List[Change], List[Any]]:
        touched: Dict[str, bool] = {}
        audit: List[Dict[str, Any]] = []
        for row, applied, _ in results:
            if applied is None:
                continue
            if applied.action != "unchanged":
                touched[row.doc_id] = True
            if applied.action == "updated":
                audit.append(self._entry(row.values.get("customer_id"), applied.entity_id, "updated", applied.changes))
        now = self.ctx.now
        changes = []
        for doc_id in touched:
            after = work[doc_id]
            if self.kind.target == "customers":
                after["updated_at"] = now
                after.setdefault("created_at", now)
            changes.append(Change(doc_id, docs.get(doc_id), after))
        return changes, audit

    def _entry(self, customer_id: Optional[str], entity_id: str, action: str,
               changes: Dict[str, List[Any]]) -> Dict[str, Any]:
        return self.kind.audit_entry(at=self.ctx.now, source=self.options.source, actor=self.options.actor,
                                     customer_id=customer_id, entity_id=entity_id, action=action, changes=changes,
                                     job_id=self.report.job_id)

    def _count(self, results: List[Tuple[_Row, Optional[Applied], Optional[RowError]]]) -> None:
        for row, applied, err in results:
            if err is not None:
                self.fail(row.number, err.column, err.reason, row.cells)
            elif applied is not None:
                self.report.counts[applied.action] += 1
                if applied.note:
                    self.report.counts[applied.note] += 1

    async def prune(self) -> None:
        """Remove the records of the file's customers that the file no longer names (history stays)."""
        kind = self.kind
        assert isinstance(kind, _Nested)
        customer_ids = sorted(self.kept)
        for start in range(0, len(customer_ids), self.importer.batch_rows):
            chunk = customer_ids[start:start + self.importer.batch_rows]
            for _ in range(WRITE_ATTEMPTS):
                docs = await self.store.fetch(chunk)
                changes, audit, removed = [], [], 0
                for doc_id, doc in docs.items():
                    items = doc.get(kind.nested) or []
                    keep = [i for i in items if i.get(kind.item_key) in self.kept[doc_id]]
                    if len(keep) == len(items):
                        continue
                    for gone in items:
                        if gone.get(kind.item_key) not in self.kept[doc_id]:
                            removed += 1
                            audit.append(self._entry(doc_id, gone[kind.item_key], "removed",
                                                     {k: [val, None] for k, val in gone.items()}))
                    changes.append(Change(doc_id, doc, {**doc, kind.nested: keep, "updated_at": self.ctx.now}))
                if not self.write or (await self.store.write(changes, audit)).ok:
                    self.report.counts["pruned"] += removed
                    break
