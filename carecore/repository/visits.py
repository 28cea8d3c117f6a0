"""Customer visits: the record of each, and when each customer was last visited."""

from __future__ import annotations

from datetime import date
from typing import Any, Dict, List, Optional, Sequence

from carecore.model import Visit
from carecore.repository.base import RecordRepository


class VisitRepository(RecordRepository[Visit]):
    collection_name = "visits"
    model = Visit

    async def for_customer(self, customer_id: str, limit: int = 10) -> List[Visit]:
        cursor = self._col.find({"customer_id": customer_id}).sort([("visited_on", -1), ("_id", -1)]).limit(limit)
        return [Visit.parse_obj(doc) async for doc in cursor]

    async def last_visits(self, customer_ids: Optional[Sequence[str]] = None) -> Dict[str, date]:
        """The day each customer (of these, or every one with None) was last visited; the never visited are absent."""
        match: Dict[str, Any] = {} if customer_ids is None else {"customer_id": {"$in": list(customer_ids)}}
        pipeline = [{"$match": match}, {"$group": {"_id": "$customer_id", "last": {"$max": "$visited_on"}}}]
        return {doc["_id"]: date.fromisoformat(doc["last"]) async for doc in self._col.aggregate(pipeline)}
