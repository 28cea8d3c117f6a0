"""Import jobs and their failed rows, kept in MongoDB so that any care service can run or report on them.

One import of a kind runs at a time: a unique index over the running jobs' kinds is the lock, so
two processes, or two care services behind a load balancer, cannot both take it. A job whose
process stopped sending heartbeats is marked abandoned and the lock taken over.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence

from carecore.model import ImportJob, ImportRowError, ImportStatus
from carecore.repository.base import RecordRepository, Repository, next_daily_id
from carecore.repository.errors import DuplicateRecordError, validated, write_errors


class ImportBusy(Exception):
    """Another import of the same kind is running."""

    def __init__(self, job: Optional[ImportJob]) -> None:
        self.job = job
        super().__init__(f"an import of {job.kind} is running ({job.id}, started {job.started_at:%Y-%m-%d %H:%M})"
                         if job else "an import of this kind is running")


class ImportJobRepository(RecordRepository[ImportJob]):
    collection_name = "import_jobs"
    model = ImportJob

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "IMP", day)

    async def start(self, data: Any, *, stale_after: timedelta) -> ImportJob:
        """Record a running job, taking its kind's lock; raises ``ImportBusy`` while another holds it."""
        job = validated(ImportJob, self.collection_name, data)
        for _ in range(3):
            try:
                async with write_errors(self.collection_name):
                    await self._col.insert_one(job.to_mongo())
                return job
            except DuplicateRecordError as exc:
                if exc.field != "kind":
                    raise
            running = await self.running(job.kind)
            if running is None:
                continue  # finished meanwhile
            if running.heartbeat_at >= job.started_at - stale_after:
                raise ImportBusy(running)
            await self._col.update_one(
                {"_id": running.id, "status": ImportStatus.running.value, "heartbeat_at": running.heartbeat_at},
                {"$set": {"status": ImportStatus.abandoned.value, "finished_at": job.started_at,
                          "error": "its process stopped answering; another import took over"}})
        raise ImportBusy(await self.running(job.kind))

    async def running(self, kind: str) -> Optional[ImportJob]:
        doc = await self._col.find_one({"kind": kind, "status": ImportStatus.running.value})
        return ImportJob.parse_obj(doc) if doc else None

    async def set_headers(self, job_id: str, headers: List[str]) -> None:
        await self._col.update_one({"_id": job_id}, {"$set": {"headers": [h[:200] for h in headers[:200]]}})

    async def progress(self, job_id: str, counts: Dict[str, int], at: datetime) -> None:
        """The counts so far, and a heartbeat that keeps the lock."""
        await self._col.update_one({"_id": job_id, "status": ImportStatus.running.value},
                                   {"$set": {"counts": counts, "heartbeat_at": at}})

    async def finish(self, job_id: str, status: ImportStatus, counts: Dict[str, int], at: datetime,
                     error: Optional[str] = None) -> None:
        update: Dict[str, Any] = {"status": status.value, "counts": counts, "finished_at": at, "heartbeat_at": at}
        if error:
            update["error"] = error[:2000]
        await self._col.update_one({"_id": job_id}, {"$set": update})

    async def count_by_status(self) -> Dict[str, int]:
        """How many imports ended each way (for /metrics: a failed import is an operator's alert)."""
        return {row["_id"]: row["n"] async for row in self._col.aggregate([{"$group": {"_id": "$status", "n": {"$sum": 1}}}])}

    async def recent(self, limit: int = 20) -> list[ImportJob]:
        cursor = self._col.find().sort("started_at", -1).limit(limit)
        return [ImportJob.parse_obj(doc) async for doc in cursor]


class ImportErrorRepository(Repository):
    collection_name = "import_errors"

    async def add(self, errors: Sequence[Any]) -> None:
        docs = [validated(ImportRowError, self.collection_name, e).to_mongo() for e in errors]
        if docs:
            async with write_errors(self.collection_name):
                await self._col.insert_many(docs, ordered=False)

    async def for_job(self, job_id: str) -> AsyncIterator[ImportRowError]:
        """A job's failed rows in file order."""
        async for doc in self._col.find({"job_id": job_id}).sort([("row", 1), ("_id", 1)]):
            yield ImportRowError.parse_obj(doc)

    async def count(self, job_id: str) -> int:
        return await self._col.count_documents({"job_id": job_id})
