"""The admin API's imports: a CRM or billing system posts a file, then polls the job it gets back.

The body is streamed to a file under ``VAR_DIR/imports`` up to ``IMPORT_MAX_BYTES`` and imported in
the service's own loop, a batch at a time, so other requests are served in between. The job, its
lock and its failed rows are in MongoDB: any care service behind the balancer can report on it.
"""

from __future__ import annotations

import asyncio
import io
import logging
import secrets
from pathlib import Path
from typing import Any, Dict, Set

from aiohttp import web

from care_scheduler.app_keys import CLOCK, DB, SETTINGS
from care_scheduler.dataio.catalog import KINDS
from care_scheduler.dataio.exporter import ERROR_COLUMNS, error_row
from care_scheduler.dataio.importer import Importer, ImportOptions
from care_scheduler.dataio.tables import TableWriter
from care_scheduler.operations import answer, takes_query
from carecore.model import ChangeSource
from carecore.repository.imports import ImportBusy

log = logging.getLogger(__name__)

CONTENT_TYPES = {
    "text/csv": "csv", "application/csv": "csv",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/x-ndjson": "jsonl", "application/jsonl": "jsonl", "application/x-jsonlines": "jsonl",
}
CHUNK = 256 * 1024


TASKS = web.AppKey("import_tasks", set)


def _flag(request: web.Request, name: str) -> bool:
    value = request.query.get(name, "false").lower()
    if value not in ("true", "false", "1", "0"):
        raise web.HTTPBadRequest(text=f'{{"error": "{name} must be true or false"}}', content_type="application/json")
    return value in ("true", "1")


@takes_query("dry_run", "strict", "prune")
async def post_import(request: web.Request) -> web.Response:
    app = request.app
    kind = request.match_info["kind"]
    if kind not in KINDS:
        return web.json_response({"error": f"unknown kind; one of {', '.join(KINDS)}"}, status=404)
    fmt = CONTENT_TYPES.get(request.content_type)
    if fmt is None:
        return web.json_response({"error": "send text/csv, an XLSX workbook or application/x-ndjson"}, status=415)
    settings = app[SETTINGS]
    limit = settings.import_max_bytes
    if request.content_length is not None and request.content_length > limit:
        return web.json_response({"error": f"the file is over {limit} bytes"}, status=413)
    options = ImportOptions(kind, dry_run=_flag(request, "dry_run"), strict=_flag(request, "strict"),
                            prune=_flag(request, "prune"), source=ChangeSource.api, actor="api",
                            file_name=(request.headers.get("X-File-Name") or f"upload.{fmt}")[:200])
    folder = settings.var_dir / "imports"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(8)}.{fmt}"
    try:
        if not await _save(request, path, limit):
            return web.json_response({"error": f"the file is over {limit} bytes"}, status=413)
        importer = Importer(app[DB], settings, app[CLOCK])
        job_id = await importer.begin(path, options)
    except ImportBusy as exc:
        _discard(path)
        return web.json_response({"error": str(exc), "job_id": exc.job.id if exc.job else None}, status=409)
    except BaseException:
        _discard(path)
        raise
    task = asyncio.create_task(_carry_out(importer, job_id, path, options))
    app[TASKS].add(task)
    task.add_done_callback(app[TASKS].discard)
    return web.json_response({"job_id": job_id, "status": "running", "status_url": f"/admin/import/jobs/{job_id}",
                              "errors_url": f"/admin/import/jobs/{job_id}/errors.csv"}, status=202)


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _save(request: web.Request, path: Path, limit: int) -> bool:
    """The body streamed to ``path``; False (and nothing kept) once it passes ``limit``."""
    size = 0
    with path.open("wb") as fh:
        while chunk := await request.content.read(CHUNK):
            size += len(chunk)
            if size > limit:
                break
            fh.write(chunk)
    if size > limit:
        _discard(path)
        return False
    return True


async def _carry_out(importer: Importer, job_id: str, path: Path, options: ImportOptions) -> None:
    try:
        report = await importer.carry_out(job_id, path, options)
        log.info("import %s", report.summary())
    except Exception:
        log.exception("import %s stopped", job_id)
    finally:
        _discard(path)


async def get_job(request: web.Request) -> web.Response:
    job = await request.app[DB].import_jobs.get(request.match_info["job_id"])
    if job is None:
        return web.json_response({"error": "no such import job"}, status=404)
    body: Dict[str, Any] = job.dict(exclude={"headers"})
    body["id"] = job.id
    return answer(body, request.app[CLOCK].tz)


async def get_errors(request: web.Request) -> web.StreamResponse:
    db = request.app[DB]
    job = await db.import_jobs.get(request.match_info["job_id"])
    if job is None:
        return web.json_response({"error": "no such import job"}, status=404)
    response = web.StreamResponse(headers={"Content-Type": "text/csv; charset=utf-8",
                                           "Content-Disposition": f'attachment; filename="{job.id}-errors.csv"'})
    await response.prepare(request)
    buffer = io.StringIO("\ufeff")
    buffer.seek(0, io.SEEK_END)
    with TableWriter(buffer, "csv", [*job.headers, *ERROR_COLUMNS]) as writer:
        async for error in db.import_errors.for_job(job.id):
            writer.write_row(error_row(job.headers, error))
            if buffer.tell() > CHUNK:
                await response.write(buffer.getvalue().encode("utf-8"))
                buffer.seek(0)
                buffer.truncate()
    await response.write(buffer.getvalue().encode("utf-8"))
    await response.write_eof()
    return response


async def _stop_imports(app: web.Application) -> None:
    """On shutdown, before the database closes: running imports stop and are recorded as failed."""
    tasks: Set[asyncio.Task[None]] = set(app[TASKS])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def setup_import_api(app: web.Application) -> None:
    app[TASKS] = set()
    app.router.add_post("/admin/import/{kind}", post_import)
    app.router.add_get("/admin/import/jobs/{job_id}", get_job)
    app.router.add_get("/admin/import/jobs/{job_id}/errors.csv", get_errors)
    app.on_shutdown.append(_stop_imports)
