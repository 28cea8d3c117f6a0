"""Rasa's Mongo tracker store, made to fail fast when MongoDB is away and to keep conversations short.

Rasa's store calls a synchronous pymongo client on the server's event loop, with 30 s server
selection: one message during a MongoDB restart would freeze every conversation. With short
timeouts the channel answers "try again" within a second. The ``tracker_saves`` speed patch also
moves the driver calls to worker threads and appends a save's new events by the stored length last read.

Rasa keeps every event of a conversation in one document and reads it whole on every message, and
its policies and the action server go through the whole session each turn: a conversation's cost per
message grew with its length, and an SMS conversation (one id per number, forever) toward MongoDB's
16 MB limit. When a conversation is read, the events of its ended sessions move to
``conversation_archive``; when its session has more than ``max_live_events`` events, so do all but
its last ``keep_turns`` turns, and a few events restore the state they left (slots, including
verification, an active form, a pause). The policies look back five turns, so they predict as before.
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import threading
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, List, Optional, Tuple, TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import MongoTrackerStore
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, ActiveLoop, ConversationPaused, Event, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker, EventVerbosity

from carecore.repository import DatabaseError
from carecore.repository.transcripts import ARCHIVE

DEFAULT_TIMEOUT_MS = 1000
_fast = False


def fast_saves(on: bool) -> None:
    """Turn the ``tracker_saves`` speed patch on or off (``bot.rasa_compat`` does)."""
    global _fast
    _fast = on

# Conversations whose stored length this store remembers (the most recently read ones).
REMEMBERED_CONVERSATIONS = 10_000
MAX_LIVE_EVENTS = 120
KEEP_TURNS = 5
T = TypeVar("T")


def with_timeouts(uri: str, timeout_ms: int) -> str:
    """The URI with server-selection, connect and socket timeouts, unless it sets them itself."""
    parts = urlsplit(uri)
    options = dict(parse_qsl(parts.query))
    for name, value in (("serverSelectionTimeoutMS", timeout_ms), ("connectTimeoutMS", timeout_ms),
                        ("socketTimeoutMS", timeout_ms * 5)):
        options.setdefault(name, str(value))
    return urlunsplit((parts.scheme, parts.netloc, parts.path or "/", urlencode(options), parts.fragment))


class ConversationStoreUnavailable(BaseException):
    """MongoDB did not answer for a conversation.

    A ``BaseException`` on purpose: Rasa's ``FailSafeTrackerStore`` swallows ``Exception`` and carries on
    with an empty conversation, answering a verified customer as a stranger. This reaches the channel,
    which answers "please send it again".
    """


class FastFailMongoTrackerStore(MongoTrackerStore):
    def __init__(self, domain: Domain, host: Optional[str] = "mongodb://localhost:27017",
                 db: Optional[str] = "rasa", *, timeout_ms: int = DEFAULT_TIMEOUT_MS,
                 max_live_events: int = MAX_LIVE_EVENTS, keep_turns: int = KEEP_TURNS,
                 event_broker: Optional[EventBroker] = None, **kwargs: Any) -> None:
        super().__init__(domain, host=with_timeouts(host or "mongodb://localhost:27017", int(timeout_ms)), db=db,
                         event_broker=event_broker, **kwargs)
        self.max_live_events, self.keep_turns = int(max_live_events), int(keep_turns)
        self.archive = self.db[ARCHIVE]
        self.archive.create_index("sender_id")
        # sender id -> (events in the stored document, of which since its last session start), as last
        # read or written here: what a save needs to know which of the tracker's events are new.
        self._lengths: OrderedDict[str, Tuple[int, int]] = OrderedDict()
        self._lengths_lock = threading.Lock()  # the driver calls run in worker threads

    async def _retrieve(self, sender_id: str, fetch_events_from_all_sessions: bool) -> Optional[List[Dict[str, Any]]]:
        if not _fast:
            events = await _or_unavailable(super()._retrieve(sender_id, fetch_events_from_all_sessions))
        else:
            events = await self._off_loop(self._stored_events, sender_id, fetch_events_from_all_sessions)
        if events and not fetch_events_from_all_sessions and self._may_roll_over(sender_id, events):
            return await self._off_loop(self._roll_over, sender_id, events)
        return events

    def _may_roll_over(self, sender_id: str, in_session: List[Dict[str, Any]]) -> bool:
        """Whether the session is long, or the document may hold ended sessions (checked when read)."""
        if len(in_session) > self.max_live_events:
            return True
        with self._lengths_lock:
            known = self._lengths.get(sender_id)
        # Before a session's events come its action_session_start and, in a new conversation, a first
        # action_listen: more than that is an ended session.
        return known is None or known[0] > len(in_session) + 2

    def _roll_over(self, sender_id: str, in_session: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
        """Archive the ended sessions and, in a long session, all but its last ``keep_turns`` turns; the
        events to load instead.

        A session is cut only between turns (its last event a listen), and nothing is moved if the
        document was written meanwhile: the conversation is then loaded as stored, and moved on a later read.
        """
        stored = (self.conversations.find_one({"sender_id": sender_id}, {"events": 1}) or {}).get("events", [])
        offset = len(stored) - len(in_session)
        if offset < 0 or stored[offset:] != in_session:
            return in_session
        cut = self._cut(in_session) if len(in_session) > self.max_live_events else 0
        if offset + cut == 0:
            self._remember(sender_id, len(stored), len(in_session))
            return in_session
        archived = stored[:offset + cut]
        live = ([e.as_dict() for e in self._restoring(sender_id, in_session[:cut])] if cut else []) + in_session[cut:]
        chunk = hashlib.sha256(f"{sender_id}|{archived[0].get('timestamp')}|{len(archived)}".encode()).hexdigest()
        self.archive.update_one({"_id": chunk}, {"$setOnInsert": {
            "sender_id": sender_id, "first_timestamp": archived[0].get("timestamp"),
            "last_timestamp": archived[-1].get("timestamp"), "archived_at": time.time(), "events": archived}},
            upsert=True)
        replaced = self.conversations.update_one(
            {"sender_id": sender_id, "$expr": {"$eq": [{"$size": {"$ifNull": ["$events", []]}}, len(stored)]}},
            {"$set": {"events": live}})
        if replaced.matched_count != 1:  # written meanwhile: the archived events are still live
            self.archive.delete_one({"_id": chunk})
            self._forget(sender_id)
            return in_session
        self._remember(sender_id, len(live), len(live))
        return live

    def _cut(self, in_session: List[Dict[str, Any]]) -> int:
        """Where the session's last ``keep_turns`` turns begin; 0 when it cannot be cut now."""
        users = [i for i, event in enumerate(in_session) if event.get("event") == UserUttered.type_name]
        last = in_session[-1]
        between_turns = last.get("event") == ActionExecuted.type_name and last.get("name") == ACTION_LISTEN_NAME
        return users[-self.keep_turns] if between_turns and len(users) > self.keep_turns else 0

    def _restoring(self, sender_id: str, earlier: List[Dict[str, Any]]) -> List[Event]:
        """Events that bring a new tracker to the state ``earlier`` left, stamped when it ended."""
        tracker = DialogueStateTracker.from_dict(sender_id, earlier, self.domain.slots)
        stamp = {"timestamp": earlier[-1].get("timestamp"), "metadata": {"restored": True}}
        restoring: List[Event] = [SlotSet(slot.name, slot.value, **stamp) for slot in tracker.slots.values()
                                  if slot.value != slot.initial_value]
        if tracker.active_loop_name:
            restoring.append(ActiveLoop(tracker.active_loop_name, **stamp))
        if tracker.is_paused():
            restoring.append(ConversationPaused(**stamp))
        restoring.append(ActionExecuted(ACTION_LISTEN_NAME, **stamp))
        return restoring

    async def save(self, tracker: DialogueStateTracker) -> None:
        if not _fast:
            return await _or_unavailable(super().save(tracker))
        await self.stream_events(tracker)
        await self._off_loop(self._write, tracker)

    @staticmethod
    async def _off_loop(call: Callable[..., T], *args: Any) -> T:
        """Run a pymongo call in a worker thread: the server keeps answering other conversations meanwhile."""
        try:
            return await asyncio.to_thread(call, *args)
        except DatabaseError as exc:
            raise ConversationStoreUnavailable(str(exc)) from exc

    def _stored_events(self, sender_id: str, all_sessions: bool) -> Optional[List[Dict[str, Any]]]:
        """Rasa's ``_retrieve`` without its migration of pre-3.0 integer sender ids (this store never had any)."""
        stored = self.conversations.find_one({"sender_id": sender_id})
        if not stored:
            self._forget(sender_id)
            return None
        events = self._events_from_serialized_tracker(stored)
        if all_sessions:  # a tracker of every session: its saves take the read-back, as in Rasa's store
            self._forget(sender_id)
            return events
        in_session = self._events_since_last_session_start(events)
        self._remember(sender_id, len(events), len(in_session))
        return in_session

    def _write(self, tracker: DialogueStateTracker) -> None:
        """Rasa's ``save``: the conversation's state, and the events not stored yet appended.

        The update applies only if the stored events still number what this store last saw; a write from
        elsewhere in between sends it Rasa's own way (count the stored events, then append the rest).
        """
        state = self._current_tracker_state_without_events(tracker)
        with self._lengths_lock:
            known = self._lengths.get(tracker.sender_id)
        if known is not None:
            stored, in_session = known
            new_events = [event.as_dict() for event in itertools.islice(tracker.events, in_session, None)]
            result = self.conversations.update_one(
                {"sender_id": tracker.sender_id, "$expr": {"$eq": [{"$size": {"$ifNull": ["$events", []]}}, stored]}},
                {"$set": state, "$push": {"events": {"$each": new_events}}},
            )
            if result.matched_count == 1:
                self._remember(tracker.sender_id, stored + len(new_events), len(tracker.events))
                return
        stored_types = self._stored_event_types(tracker.sender_id)
        stored_in_session = len(self._events_since_last_session_start(stored_types))
        additional_events = [event.as_dict() for event in
                             itertools.islice(tracker.events, stored_in_session, len(tracker.events))]
        self.conversations.update_one(
            {"sender_id": tracker.sender_id},
            {"$set": state, "$push": {"events": {"$each": additional_events}}},
            upsert=True,
        )
        self._remember(tracker.sender_id, len(stored_types) + len(additional_events),
                       stored_in_session + len(additional_events))

    def _remember(self, sender_id: str, stored: int, in_session: int) -> None:
        with self._lengths_lock:
            self._lengths[sender_id] = (stored, in_session)
            self._lengths.move_to_end(sender_id)
            while len(self._lengths) > REMEMBERED_CONVERSATIONS:
                self._lengths.popitem(last=False)

    def _forget(self, sender_id: str) -> None:
        with self._lengths_lock:
            self._lengths.pop(sender_id, None)

    @staticmethod
    def _current_tracker_state_without_events(tracker: DialogueStateTracker) -> Dict[str, Any]:
        state = tracker.current_state(EventVerbosity.NONE)
        state.pop("events", None)
        return state

    def _stored_event_types(self, sender_id: str) -> List[Dict[str, Any]]:
        stored = self.conversations.find_one({"sender_id": sender_id}, projection={"_id": 0, "events.event": 1}) or {}
        return self._events_from_serialized_tracker(stored)


async def _or_unavailable(call: Awaitable[T]) -> T:
    try:
        return await call
    except DatabaseError as exc:
        raise ConversationStoreUnavailable(str(exc)) from exc
