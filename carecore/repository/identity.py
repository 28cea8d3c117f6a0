"""Who is asking: one-time codes, and the attempts limited per key (failed logins, chat sessions)."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any, Dict, List, Sequence

import pymongo

from carecore.model import Attempt, OtpChallenge
from carecore.repository.base import RecordRepository, Repository
from carecore.repository.errors import validated, write_errors


class OtpRepository(RecordRepository[OtpChallenge]):
    collection_name = "otp_challenges"
    model = OtpChallenge

    async def replace(self, data: Any) -> OtpChallenge:
        challenge = validated(OtpChallenge, self.collection_name, data)
        async with write_errors(self.collection_name):
            await self._col.replace_one({"_id": challenge.id}, challenge.to_mongo(), upsert=True)
        return challenge

    async def count_attempt(self, challenge_id: str) -> int:
        """Count one more try atomically; returns the attempts made so far."""
        doc = await self._col.find_one_and_update(
            {"_id": challenge_id}, {"$inc": {"attempts": 1}}, return_document=pymongo.ReturnDocument.AFTER
        )
        return int(doc["attempts"]) if doc else 0

    async def delete(self, challenge_id: str) -> None:
        await self._col.delete_one({"_id": challenge_id})

    async def issued_since(self, mobile: str, since: datetime) -> int:
        return await self._col.count_documents({"mobile": mobile, "created_at": {"$gte": since}})


class AttemptRepository(Repository):
    collection_name = "attempts"

    async def counts_since(self, keys: Sequence[str], since: datetime) -> Dict[str, int]:
        """Attempts per key at or after ``since``; keys without any are left out."""
        pipeline = [{"$match": {"key": {"$in": list(keys)}, "at": {"$gte": since}}},
                    {"$group": {"_id": "$key", "n": {"$sum": 1}}}]
        return {row["_id"]: row["n"] async for row in self._col.aggregate(pipeline)}

    async def record(self, keys: Sequence[str], *, at: datetime, expires_at: datetime) -> List[str]:
        """One attempt for each key, in one write; returns their ids."""
        docs = [validated(Attempt, self.collection_name, {
            "_id": secrets.token_hex(12), "key": key, "at": at, "expires_at": expires_at}).to_mongo() for key in keys]
        if docs:
            async with write_errors(self.collection_name):
                await self._col.insert_many(docs)
        return [doc["_id"] for doc in docs]

    async def remove(self, ids: Sequence[str]) -> None:
        """Take back the attempts ``record`` returned these ids for."""
        await self._col.delete_many({"_id": {"$in": list(ids)}})

    async def clear(self, keys: Sequence[str]) -> None:
        await self._col.delete_many({"key": {"$in": list(keys)}})
