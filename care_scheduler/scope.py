"""What a manager may see: their own customers (city), their cities' customers (province), all (group).

Anything outside the scope is answered with 404, exactly as if it did not exist,
so the console never confirms that another manager's customer or ticket exists.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Optional

from carecore.model import AccountManager, Customer
from carecore.repository import Database


@dataclass(frozen=True)
class Scope:
    manager: AccountManager
    manager_ids: Optional[frozenset]  # None: every customer (group level)

    @classmethod
    async def of(cls, db: Database, manager: AccountManager) -> Scope:
        if manager.level == "group":
            return cls(manager, None)
        ids = {manager.id}
        if manager.level == "province":
            ids |= {m.id for m in await db.managers.subordinates(manager.id)}
        return cls(manager, frozenset(ids))

    def covers(self, customer: Optional[Customer]) -> bool:
        return customer is not None and (self.manager_ids is None or customer.account_manager_id in self.manager_ids)

    async def customer_ids(self, db: Database) -> Optional[List[str]]:
        """The customers in scope, or None for all of them."""
        return await db.customers.ids_in_scope(self.manager_ids)
