"""Leases: which process holds a role (the care services' scheduler leader) until when.

Expiry is reckoned on the database server's clock (``$$NOW``), the one clock every process shares: two
machines whose clocks differ cannot both believe they hold the lease. A lease is taken over only once
it has expired, and renewed only by its holder; both are one atomic update.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Optional, Tuple

from pymongo import ReturnDocument

from carecore.repository.base import Repository

NEVER_HELD = datetime(1970, 1, 1, tzinfo=timezone.utc)


class LeaseRepository(Repository):
    collection_name = "leases"
    durable = True  # a lease granted and then rolled back by an election would make two leaders

    async def acquire(self, name: str, holder: str, ttl_s: float) -> bool:
        """Take or renew the lease for ``ttl_s`` from now; False while another holder's lease runs."""
        mine = {"$eq": ["$holder", holder]}
        free = {"$or": [mine, {"$lte": [{"$ifNull": ["$expires_at", NEVER_HELD]}, "$$NOW"]}]}
        taken_over = {"$and": [free, {"$not": [mine]}]}
        # One stage: every expression sees the lease as it was, so the update is all-or-nothing.
        doc = await self._col.find_one_and_update(
            {"_id": name},
            [{"$set": {
                "holder": {"$cond": [free, holder, "$holder"]},
                "expires_at": {"$cond": [free, {"$add": ["$$NOW", int(ttl_s * 1000)]}, "$expires_at"]},
                "since": {"$cond": [taken_over, "$$NOW", "$since"]},
                "terms": {"$add": [{"$ifNull": ["$terms", 0]}, {"$cond": [taken_over, 1, 0]}]},
            }}],
            upsert=True,
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None and doc["holder"] == holder

    async def release(self, name: str, holder: str) -> bool:
        """Give the lease up at once (a clean stop), so the next holder need not wait for its expiry."""
        result = await self._col.update_one({"_id": name, "holder": holder},
                                            [{"$set": {"expires_at": "$$NOW"}}])
        return result.modified_count == 1

    async def holder(self, name: str) -> Tuple[Optional[str], Optional[datetime]]:
        """Who holds the lease and until when (an expired lease names its last holder)."""
        doc = await self._col.find_one({"_id": name})
        return (doc["holder"], doc["expires_at"]) if doc else (None, None)
