"""Broadcasts: stored when a manager sends one, read by the broadcast job, and the accounts an audience names."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, AsyncIterator, Dict, List

from carecore.model import Audience, Broadcast, BroadcastStatus
from carecore.repository.base import RecordRepository, next_daily_id


def audience_query(audience: Audience) -> Dict[str, Any]:
    """The customers an audience names, as a query on ``customers``."""
    query: Dict[str, Any] = {}
    if audience.manager_ids is not None:
        query["account_manager_id"] = {"$in": list(audience.manager_ids)}
    for field, value in (("customer_class", audience.customer_class), ("region.province", audience.province),
                         ("region.city", audience.city), ("services.type", audience.circuit_type)):
        if value is not None:
            query[field] = str(value.value if hasattr(value, "value") else value)
    return query


class BroadcastRepository(RecordRepository[Broadcast]):
    collection_name = "broadcasts"
    model = Broadcast

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "BN", day)

    async def recent(self, limit: int = 50) -> List[Broadcast]:
        return [Broadcast.parse_obj(doc) async for doc in self._col.find().sort("created_at", -1).limit(limit)]

    async def queued(self) -> AsyncIterator[Broadcast]:
        async for doc in self._col.find({"status": BroadcastStatus.queued.value}).sort("created_at", 1):
            yield Broadcast.parse_obj(doc)

    async def mark_planned(self, broadcast_id: str, at: datetime, count: int) -> None:
        await self._col.update_one({"_id": broadcast_id, "status": BroadcastStatus.queued.value},
                                   {"$set": {"status": BroadcastStatus.planned.value, "planned_at": at,
                                             "planned_count": count}})

    async def cancel(self, broadcast_id: str, at: datetime, by: str) -> bool:
        """Cancel a broadcast not sent yet; False when it was planned (or cancelled) already."""
        result = await self._col.update_one(
            {"_id": broadcast_id, "status": BroadcastStatus.queued.value},
            {"$set": {"status": BroadcastStatus.cancelled.value, "cancelled_at": at, "cancelled_by": by}})
        return result.modified_count == 1

    async def reaches_anyone(self, audience: Audience) -> bool:
        """Whether the audience names at least one contact (of its tiers, when it names tiers)."""
        query = audience_query(audience)
        if audience.tiers:
            query["contacts.tier"] = {"$in": [str(getattr(t, "value", t)) for t in audience.tiers]}
        else:
            query["contacts.0"] = {"$exists": True}
        return await self._db["customers"].find_one(query, projection={"_id": 1}) is not None

    async def audience_customers(self, audience: Audience) -> AsyncIterator[Dict[str, Any]]:
        """Whole customer documents the audience names, in id order, streamed."""
        async for doc in self._db["customers"].find(audience_query(audience), batch_size=500).sort("_id", 1):
            yield doc
