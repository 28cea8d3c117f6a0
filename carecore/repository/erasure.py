"""Erasing one contact at their request (China's personal-information law), everywhere the product keeps them.

Their record goes; their past messages stay as counts without number or body (an unfinished one is
suppressed, so it is never sent); their name and number are replaced in ticket, escalation and
conversation text (live and archived: chats verified as them, and chats where their number was
typed), in visit notes and in compliments, an SMS or portal-chat conversation (whose id carries their
number) is deleted, their one-time codes and failed import rows go, and audit entries about them keep
what happened but not the values.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Dict, List, Optional, Pattern

from motor.motor_asyncio import AsyncIOMotorDatabase

from carecore.model import UNFINISHED_VALUES
from carecore.repository.audit import AuditRepository
from carecore.repository.transcripts import ARCHIVE, CONVERSATIONS

ERASED = "[已删除]"


def number_pattern(mobile: str) -> str:
    """The number as people write it (+86, 0086, spaced or dashed); valid in Python and in MongoDB."""
    digits = mobile[3:] if mobile.startswith("+86") else mobile.lstrip("+")
    return r"(?:\+?86|0086)?[\s-]*" + r"[\s-]*".join(re.escape(d) for d in digits)


def pattern_for(name: str, mobile: str) -> Pattern[str]:
    """The contact's name, and their number as people write it."""
    parts = [number_pattern(mobile)] + ([re.escape(name)] if len(name) >= 2 else [])
    return re.compile("|".join(parts))


def _scrub(value: Any, pattern: Pattern[str]) -> Any:
    if isinstance(value, str):
        return pattern.sub(ERASED, value)
    if isinstance(value, list):
        return [_scrub(v, pattern) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, pattern) for k, v in value.items()}
    return value


async def erase_contact(db: AsyncIOMotorDatabase, contact_id: str, *, at: datetime, source: str, actor: str,
                        reason: Optional[str]) -> Optional[Dict[str, int]]:
    """Erase the contact; what was erased, by kind, or None when there is no such contact."""
    customer = await db.customers.find_one({"contacts.contact_id": contact_id}, {"contacts.$": 1})
    if customer is None:
        return None
    contact = customer["contacts"][0]
    mobile, pattern = contact["mobile"], pattern_for(contact["name"], contact["mobile"])
    counts: Dict[str, int] = {}
    await db.customers.update_one({"_id": customer["_id"]},
                                  {"$pull": {"contacts": {"contact_id": contact_id}}, "$set": {"updated_at": at}})
    theirs = {"$or": [{"contact_id": contact_id}, {"to": mobile}]}
    await db.sends.update_many({**theirs, "status": {"$in": list(UNFINISHED_VALUES)}},
                               {"$set": {"status": "suppressed", "suppressed_reason": "erased", "lease_until": None},
                                "$push": {"history": {"status": "suppressed", "at": at}}})
    result = await db.sends.update_many(theirs, {"$unset": {"to": "", "body": ""}, "$set": {"erased_at": at}})
    counts["messages"] = result.modified_count
    counts["tickets"] = await _scrub_all(db.tickets, {"customer_id": customer["_id"]}, ("text", "history"), pattern)
    counts["escalations"] = await _scrub_all(db.escalations, {"contact_id": contact_id}, ("summary",), pattern)
    await db.visits.update_many({"contact_ids": contact_id}, {"$pull": {"contact_ids": contact_id}})
    counts["visits"] = await _scrub_all(db.visits, {"customer_id": customer["_id"]}, ("notes", "next_step"), pattern)
    counts["compliments"] = await _scrub_all(db.compliments, {"customer_id": customer["_id"]}, ("text",), pattern)
    bound_to_number = {"sender_id": {"$regex": f"^(?:sms|portal):{re.escape(mobile)}[:.]"}}
    for cases in (db.escalations, db.tickets):  # the conversation id names the number
        await cases.update_many({"contact_id": contact_id, **bound_to_number},
                                [{"$set": {"sender_id": {"$concat": ["erased:", "$_id"]}}}])
    counts["conversations"] = (await db[CONVERSATIONS].delete_many(bound_to_number)).deleted_count
    await db[ARCHIVE].delete_many(bound_to_number)
    # Chats verified as them, and chats where their number was typed, verified or not (a scan: erasures are rare).
    their_chats = {"$or": [
        {"events": {"$elemMatch": {"event": "slot", "name": "contact_id", "value": contact_id}}},
        {"events": {"$elemMatch": {"event": "user", "text": {"$regex": number_pattern(mobile)}}}}]}
    counts["conversations"] += await _scrub_all(db[CONVERSATIONS], their_chats, ("events", "slots"), pattern)
    await _scrub_all(db[ARCHIVE], their_chats, ("events",), pattern)
    await db.otp_challenges.delete_many({"$or": [{"mobile": mobile}, {"contact_id": contact_id}]})
    await db.import_errors.delete_many({"$or": [{"cells.contact_id": contact_id}, {"cells.联系人编号": contact_id}]})
    await db.audit_log.update_many({"entity": "contact", "entity_id": contact_id}, {"$set": {"changes": {}}})
    await AuditRepository(db).record([{
        "at": at, "source": source, "actor": actor, "entity": "contact", "entity_id": contact_id,
        "customer_id": customer["_id"], "action": "erased", "note": reason, "counts": counts}])
    return counts


async def _scrub_all(collection: Any, query: Dict[str, Any], fields: tuple, pattern: Pattern[str]) -> int:
    """Replace the pattern in the named fields of every matching document; how many changed."""
    changed = 0
    updates: List[Any] = []
    async for doc in collection.find(query, {f: 1 for f in fields}):
        new = {f: _scrub(doc[f], pattern) for f in fields if f in doc}
        if any(new[f] != doc[f] for f in new):
            updates.append((doc["_id"], new))
    for doc_id, new in updates:
        await collection.update_one({"_id": doc_id}, {"$set": new})
        changed += 1
    return changed
