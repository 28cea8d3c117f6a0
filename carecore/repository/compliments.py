"""Compliments customers gave through the assistant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Dict, List, Optional, Sequence

from carecore.model import Compliment
from carecore.repository.base import RecordRepository, next_daily_id


class ComplimentRepository(RecordRepository[Compliment]):
    collection_name = "compliments"
    model = Compliment

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "PR", day)

    async def for_customers(self, customer_ids: Optional[Sequence[str]], *, since: Optional[datetime] = None,
                            before: Optional[datetime] = None, limit: int = 10) -> List[Compliment]:
        """Compliments of these customers (all customers with None) given in [since, before), newest first."""
        query: Dict[str, Any] = {} if customer_ids is None else {"customer_id": {"$in": list(customer_ids)}}
        span = {**({"$gte": since} if since is not None else {}), **({"$lt": before} if before is not None else {})}
        if span:
            query["created_at"] = span
        cursor = self._col.find(query).sort([("created_at", -1), ("_id", -1)]).limit(limit)
        return [Compliment.parse_obj(doc) async for doc in cursor]

    async def count_by_manager(self, manager_ids: Sequence[str], since: datetime) -> Dict[str, int]:
        """How many compliments each of these managers was given since then; those given none are absent."""
        pipeline = [{"$match": {"manager_id": {"$in": list(manager_ids)}, "created_at": {"$gte": since}}},
                    {"$group": {"_id": "$manager_id", "n": {"$sum": 1}}}]
        return {doc["_id"]: doc["n"] async for doc in self._col.aggregate(pipeline)}
