"""The audit log: every change to a customer, contact, circuit or manager, by whom and from where."""

from __future__ import annotations

from typing import Any, List, Optional, Sequence

from motor.motor_asyncio import AsyncIOMotorClientSession

from carecore.model import AuditEntry
from carecore.repository.base import Repository
from carecore.repository.errors import validated, write_errors


class AuditRepository(Repository):
    collection_name = "audit_log"
    durable = True

    async def record(self, entries: Sequence[Any], *, session: Optional[AsyncIOMotorClientSession] = None) -> None:
        """Append entries, in the caller's transaction when it gives one (the change and its entry go together)."""
        docs = [validated(AuditEntry, self.collection_name, e).to_mongo() for e in entries]
        if docs:
            async with write_errors(self.collection_name):
                await self._col.insert_many(docs, ordered=True, session=session)

    async def for_customer(self, customer_id: str, *, limit: int = 100) -> List[AuditEntry]:
        """A customer's history, newest first: changes to it, its contacts and circuits."""
        cursor = self._col.find({"customer_id": customer_id}).sort([("at", -1), ("_id", -1)]).limit(limit)
        return [AuditEntry.parse_obj(doc) async for doc in cursor]

    async def for_entity(self, entity: str, entity_id: str, *, limit: int = 100) -> List[AuditEntry]:
        cursor = self._col.find({"entity": entity, "entity_id": entity_id}).sort([("at", -1), ("_id", -1)])
        return [AuditEntry.parse_obj(doc) async for doc in cursor.limit(limit)]

    async def for_job(self, job_id: str, *, limit: int = 1000) -> List[AuditEntry]:
        cursor = self._col.find({"job_id": job_id}).sort("_id", 1).limit(limit)
        return [AuditEntry.parse_obj(doc) async for doc in cursor]
