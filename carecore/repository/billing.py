"""Billing: monthly usage, bill deliveries, compensation claims and the credits they grant."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, AsyncIterator, Dict, Generic, List, Optional, Sequence, Tuple, Type, TypeVar

from motor.motor_asyncio import AsyncIOMotorClientSession, AsyncIOMotorDatabase
from pydantic import BaseModel

from carecore.clock import utcnow
from carecore.model import BillDeliveryRecord, ClaimStatus, CompensationClaim, Credit, Settlement, UsageMonth
from carecore.repository.base import DURABLE, RecordRepository, Repository, next_daily_id
from carecore.repository.errors import validated, write_errors

M = TypeVar("M", bound=BaseModel)


class _PerCustomerMonth(Repository, Generic[M]):
    """Documents keyed ``<customer_id>:<month>``: one per customer and month."""

    model: Type[M]

    async def upsert(self, data: Any) -> M:
        record = validated(self.model, self.collection_name, data)
        async with write_errors(self.collection_name):
            await self._col.replace_one({"_id": record.id}, record.to_mongo(), upsert=True)
        return record

    async def get(self, customer_id: str, month: str) -> Optional[M]:
        doc = await self._col.find_one({"_id": f"{customer_id}:{month}"})
        return self.model.parse_obj(doc) if doc else None


class UsageRepository(_PerCustomerMonth[UsageMonth]):
    collection_name = "usage_monthly"
    model = UsageMonth

    async def history(self, customer_id: str, months: int = 12) -> List[UsageMonth]:
        cursor = self._col.find({"customer_id": customer_id}).sort("month", -1).limit(months)
        return [UsageMonth.parse_obj(doc) async for doc in cursor]

    async def between(self, customer_id: str, first: str, last: str) -> List[UsageMonth]:
        """The customer's months from ``first`` to ``last`` that billing has sent, oldest first."""
        cursor = self._col.find({"customer_id": customer_id, "month": {"$gte": first, "$lte": last}}).sort("month", 1)
        return [UsageMonth.parse_obj(doc) async for doc in cursor]

    async def average_amounts(self, periods: Sequence[Sequence[str]],
                              customer_ids: Optional[Sequence[str]] = None) -> Dict[str, Tuple[int, ...]]:
        """Each customer's billed amount averaged over each period's months (a month without a record counts
        as 0), in fen, in one pass over the usage records; of these customers only, when given."""
        match: Dict[str, Any] = {"month": {"$in": sorted({m for months in periods for m in months})}}
        if customer_ids is not None:
            match["customer_id"] = {"$in": list(customer_ids)}
        sums = {f"p{n}": {"$sum": {"$cond": [{"$in": ["$month", list(months)]}, "$amount_fen", 0]}}
                for n, months in enumerate(periods)}
        pipeline = [{"$match": match}, {"$group": {"_id": "$customer_id", **sums}}]
        return {doc["_id"]: tuple(doc[f"p{n}"] // len(months) for n, months in enumerate(periods))
                async for doc in self._col.aggregate(pipeline)}

    async def owed(self, through_month: str,
                   customer_ids: Optional[Sequence[str]] = None) -> List[Tuple[str, str, int]]:
        """(customer id, month, fen owed) for every month up to ``through_month`` that billing says is not
        fully paid; of these customers only, when given."""
        query: Dict[str, Any] = {"owed_fen": {"$gt": 0}, "month": {"$lte": through_month}}
        if customer_ids is not None:
            query["customer_id"] = {"$in": list(customer_ids)}
        cursor = self._col.find(query, {"customer_id": 1, "month": 1, "owed_fen": 1}).sort("month", 1)
        return [(doc["customer_id"], doc["month"], doc["owed_fen"]) async for doc in cursor]

    async def has_month(self, month: str) -> bool:
        return await self._col.find_one({"month": month}, {"_id": 1}) is not None


class BillDeliveryRepository(_PerCustomerMonth[BillDeliveryRecord]):
    """When each month's bill reached the customer: what bill-not-received claims are checked against."""

    collection_name = "bill_deliveries"
    durable = True
    model = BillDeliveryRecord


class CreditRepository(RecordRepository[Credit]):
    collection_name = "credits"
    model = Credit
    durable = True

    async def add(self, credit: Credit, *, session: Optional[AsyncIOMotorClientSession] = None) -> None:
        """Record a credit once: a second call with the same id changes nothing."""
        doc = credit.to_mongo()
        async with write_errors(self.collection_name):
            await self._col.update_one({"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=session)

    async def for_customer(self, customer_id: str, *, limit: int = 20) -> List[Credit]:
        """The newest credits first: those on the latest bills."""
        cursor = self._col.find({"customer_id": customer_id}).sort([("apply_to_month", -1), ("created_at", -1)])
        return [Credit.parse_obj(doc) async for doc in cursor.limit(limit)]

    async def count_for_customer(self, customer_id: str) -> int:
        return await self._col.count_documents({"customer_id": customer_id})


async def settle_with_credit(db: AsyncIOMotorDatabase, collection: str, query: Dict[str, Any], fields: Dict[str, Any],
                  credit: Optional[Credit]) -> bool:
    """Write a settlement decision and its credit together, or neither; False if decided before."""
    async with await db.client.start_session() as session:
        async with session.start_transaction(write_concern=DURABLE):
            async with write_errors(collection):
                result = await db[collection].update_one(query, {"$set": {**fields, "updated_at": utcnow()}},
                                                         session=session)
            if result.matched_count == 1 and credit is not None:
                await CreditRepository(db).add(credit, session=session)
    return result.matched_count == 1


class ClaimRepository(RecordRepository[CompensationClaim]):
    """One claim per customer, kind and month: ``create`` raises DuplicateRecordError on a repeat."""

    collection_name = "compensation_claims"
    model = CompensationClaim
    durable = True

    async def next_id(self, day: date) -> str:
        return await next_daily_id(self._db, "BC", day)

    async def find(self, customer_id: str, kind: str, month: str) -> Optional[CompensationClaim]:
        doc = await self._col.find_one({"customer_id": customer_id, "kind": kind, "month": month})
        return CompensationClaim.parse_obj(doc) if doc else None

    async def pending_for_customers(self, customer_ids: Sequence[str]) -> List[CompensationClaim]:
        query = {"customer_id": {"$in": list(customer_ids)}, "status": ClaimStatus.pending_verification.value}
        return [CompensationClaim.parse_obj(doc) async for doc in self._col.find(query).sort("created_at", 1)]

    async def unsettled(self) -> AsyncIterator[CompensationClaim]:
        """Claims still to be decided, or decided with the customer not told yet; oldest first."""
        async for doc in self._col.find({"settlement.notified_at": None}).sort("created_at", 1):
            yield CompensationClaim.parse_obj(doc)

    async def decide(self, claim_id: str, status: ClaimStatus, settlement: Settlement,
                     credit: Optional[Credit]) -> bool:
        return await settle_with_credit(self._db, self.collection_name,
                             {"_id": claim_id, "status": ClaimStatus.pending_verification.value},
                             {"status": status.value, "settlement": settlement.to_mongo()}, credit)

    async def mark_notified(self, claim_id: str, at: datetime, notice_status: str) -> None:
        await self._col.update_one({"_id": claim_id}, {"$set": {
            "settlement.notified_at": at, "settlement.notice_status": notice_status, "updated_at": utcnow()}})
