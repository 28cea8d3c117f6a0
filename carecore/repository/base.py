"""What every repository shares: its collection, transactions, bulk inserts and daily ids."""

from __future__ import annotations

from datetime import date
from typing import (
    Any,
    Awaitable,
    Callable,
    Dict,
    List,
    Optional,
    TypeVar,
)

import pymongo
from motor.motor_asyncio import AsyncIOMotorClientSession, AsyncIOMotorDatabase
from pymongo.errors import (
    BulkWriteError,
    WriteError,
)

T = TypeVar("T")


async def transactional(db: AsyncIOMotorDatabase, session: Optional[AsyncIOMotorClientSession],
                        work: Callable[[AsyncIOMotorClientSession], Awaitable[T]]) -> T:
    """``work`` in the caller's transaction when it has one, else in one of its own.

    Our own goes through ``with_transaction``, which retries a transient write
    conflict (an opt-out recorded on the same profile meanwhile) instead of failing.
    """
    if session is not None:
        return await work(session)
    async with await db.client.start_session() as own:
        return await own.with_transaction(work)


class Repository:
    collection_name: str

    def __init__(self, db: AsyncIOMotorDatabase) -> None:
        self._db = db
        self._col = db[self.collection_name]



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
    doc = await db["counters"].find_one_and_update(
        {"_id": counter_id},
        {"$inc": {"seq": 1}},
        upsert=True,
        return_document=pymongo.ReturnDocument.AFTER,
    )
    return f"{counter_id}-{doc['seq']:04d}"
