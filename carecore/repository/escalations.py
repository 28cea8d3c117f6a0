"""Escalations to a customer's account manager."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Sequence

from carecore.clock import utcnow
from carecore.model import OPEN_ESCALATION_STATUSES, ChangeSource, Escalation, EscalationReason, EscalationStatus
from carecore.repository.audit import AuditRepository
from carecore.repository.base import RecordRepository, next_daily_id

NEVER = datetime(1970, 1, 1, tzinfo=timezone.utc)


class EscalationRepository(RecordRepository[Escalation]):
    collection_name = "escalations"
    model = Escalation
    durable = True

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "ES", day)

    async def open_for_sender(self, sender_id: str) -> Optional[Escalation]:
        doc = await self._col.find_one(
            {"sender_id": sender_id, "status": {"$in": list(OPEN_ESCALATION_STATUSES)}}
        )
        return Escalation.parse_obj(doc) if doc else None

    async def for_customers(self, customer_ids: Optional[Sequence[str]], *, open_only: bool = True,
                            limit: int = 200) -> List[Escalation]:
        """Escalations of these customers (all customers with None), most urgent call-back first."""
        query: Dict[str, Any] = {}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        if open_only:
            query["status"] = {"$in": list(OPEN_ESCALATION_STATUSES)}
        return await self._soonest_first(query, limit)

    async def open_for_managers(self, manager_ids: Sequence[str], *, limit: int = 200) -> List[Escalation]:
        """The open escalations these managers are to call back on, soonest call-back first."""
        return await self._soonest_first(
            {"manager_id": {"$in": list(manager_ids)}, "status": {"$in": list(OPEN_ESCALATION_STATUSES)}}, limit)

    async def _soonest_first(self, query: Dict[str, Any], limit: int) -> List[Escalation]:
        return [Escalation.parse_obj(doc) async for doc in self._col.find(query).sort("contact_by", 1).limit(limit)]

    async def said_leaving(self, since: datetime, customer_ids: Optional[Sequence[str]]) -> Dict[str, datetime]:
        """The customers (of ``customer_ids``; all with None) who told the assistant since then that they will
        leave, each with the last time they said so."""
        match: Dict[str, Any] = {"reason": EscalationReason.leaving.value, "created_at": {"$gte": since},
                                 "kept_at": None}
        if customer_ids is not None:
            match["customer_id"] = {"$in": list(customer_ids)}
        pipeline = [{"$match": match}, {"$group": {"_id": "$customer_id", "at": {"$max": "$created_at"}}}]
        return {doc["_id"]: doc["at"] async for doc in self._col.aggregate(pipeline)}

    async def mark_kept(self, customer_id: str, at: datetime, actor: str, source: ChangeSource) -> int:
        """The manager kept a customer who said they would leave: what they said no longer holds them on the churn
        watch, until they say it again. How many of their words it cleared; audited with the change."""
        async with await self._db.client.start_session() as session:
            async with session.start_transaction():
                result = await self._col.update_many(
                    {"customer_id": customer_id, "reason": EscalationReason.leaving.value, "kept_at": None},
                    {"$set": {"kept_at": at, "kept_by": actor, "updated_at": at}}, session=session)
                if result.modified_count:
                    await AuditRepository(self._db).record([{
                        "at": at, "source": source, "actor": actor, "entity": "customer", "entity_id": customer_id,
                        "customer_id": customer_id, "action": "kept",
                        "note": "kept after saying they would leave"}], session=session)
        return result.modified_count

    async def reassign_open(self, from_manager: str, to_manager: str, at: datetime) -> int:
        result = await self._col.update_many(
            {"manager_id": from_manager, "status": {"$in": list(OPEN_ESCALATION_STATUSES)}},
            {"$set": {"manager_id": to_manager, "updated_at": at}})
        return result.modified_count

    async def set_status(self, escalation_id: str, status: EscalationStatus) -> bool:
        result = await self._col.update_one(
            {"_id": escalation_id}, {"$set": {"status": status.value, "updated_at": utcnow()}}
        )
        return result.matched_count == 1

    async def claim_waiting_notice(self, escalation_id: str, now: datetime, every: timedelta) -> bool:
        """Whether the customer may be told again that their conversation waits for the manager: once per
        ``every``, also when two of their messages arrive together."""
        result = await self._col.update_one(
            {"_id": escalation_id, "$or": [{"waiting_notice_at": None}, {"waiting_notice_at": {"$lte": now - every}}]},
            {"$set": {"waiting_notice_at": now}})
        return result.modified_count == 1

    async def written_while_waiting(self) -> List[Escalation]:
        """Open escalations whose customer wrote again (``waiting_notice_at``) since their manager was last told."""
        query = {"status": {"$in": list(OPEN_ESCALATION_STATUSES)}, "waiting_notice_at": {"$ne": None},
                 "$expr": {"$gt": ["$waiting_notice_at", {"$ifNull": ["$manager_told_at", NEVER]}]}}
        return [Escalation.parse_obj(doc) async for doc in self._col.find(query).sort("contact_by", 1).limit(500)]

    async def mark_manager_told(self, escalation_id: str, of: datetime) -> None:
        """The manager has been told of the customer's messages up to ``of`` (their ``waiting_notice_at``)."""
        await self._col.update_one({"_id": escalation_id}, {"$max": {"manager_told_at": of}})
