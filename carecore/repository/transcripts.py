"""A conversation as its account manager reads it, oldest first; and conversations forgotten when old.

Rasa's tracker store keeps a conversation's events in ``conversations``; ``bot.tracker_store`` moves ended
sessions and the start of long ones to ``conversation_archive``. The live document is read first, and the
archive, newest chunk first, only for the lines it lacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Dict, Iterable, List, Optional, Tuple

from motor.motor_asyncio import AsyncIOMotorDatabase

from carecore.identity import codes_hidden
from carecore.model import OPEN_ESCALATION_STATUSES

CONVERSATIONS = "conversations"  # Rasa's tracker store collection (endpoints.yml)
ARCHIVE = "conversation_archive"  # their earlier events (bot/tracker_store.py)
SPEAKERS = {"user": "customer", "bot": "assistant"}


@dataclass(frozen=True)
class TranscriptLine:
    at: datetime
    speaker: str  # "customer" or "assistant"
    text: str


def _lines(events: Iterable[Any], until: Optional[float],
           session_only: bool = False) -> Tuple[List[TranscriptLine], bool]:
    """The lines said by ``until``; with ``session_only``, only those after the last session start by then, and
    whether there was one."""
    lines: List[TranscriptLine] = []
    started = False
    for e in codes_hidden(events):
        if not isinstance(e, dict) or (until is not None and float(e.get("timestamp") or 0) > until):
            continue
        if session_only and e.get("event") == "session_started":
            lines, started = [], True
        elif e.get("event") in SPEAKERS and isinstance(e.get("text"), str) and e["text"].strip():
            lines.append(TranscriptLine(datetime.fromtimestamp(float(e.get("timestamp") or 0), timezone.utc),
                                        SPEAKERS[e["event"]], e["text"].strip()))
    return lines, started


class TranscriptRepository:
    def __init__(self, db: AsyncIOMotorDatabase) -> None:
        self._live = db[CONVERSATIONS]
        self._archive = db[ARCHIVE]
        self._escalations = db["escalations"]

    async def last_lines(self, sender_id: str, limit: int = 60, until: Optional[datetime] = None,
                         session_only: bool = False) -> List[TranscriptLine]:
        """The conversation's last ``limit`` lines (said by ``until``, when given: what led to a ticket; and with
        ``session_only``, in the session then under way, not in earlier visits); none for an unknown or erased
        conversation."""
        end = None if until is None else until.timestamp()
        live = await self._live.find_one({"sender_id": sender_id}, {"events": 1})
        lines, started = _lines((live or {}).get("events") or [], end, session_only)
        if len(lines) < limit and not started:
            # Chunk ids and start times only, sorted here: a long-lived SMS conversation may have many.
            chunks = [c async for c in self._archive.find({"sender_id": sender_id}, {"first_timestamp": 1})]
            chunks.sort(key=lambda c: c.get("first_timestamp") or 0, reverse=True)
            for chunk in chunks:
                if end is not None and float(chunk.get("first_timestamp") or 0) > end:
                    continue  # begun after it
                found = await self._archive.find_one({"_id": chunk["_id"]}, {"events": 1})
                earlier, started = _lines((found or {}).get("events") or [], end, session_only)
                lines = earlier + lines
                if len(lines) >= limit or started:
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
