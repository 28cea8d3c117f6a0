"""Account managers: their book, their chain of supervisors, their console passwords."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Dict, Iterable, List, Optional

from pymongo import ReturnDocument

from carecore.model import AccountManager, acting_manager, answering_manager
from carecore.repository.base import RecordRepository, insert_many_skipping_duplicates
from carecore.repository.errors import validated, write_errors


class ManagerRepository(RecordRepository[AccountManager]):
    collection_name = "account_managers"
    model = AccountManager

    async def insert(self, data: Any) -> AccountManager:
        manager = validated(AccountManager, self.collection_name, data)
        async with write_errors(self.collection_name):
            await self._col.insert_one(manager.to_mongo())
        return manager

    async def insert_many(self, docs: Iterable[Any]) -> List[str]:
        batch = [validated(AccountManager, self.collection_name, d).to_mongo() for d in docs]
        return await insert_many_skipping_duplicates(self._col, batch) if batch else []

    async def subordinates(self, manager_id: str) -> List[AccountManager]:
        cursor = self._col.find({"supervisor_id": manager_id}).sort("_id", 1)
        return [AccountManager.parse_obj(doc) async for doc in cursor]

    async def all(self) -> List[AccountManager]:
        return [AccountManager.parse_obj(doc) async for doc in self._col.find().sort("_id", 1)]

    async def set_password_hash(self, manager_id: str, password_hash: str, *, only_if_unset: bool = False) -> bool:
        query: Dict[str, Any] = {"_id": manager_id}
        if only_if_unset:
            query["password_hash"] = None
        result = await self._col.update_one(query, {"$set": {"password_hash": password_hash}})
        return result.matched_count == 1

    async def set_active(self, manager_id: str, active: bool) -> bool:
        result = await self._col.update_one({"_id": manager_id}, {"$set": {"active": active}})
        return result.matched_count == 1

    async def set_reset_token(self, manager_id: str, token_hash: str, expires_at: datetime) -> bool:
        result = await self._col.update_one({"_id": manager_id},
                                            {"$set": {"reset_token_hash": token_hash, "reset_expires_at": expires_at}})
        return result.matched_count == 1

    async def use_reset_token(self, token_hash: str, now: datetime, password_hash: str) -> Optional[AccountManager]:
        """Set the password of the active manager holding this unexpired token, and spend the token."""
        doc = await self._col.find_one_and_update(
            {"reset_token_hash": token_hash, "reset_expires_at": {"$gt": now}, "active": {"$ne": False}},
            {"$set": {"password_hash": password_hash}, "$unset": {"reset_token_hash": "", "reset_expires_at": ""}},
            return_document=ReturnDocument.AFTER)
        return AccountManager.parse_obj(doc) if doc else None

    async def chain(self, manager_id: str) -> List[AccountManager]:
        """The manager and each supervisor above, city first, group last."""
        chain: List[AccountManager] = []
        current = await self.get(manager_id)
        while current is not None and len(chain) < 5:
            chain.append(current)
            current = await self.get(current.supervisor_id) if current.supervisor_id else None
        return chain

    async def answering(self, manager_id: str, about: Optional[str] = None) -> Optional[AccountManager]:
        """Who answers a case on ``manager_id``'s accounts (``answering_manager``)."""
        chains = await self.chain(manager_id) + (await self.chain(about) if about else [])
        return answering_manager(manager_id, about, {m.id: m for m in chains})

    async def acting(self, manager_id: str) -> Optional[AccountManager]:
        """The manager answering for ``manager_id``'s accounts (``acting_manager``): them, or their nearest
        active supervisor while they are deactivated."""
        return acting_manager(manager_id, {m.id: m for m in await self.chain(manager_id)})
