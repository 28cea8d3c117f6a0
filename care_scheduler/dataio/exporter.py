"""Writing one kind's records in the columns its import reads, so that export then import changes nothing."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, List, Optional, Sequence
from zoneinfo import ZoneInfo

from care_scheduler.dataio.catalog import kind_named
from care_scheduler.dataio.tables import TableWriter, format_of
from carecore.model import ImportRowError
from carecore.repository import Database

ERROR_COLUMNS = ("error_row", "error_column", "error_reason")


async def export(db: Database, kind_name: str, out: Optional[Path], tz: ZoneInfo, *, chinese_headers: bool = False,
                 stream: IO[str] = sys.stdout) -> int:
    """Every record of the kind, in id order; CSV to ``stream`` when no file is named. Returns the row count."""
    kind = kind_named(kind_name)
    headers = [c.zh if chinese_headers else c.name for c in kind.columns]
    with TableWriter(out if out is not None else stream, format_of(out) if out else "csv", headers) as writer:
        async for doc in db.records(kind.target).stream():
            for row in kind.export_rows(doc, tz):
                writer.write_row(row)
    return writer.count


def error_row(headers: Sequence[str], error: ImportRowError) -> List[str]:
    """A failed row as it was, then where and why it failed: fixed, the file imports again."""
    return [error.cells.get(h, "") for h in headers] + [str(error.row), error.column, error.reason]


async def write_errors(db: Database, job_id: str, out: Path | IO[str], fmt: str = "csv") -> int:
    """A job's failed rows, under the file's own headers and ``ERROR_COLUMNS``."""
    job = await db.import_jobs.get(job_id)
    headers = job.headers if job else []
    with TableWriter(out, fmt, [*headers, *ERROR_COLUMNS]) as writer:
        async for error in db.import_errors.for_job(job_id):
            writer.write_row(error_row(headers, error))
    return writer.count
