"""Every SMS's record under its idempotency key, and status callbacks parked until their sid is known."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence, Tuple

import pymongo

from carecore.clock import utcnow
from carecore.model import AWAITING_OUTCOME_VALUES, UNFINISHED_VALUES, ParkedCallback, SendRecord, SendStatus
from carecore.repository.base import Repository
from carecore.repository.errors import DuplicateRecordError, validated, write_errors

TEXTS_FORGOTTEN_MARK = "retention:message_texts"  # in counters: the cutoff of the last run that dropped texts

# Statuses in the order a message moves through them; a late callback never moves back.
_STATUS_RANK = {
    SendStatus.pending: 0,
    SendStatus.ambiguous: 0,
    SendStatus.deferred: 0,
    SendStatus.accepted: 1,
    SendStatus.queued: 2,
    SendStatus.sending: 3,
    SendStatus.sent: 4,
    SendStatus.delivered: 5,
    SendStatus.undelivered: 5,
    SendStatus.failed: 5,
    SendStatus.suppressed: 5,
}


def unfinished_query(campaign: str) -> Dict[str, Any]:
    """A campaign's unfinished messages: the filter of the partial index that holds only them."""
    return {"meta.campaign": campaign, "status": {"$in": UNFINISHED_VALUES}}


def awaiting_outcome_query(before: datetime, max_checks: int) -> Dict[str, Any]:
    """Messages still to be asked about: their index holds only those whose final status has not come."""
    return {"status": {"$in": AWAITING_OUTCOME_VALUES}, "status_checks": {"$not": {"$gte": max_checks}},
            "updated_at": {"$lt": before}}


def statuses_below(status: SendStatus) -> List[str]:
    rank = _STATUS_RANK[status]
    return [s.value for s, r in _STATUS_RANK.items() if r < rank]


def _moved_to(status: SendStatus, fields: Dict[str, Any], now: datetime) -> Dict[str, Any]:
    """The update that moves a send record to ``status``, with its history event."""
    event = {"status": status.value, "at": now}
    if fields.get("error_code") is not None:
        event["error_code"] = fields["error_code"]
    return {"$set": {"status": status.value, "updated_at": now, **fields}, "$push": {"history": event}}


@dataclass
class Reservation:
    created: bool
    record: SendRecord


class SendRepository(Repository):
    collection_name = "sends"
    durable = True

    async def reserve(self, data: Any) -> Reservation:
        """Insert the record under its idempotency key, or return the one already there."""
        record = validated(SendRecord, self.collection_name, data)
        try:
            async with write_errors(self.collection_name):
                await self._col.insert_one(record.to_mongo())
        except DuplicateRecordError:
            existing = await self.get(record.id)
            assert existing is not None
            return Reservation(False, existing)
        return Reservation(True, record)

    async def get(self, key: str) -> Optional[SendRecord]:
        doc = await self._col.find_one({"_id": key})
        return SendRecord.parse_obj(doc) if doc else None

    async def keys_with_prefix(self, prefix: str) -> Dict[str, datetime]:
        """The idempotency keys recorded under ``prefix`` and when (an anchored match on ``_id``, served by its
        index)."""
        cursor = self._col.find({"_id": {"$regex": "^" + re.escape(prefix)}}, {"_id": 1, "created_at": 1})
        return {doc["_id"]: doc["created_at"] async for doc in cursor}

    async def finish(self, key: str, status: SendStatus, *, only_from: Optional[Sequence[SendStatus]] = None,
                     **fields: Any) -> SendRecord:
        """Move a record to ``status`` and return it as it now stands, in one round trip.

        ``only_from`` guards against racing writers: if the record already moved on,
        theirs stands and is returned unchanged.
        """
        query: Dict[str, Any] = {"_id": key}
        if only_from is not None:
            query["status"] = {"$in": [SendStatus(s).value for s in only_from]}
        async with write_errors(self.collection_name):
            doc = await self._col.find_one_and_update(query, _moved_to(status, fields, utcnow()),
                                                      return_document=pymongo.ReturnDocument.AFTER)
        if doc is None:
            doc = await self._col.find_one({"_id": key})
        if doc is None:
            raise KeyError(key)
        return SendRecord.parse_obj(doc)

    async def claim(self, key: str, *, now: datetime, lease_until: datetime) -> Optional[SendRecord]:
        """Take an unfinished record for resending; returns it as it was before the claim.

        Ambiguous and deferred records are free to take; a pending one only once its
        lease ran out (its sender died mid-call). The claim itself marks the record
        pending, so a crash from here on is again found and looked up before a resend.
        """
        doc = await self._col.find_one_and_update(
            {
                "_id": key,
                "$or": [
                    {"status": {"$in": [SendStatus.ambiguous.value, SendStatus.deferred.value]}},
                    {"status": SendStatus.pending.value, "lease_until": {"$lt": now}},
                ],
            },
            {"$set": {"status": SendStatus.pending.value, "lease_until": lease_until, "updated_at": now}},
            return_document=pymongo.ReturnDocument.BEFORE,
        )
        return SendRecord.parse_obj(doc) if doc else None

    async def renew_lease(self, key: str, *, lease_until: datetime, renew_to: datetime,
                          count_attempt: bool) -> bool:
        """Renew a pending message's lease if it is still the sender's, counting one more attempt if asked.

        ``lease_until`` is the sender's token: the lease it took (``reserve``, ``claim``)
        or last renewed. False means another sender has claimed the message since
        (the lease ran out), and this one must not call the provider.
        """
        update: Dict[str, Any] = {"$set": {"lease_until": renew_to, "updated_at": utcnow()}}
        if count_attempt:
            update["$inc"] = {"attempts": 1}
        result = await self._col.update_one(
            {"_id": key, "status": SendStatus.pending.value, "lease_until": lease_until}, update)
        return result.matched_count == 1

    async def apply_callback(self, sid: str, status: SendStatus, error_code: Optional[int]) -> bool:
        """A Twilio status callback; ignored if the record already moved further."""
        fields: Dict[str, Any] = {}
        if error_code is not None:
            fields["error_code"] = error_code
        now = utcnow()
        result = await self._col.update_one(
            {"sid": sid, "status": {"$in": statuses_below(status)}},
            {
                "$set": {"status": status.value, "updated_at": now, **fields},
                "$push": {"history": {"status": status.value, "at": now, **fields}},
            },
        )
        return result.matched_count == 1

    async def awaiting_outcome(self, before: datetime, *, max_checks: int, limit: int) -> List[SendRecord]:
        """Messages the provider took whose final status had not come by ``before``, the least-checked first."""
        cursor = self._col.find(awaiting_outcome_query(before, max_checks))
        cursor = cursor.sort([("status_checks", 1), ("updated_at", 1)]).limit(limit)
        return [SendRecord.parse_obj(doc) async for doc in cursor]

    async def count_status_check(self, key: str, at: datetime) -> None:
        """One more lookup that learnt nothing new; the next waits as long again."""
        await self._col.update_one({"_id": key}, {"$inc": {"status_checks": 1}, "$set": {"updated_at": at}})

    async def has_sid(self, sid: str) -> bool:
        return await self._col.find_one({"sid": sid}, {"_id": 1}) is not None

    async def unfinished(self, campaign: str) -> List[SendRecord]:
        """Messages of one campaign run whose outcome is not settled yet."""
        # Ordered here, not by the server: a sort by _id would have the planner walk the _id index instead.
        found = [SendRecord.parse_obj(doc) async for doc in self._col.find(unfinished_query(campaign))]
        return sorted(found, key=lambda record: record.id)

    async def forget_bodies(self, cutoff: datetime) -> int:
        """Drop the text of settled messages created before ``cutoff``; the record (key, number, kind, status)
        stays, so a message is still sent only once and still counted. An unsettled one keeps its text: a
        resend after an ambiguous outcome needs it.

        A run starts a month before where the last one stopped (a mark in ``counters``), which keeps the
        nightly range small on the ``by_created`` index: the first run reaches back to the oldest text, missed
        nights are made up, and a message settled within the month after still loses its text."""
        marks = self._col.database.get_collection("counters", write_concern=self._col.write_concern)
        mark = await marks.find_one({"_id": TEXTS_FORGOTTEN_MARK})
        created: Dict[str, Any] = {"$lt": cutoff}
        if mark is not None:
            created["$gte"] = mark["through"] - timedelta(days=30)
        result = await self._col.update_many(
            {"created_at": created, "body": {"$exists": True}, "status": {"$nin": list(UNFINISHED_VALUES)}},
            {"$unset": {"body": ""}})
        await marks.update_one({"_id": TEXTS_FORGOTTEN_MARK}, {"$max": {"through": cutoff}}, upsert=True)
        return result.modified_count

    async def for_customer(self, customer_id: str, limit: int = 50) -> List[SendRecord]:
        cursor = self._col.find({"customer_id": customer_id}).sort("created_at", -1).limit(limit)
        return [SendRecord.parse_obj(doc) async for doc in cursor]

    async def count_by_status(self, *, since: Optional[datetime] = None,
                              max_time_s: Optional[float] = None) -> Dict[Tuple[str, str], int]:
        """Messages per (kind, status); suppressed ones per reason as ``suppressed:<reason>``.

        Without ``since`` it reads every record (about a second per million here):
        ``max_time_s`` has the server give up past that (``DatabaseError``).
        """
        match: Dict[str, Any] = {}
        if since is not None:
            match["created_at"] = {"$gte": since}
        pipeline = [{"$match": match}, {"$group": {
            "_id": {"kind": "$kind", "status": "$status", "reason": "$suppressed_reason"}, "n": {"$sum": 1}}}]
        options = {"maxTimeMS": int(max_time_s * 1000)} if max_time_s is not None else {}
        counts: Dict[Tuple[str, str], int] = {}
        async for row in self._col.aggregate(pipeline, **options):
            key = row["_id"]
            status = f"suppressed:{key.get('reason') or 'unknown'}" if key["status"] == "suppressed" else key["status"]
            counts[(key["kind"], status)] = counts.get((key["kind"], status), 0) + row["n"]
        return counts

    async def daily_by_status(self, *, since: datetime, timezone_name: str) -> Dict[str, Dict[str, int]]:
        """Messages per local day (``YYYY-MM-DD`` in ``timezone_name``) and status, for the report chart."""
        pipeline = [
            {"$match": {"created_at": {"$gte": since}}},
            {"$group": {"_id": {"day": {"$dateToString": {"format": "%Y-%m-%d", "date": "$created_at",
                                                            "timezone": timezone_name}},
                                "status": "$status"}, "n": {"$sum": 1}}},
        ]
        days: Dict[str, Dict[str, int]] = {}
        async for row in self._col.aggregate(pipeline):
            days.setdefault(row["_id"]["day"], {})[row["_id"]["status"]] = row["n"]
        return dict(sorted(days.items()))


class ParkedCallbackRepository(Repository):
    collection_name = "parked_callbacks"
    durable = True  # a delivery outcome that arrived before its send

    async def park(self, data: Any) -> ParkedCallback:
        """Keep a callback for later; the same callback again keeps its first arrival time."""
        callback = validated(ParkedCallback, self.collection_name, data)
        async with write_errors(self.collection_name):
            await self._col.update_one({"_id": callback.id}, {"$setOnInsert": callback.to_mongo()}, upsert=True)
        return callback

    async def waiting(self) -> AsyncIterator[ParkedCallback]:
        async for doc in self._col.find():
            yield ParkedCallback.parse_obj(doc)

    async def remove(self, ids: Sequence[str]) -> None:
        if ids:
            await self._col.delete_many({"_id": {"$in": list(ids)}})
