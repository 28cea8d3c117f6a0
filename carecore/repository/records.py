"""Whole documents of one collection read and written a batch at a time: what import and export work on.

A batch is written in one transaction with its audit entries, so a change is never kept without
its entry. Each document read is written back only if it is still as it was read (by its
``updated_at``, or whole where it has none): a change made meanwhile by someone else (a manager
in the console, a customer opting out) is reported as stale and read again, never overwritten.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Dict, Iterable, List, Optional, Sequence, Set, Tuple

from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo import InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, PyMongoError

from carecore.repository.audit import AuditRepository
from carecore.repository.base import Repository

Doc = Dict[str, Any]


@dataclass
class Change:
    """One document's new state; ``before`` as it was read (None: a new document)."""

    id: str
    before: Optional[Doc]
    after: Doc


@dataclass
class WriteOutcome:
    """What became of a batch. Nothing of it was written unless ``ok``."""

    written: int = 0
    stale: List[str] = field(default_factory=list)  # changed by someone else since read
    duplicate: Optional[Tuple[str, Dict[str, Any]]] = None  # (id, the unique value another document holds)
    invalid: Optional[Tuple[str, str]] = None  # (id, the database validator's message)

    @property
    def ok(self) -> bool:
        return not self.stale and self.duplicate is None and self.invalid is None


class RecordStore(Repository):
    def __init__(self, db: AsyncIOMotorDatabase, client: AsyncIOMotorClient, collection_name: str) -> None:
        self.collection_name = collection_name
        super().__init__(db)
        self._client = client
        self._audit = AuditRepository(db)

    async def fetch(self, ids: Iterable[str]) -> Dict[str, Doc]:
        wanted = sorted(set(ids))
        return {doc["_id"]: doc async for doc in self._col.find({"_id": {"$in": wanted}})} if wanted else {}

    async def existing(self, ids: Iterable[str]) -> Set[str]:
        wanted = sorted(set(ids))
        if not wanted:
            return set()
        return {doc["_id"] async for doc in self._col.find({"_id": {"$in": wanted}}, {"_id": 1})}

    async def stream(self, query: Optional[Doc] = None, *, batch_size: int = 1000) -> AsyncIterator[Doc]:
        async for doc in self._col.find(query or {}, batch_size=batch_size).sort("_id", 1):
            yield doc

    async def write(self, changes: Sequence[Change], audit: Sequence[Any] = (), *, retries: int = 3) -> WriteOutcome:
        """Write the batch and its audit entries in one transaction, or nothing and say why."""
        if not changes and not audit:
            return WriteOutcome()
        ops: List[Any] = [InsertOne(c.after) if c.before is None else ReplaceOne(_guard(c.before), c.after)
                          for c in changes]
        replaced = [c for c in changes if c.before is not None]
        for attempt in range(retries):
            async with await self._client.start_session() as session:
                session.start_transaction()
                try:
                    result = await self._col.bulk_write(ops, ordered=True, session=session) if ops else None
                    if result is not None and result.matched_count != len(replaced):
                        await session.abort_transaction()
                        return WriteOutcome(stale=await self._stale(replaced))
                    await self._audit.record(audit, session=session)
                    await session.commit_transaction()
                    return WriteOutcome(written=len(changes))
                except BulkWriteError as exc:
                    await session.abort_transaction()
                    return self._refused(changes, exc)
                except PyMongoError as exc:
                    if session.in_transaction:
                        await session.abort_transaction()
                    if not exc.has_error_label("TransientTransactionError") or attempt == retries - 1:
                        raise
        raise AssertionError("unreachable")

    def _refused(self, changes: Sequence[Change], exc: BulkWriteError) -> WriteOutcome:
        error = (exc.details.get("writeErrors") or [{}])[0]
        doc_id = changes[error.get("index", 0)].id
        if error.get("code") == 11000:
            key = error.get("keyValue") or {}
            return WriteOutcome(stale=[doc_id]) if list(key) == ["_id"] else WriteOutcome(duplicate=(doc_id, key))
        if error.get("code") == 121:
            return WriteOutcome(invalid=(doc_id, "the database refused the record (its validator)"))
        raise exc

    async def _stale(self, replaced: Sequence[Change]) -> List[str]:
        current = await self.fetch(c.id for c in replaced)
        return [c.id for c in replaced if c.before is not None and _guard(current.get(c.id) or {}) != _guard(c.before)]


def _guard(before: Doc) -> Doc:
    """What a document must still match to be replaced: its ``updated_at`` where it has one, else all of it."""
    return {"_id": before.get("_id"), "updated_at": before["updated_at"]} if "updated_at" in before else dict(before)
