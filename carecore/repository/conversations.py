"""What the assistant's KPIs count: one record per conversation session, marked by the actions as it goes."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Optional

import pymongo

from carecore.model import AssistantSession
from carecore.repository.base import Repository
from carecore.repository.errors import validated, write_errors


class AssistantSessionRepository(Repository):
    collection_name = "assistant_sessions"

    async def start(self, sender_id: str, started_at: datetime, *, channel: Optional[str],
                    customer_id: Optional[str] = None, manager_id: Optional[str] = None) -> None:
        session = validated(AssistantSession, self.collection_name, {
            "_id": f"{sender_id}@{started_at.isoformat()}", "sender_id": sender_id, "channel": channel,
            "started_at": started_at, "customer_id": customer_id, "manager_id": manager_id})
        async with write_errors(self.collection_name):
            await self._col.update_one({"_id": session.id}, {"$setOnInsert": session.to_mongo()}, upsert=True)

    async def mark(self, sender_id: str, *, inc: Optional[Dict[str, int]] = None,
                   set_fields: Optional[Dict[str, Any]] = None) -> None:
        """Mark the sender's latest session (escalated, a fallback, a verification started or passed)."""
        update: Dict[str, Any] = {}
        if inc:
            update["$inc"] = inc
        if set_fields:
            update["$set"] = set_fields
        if not update:
            return
        await self._col.find_one_and_update({"sender_id": sender_id}, update,
                                            sort=[("started_at", pymongo.DESCENDING)])
