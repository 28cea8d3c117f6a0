"""What every repository shares: its collection, bulk inserts and daily ids; and, for a collection of one
model's records by id, checked inserts and parsed reads."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, Generic, List, Optional, Type, TypeVar

import pymongo
from motor.motor_asyncio import AsyncIOMotorDatabase
from pymongo.errors import BulkWriteError, WriteError
from pymongo.write_concern import WriteConcern

from carecore.model.base import Model
from carecore.repository.errors import validated, write_errors

# Records whose loss would break a promise (a send's reservation and outcome, a ticket, a claim, a credit,
# an escalation, an audit entry) are acknowledged only once most of the replica set has them, so an
# election cannot roll them back. MongoDB 6's implicit default is the same; saying it here keeps it when
# an operator lowers the cluster's default. The wait is bounded: past it the write reports an error and
# the caller retries with the record's idempotency key, as after any other failure.
DURABLE = WriteConcern("majority", wtimeout=10_000)


class Repository:
    collection_name: str
    durable = False  # True: writes with the DURABLE write concern

    def __init__(self, db: AsyncIOMotorDatabase) -> None:
        self._db = db
        self._col = db.get_collection(self.collection_name, write_concern=DURABLE if self.durable else None)


M = TypeVar("M", bound=Model)


class RecordRepository(Repository, Generic[M]):
    """Records of one model by id: ``create`` checks a record against the model and the collection's
    validator (an id taken raises ``DuplicateRecordError``), ``get`` reads one back."""

    model: Type[M]

    async def create(self, data: Any) -> M:
        record = validated(self.model, self.collection_name, data)
        async with write_errors(self.collection_name):
            await self._col.insert_one(record.to_mongo())
        return record

    async def get(self, record_id: str) -> Optional[M]:
        doc = await self._col.find_one({"_id": record_id})
        return self.model.parse_obj(doc) if doc else None


async def insert_many_skipping_duplicates(col: Any, batch: List[Dict[str, Any]]) -> List[Any]:
    """Unordered bulk insert that skips documents already there; returns the new ids."""
    try:
        await col.insert_many(batch, ordered=False)
        return [doc["_id"] for doc in batch]
    except BulkWriteError as exc:
        errors = exc.details.get("writeErrors", [])
        invalid = [e for e in errors if e.get("code") == 121]
        if invalid:
            raise WriteError(invalid[0].get("errmsg", "validation failed"), 121, invalid[0]) from None
        if any(e.get("code") != 11000 for e in errors):
            raise
        failed = {e["index"] for e in errors}
        return [doc["_id"] for i, doc in enumerate(batch) if i not in failed]


async def next_daily_id(db: AsyncIOMotorDatabase, prefix: str, day: date) -> str:
    """PREFIX-YYYYMMDD-0001: a per-day sequence kept in ``counters``, atomic under concurrency."""
    counter_id = f"{prefix}-{day:%Y%m%d}"
    doc = await db.get_collection("counters", write_concern=DURABLE).find_one_and_update(
        {"_id": counter_id},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=pymongo.ReturnDocument.AFTER,
    )
    return f"{counter_id}-{doc['seq']:04d}"
