"""Managers' own accounts, kept by their supervisors: set-password links, leavers and their successors.

Imported managers have no password. A supervisor issues a one-time link (valid ``LINK_VALID``, kept
only as a hash), deactivates a leaver (no login, and every open console session ends at its next
request), and hands a leaver's customers, open tickets and escalations to another manager. Every
step is in the audit log.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Dict, List, Optional

from care_scheduler.scope import Scope
from carecore.clock import Clock
from carecore.config import Settings
from carecore.model import AccountManager, ChangeSource, TicketEvent
from carecore.passwords import hash_password
from carecore.repository import Database

LINK_VALID = timedelta(hours=24)


class NotYours(LookupError):
    """The manager is not one this supervisor keeps (or is the supervisor): answered like a missing one."""


class LinkInvalid(ValueError):
    """A set-password link that is unknown, used, expired, or of a deactivated manager."""


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass
class Team:
    db: Database
    settings: Settings
    clock: Clock

    async def members(self, scope: Scope) -> List[AccountManager]:
        """The managers a supervisor keeps: everyone below them in their scope."""
        managers = await self.db.managers.all()
        return [m for m in managers if m.id != scope.manager.id
                and (scope.manager_ids is None or m.id in scope.manager_ids)]

    async def member(self, scope: Scope, manager_id: str) -> AccountManager:
        found = next((m for m in await self.members(scope) if m.id == manager_id), None)
        if found is None:
            raise NotYours(manager_id)
        return found

    async def password_link(self, scope: Scope, manager_id: str) -> str:
        member = await self.member(scope, manager_id)
        token = secrets.token_urlsafe(32)
        now = self.clock.now()
        await self.db.managers.set_reset_token(member.id, token_hash(token), now + LINK_VALID)
        await self._audit(scope, member.id, "password_link", {}, f"valid until {now + LINK_VALID:%Y-%m-%d %H:%M}")
        return f"{self.settings.console_url.rstrip('/')}/set-password?token={token}"

    async def set_password(self, token: str, password: str) -> AccountManager:
        """Spend a link on a new password; ``WeakPassword`` or ``LinkInvalid`` say why not."""
        hashed = hash_password(password)
        manager = await self.db.managers.use_reset_token(token_hash(token), self.clock.now(), hashed)
        if manager is None:
            raise LinkInvalid("this link is unknown, used or expired; ask your supervisor for a new one")
        await self.db.audit.record([{"at": self.clock.now(), "source": ChangeSource.console, "actor": manager.id,
                                     "entity": "manager", "entity_id": manager.id, "action": "password_set"}])
        return manager

    async def set_active(self, scope: Scope, manager_id: str, active: bool) -> None:
        member = await self.member(scope, manager_id)
        if member.active != active:
            await self.db.managers.set_active(member.id, active)
            await self._audit(scope, member.id, "activated" if active else "deactivated",
                              {"active": [member.active, active]})

    async def reassign(self, scope: Scope, leaver_id: str, successor_id: str) -> Dict[str, int]:
        """Hand everything of a leaver to a successor in the same scope; the counts of what moved."""
        leaver, successor = await self.member(scope, leaver_id), await self.member(scope, successor_id)
        if successor.id == leaver.id or not successor.active:
            raise NotYours(successor_id)
        now = self.clock.now()
        customers = await self.db.customers.reassign(leaver.id, successor.id, now)
        tickets = await self.db.tickets.open_for_customers(customers, limit=100_000) if customers else []
        for ticket in tickets:
            await self.db.tickets.add_event(ticket.id, TicketEvent(
                at=now, actor=scope.manager.id, action="reassigned", note=f"{leaver.id} → {successor.id}"))
        escalations = await self.db.escalations.reassign_open(leaver.id, successor.id, now)
        entries: List[Dict[str, Any]] = [
            {"at": now, "source": ChangeSource.console, "actor": scope.manager.id, "entity": "customer",
             "entity_id": customer_id, "customer_id": customer_id, "action": "reassigned",
             "changes": {"account_manager_id": [leaver.id, successor.id]}} for customer_id in customers]
        counts = {"customers": len(customers), "tickets": len(tickets), "escalations": escalations}
        await self.db.audit.record(entries)
        await self._audit(scope, leaver.id, "reassigned", {"account_manager_id": [leaver.id, successor.id]},
                          f"{counts}")
        return counts

    async def _audit(self, scope: Scope, manager_id: str, action: str, changes: Dict[str, Any],
                     note: Optional[str] = None) -> None:
        await self.db.audit.record([{"at": self.clock.now(), "source": ChangeSource.console,
                                     "actor": scope.manager.id, "entity": "manager", "entity_id": manager_id,
                                     "action": action, "changes": changes, "note": note}])
