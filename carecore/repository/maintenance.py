"""Planned maintenance windows and the circuits and customers they cover."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any, Dict, List, Optional, Sequence, Tuple

from carecore.clock import utcnow
from carecore.model.maintenance import CircuitSelection, MaintenanceWindow
from carecore.repository.base import RecordRepository, next_daily_id
from carecore.repository.errors import validated, write_errors

# Ended or cancelled windows stay watched this long: their last notices are still due.
WATCHED_AFTER_END = timedelta(days=2)


class MaintenanceRepository(RecordRepository[MaintenanceWindow]):
    collection_name = "maintenance_windows"
    model = MaintenanceWindow

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "MW", day)

    async def covered(self, selection: CircuitSelection) -> Tuple[List[str], List[str]]:
        """(circuit ids, customer ids) the selection covers now; by area, the customer's region decides."""
        if selection.circuit_ids:
            wanted = set(selection.circuit_ids)
            query: Dict[str, Any] = {"services.circuit_id": {"$in": sorted(wanted)}}
        else:
            wanted = None
            query = {"region.province": selection.province, "services.type": str(selection.type)}
            if selection.city:
                query["region.city"] = selection.city
        circuits: List[str] = []
        customers: List[str] = []
        async for doc in self._db["customers"].find(query, {"services.circuit_id": 1, "services.type": 1}):
            mine = [s["circuit_id"] for s in doc.get("services", [])
                    if (s["circuit_id"] in wanted if wanted is not None else s["type"] == str(selection.type))]
            if mine:
                customers.append(doc["_id"])
                circuits.extend(mine)
        return sorted(circuits), sorted(customers)

    async def change(self, window: MaintenanceWindow, fields: Dict[str, Any]) -> Optional[MaintenanceWindow]:
        """Save a change as the next version, unless the window changed or was cancelled meanwhile (None)."""
        changed = validated(MaintenanceWindow, self.collection_name,
                            {**window.to_mongo(), **fields, "version": window.version + 1, "updated_at": utcnow()})
        async with write_errors(self.collection_name):
            result = await self._col.replace_one({"_id": window.id, "version": window.version, "cancelled_at": None},
                                                 changed.to_mongo())
        return changed if result.modified_count == 1 else None

    async def cancel(self, window_id: str, at: datetime) -> bool:
        result = await self._col.update_one({"_id": window_id, "cancelled_at": None},
                                            {"$set": {"cancelled_at": at, "updated_at": utcnow()}})
        return result.modified_count == 1

    async def watched(self, now: datetime) -> List[MaintenanceWindow]:
        """Windows whose notices may still be due: not ended more than two days ago."""
        cursor = self._col.find({"end": {"$gte": now - WATCHED_AFTER_END}}).sort("start", 1)
        return [MaintenanceWindow.parse_obj(doc) async for doc in cursor]

    async def active_for_circuits(self, circuit_ids: Sequence[str], now: datetime) -> Dict[str, MaintenanceWindow]:
        """The window each of these circuits is in at ``now`` (the one ending last, if several)."""
        query = {"circuit_ids": {"$in": list(circuit_ids)}, "start": {"$lte": now}, "end": {"$gt": now},
                 "cancelled_at": None}
        found: Dict[str, MaintenanceWindow] = {}
        async for doc in self._col.find(query).sort("end", 1):
            window = MaintenanceWindow.parse_obj(doc)
            for circuit_id in set(window.circuit_ids) & set(circuit_ids):
                found[circuit_id] = window
        return found

    async def upcoming_for_circuits(self, circuit_ids: Sequence[str], now: datetime,
                                    until: datetime) -> List[MaintenanceWindow]:
        """The windows on any of these circuits starting after ``now`` and before ``until``, soonest first."""
        query = {"circuit_ids": {"$in": list(circuit_ids)}, "start": {"$gt": now, "$lt": until}, "cancelled_at": None}
        return [MaintenanceWindow.parse_obj(doc) async for doc in self._col.find(query).sort("start", 1)]

    async def recent(self, *, limit: int = 100) -> List[MaintenanceWindow]:
        cursor = self._col.find({}).sort("start", -1).limit(limit)
        return [MaintenanceWindow.parse_obj(doc) async for doc in cursor]
