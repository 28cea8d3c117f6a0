"""A conversation as its account manager reads it, oldest first; and conversations forgotten when old.

Rasa's tracker store keeps a conversation's events in ``conversations``; ``bot.tracker_store`` moves ended
sessions and the start of long ones to ``conversation_archive``. The live document is read first, and the
archive, newest chunk first, only for the lines it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional

from motor.motor_asyncio import AsyncIOMotorDatabase

from carecore.model import OPEN_ESCALATION_STATUSES

CONVERSATIONS = "conversations"  # Rasa's tracker store collection (endpoints.yml)
ARCHIVE = "conversation_archive"  # their earlier events (bot/tracker_store.py)
SPEAKERS = {"user": "customer", "bot": "assistant"}


@dataclass(frozen=True)
class TranscriptLine:
    at: datetime
    speaker: str  # "customer" or "assistant"
    text: str


def _lines(events: Iterable[Any], until: Optional[float]) -> List[TranscriptLine]:
    return [TranscriptLine(datetime.fromtimestamp(float(e.get("timestamp") or 0), timezone.utc),
                           SPEAKERS[e["event"]], e["text"].strip())
            for e in events
            if isinstance(e, dict) and e.get("event") in SPEAKERS and isinstance(e.get("text"), str)
            and e["text"].strip() and (until is None or float(e.get("timestamp") or 0) <= until)]


class TranscriptRepository:
    def __init__(self, db: AsyncIOMotorDatabase) -> None:
        self._live = db[CONVERSATIONS]
        self._archive = db[ARCHIVE]
        self._escalations = db["escalations"]

    async def last_lines(self, sender_id: str, limit: int = 60,
                         until: Optional[datetime] = None) -> List[TranscriptLine]:
        """The conversation's last ``limit`` lines (said by ``until``, when given: what led to a ticket);
        none for an unknown or erased conversation."""
        end = None if until is None else until.timestamp()
        live = await self._live.find_one({"sender_id": sender_id}, {"events": 1})
        lines = _lines((live or {}).get("events") or [], end)
        if len(lines) < limit:
            # Chunk ids and start times only, sorted here: a long-lived SMS conversation may have many.
            chunks = [c async for c in self._archive.find({"sender_id": sender_id}, {"first_timestamp": 1})]
            chunks.sort(key=lambda c: c.get("first_timestamp") or 0, reverse=True)
            for chunk in chunks:
                if end is not None and float(chunk.get("first_timestamp") or 0) > end:
                    continue  # begun after it
                found = await self._archive.find_one({"_id": chunk["_id"]}, {"events": 1})
                lines = _lines((found or {}).get("events") or [], end) + lines
                if len(lines) >= limit:
                    break
        return lines[-limit:]

    async def forget_before(self, cutoff: datetime) -> Dict[str, int]:
        """Delete conversations whose last event, and archived chunks whose last event, came before ``cutoff``.

        A conversation paused for an open escalation stays: its manager has yet to read it and hand it back.
        """
        paused = await self._escalations.distinct("sender_id", {"status": {"$in": list(OPEN_ESCALATION_STATUSES)}})
        before = cutoff.timestamp()
        live = await self._live.delete_many({"latest_event_time": {"$lt": before}, "sender_id": {"$nin": paused}})
        archived = await self._archive.delete_many({"last_timestamp": {"$lt": before}, "sender_id": {"$nin": paused}})
        return {"conversations": live.deleted_count, "archive_chunks": archived.deleted_count}
