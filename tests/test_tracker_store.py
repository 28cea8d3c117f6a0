"""Rasa's Mongo tracker store with short timeouts, failing past Rasa's fail-safe wrapper, and its fast saves."""

from __future__ import annotations

import uuid
from typing import Iterator

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot import rasa_compat
from bot.tracker_store import FastFailMongoTrackerStore, with_timeouts
from localrun.mongod import free_port
from tests.stack import ROOT


def test_endpoints_load_the_fast_failing_mongo_tracker_store(mongo_uri: str, endpoints_env: pytest.MonkeyPatch) -> None:
    endpoints_env.setenv("MONGODB_URI", mongo_uri)
    endpoints_env.setenv("MONGODB_DB", f"tracker_{uuid.uuid4().hex[:6]}")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(endpoint, Domain.empty())
    assert isinstance(store, FastFailMongoTrackerStore)  # Rasa silently falls back to memory on a bad path
    options = store.client.options
    assert options.server_selection_timeout == 1.0 and options.pool_options.connect_timeout == 1.0
    store.client.close()


def test_timeouts_keep_what_the_uri_already_says() -> None:
    uri = with_timeouts("mongodb://h:1/?replicaSet=rs0&serverSelectionTimeoutMS=300", 1000)
    assert "replicaSet=rs0" in uri and "serverSelectionTimeoutMS=300" in uri and "connectTimeoutMS=1000" in uri


@pytest.mark.parametrize("patches", ["none", "tracker_saves"])
async def test_an_unreachable_store_is_reported_past_rasas_fail_safe_wrapper(mongo_uri: str, patches: str) -> None:
    """Rasa's FailSafeTrackerStore would answer a verified customer as a stranger; ours must not let it."""
    import pymongo
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.tracker_store import ConversationStoreUnavailable

    inner = FastFailMongoTrackerStore(Domain.empty(), host=mongo_uri, db="x", timeout_ms=200)
    inner.client.close()
    inner.client = pymongo.MongoClient(f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=200)
    inner.db = inner.client["x"]  # MongoDB gone after start-up
    store = FailSafeTrackerStore(inner)
    rasa_compat.install(patches)
    try:
        with pytest.raises(ConversationStoreUnavailable):
            await store.retrieve("web-1")
        with pytest.raises(ConversationStoreUnavailable):
            await store.save(DialogueStateTracker("web-1", []))
    finally:
        rasa_compat.uninstall()
        inner.client.close()


@pytest.fixture
def fast_saves() -> Iterator[None]:
    """The tracker_saves speed patch, as ``python -m bot`` installs it; Rasa's own code afterwards."""
    rasa_compat.install("tracker_saves")
    yield
    rasa_compat.uninstall()


async def test_the_store_writes_what_rasas_own_mongo_store_writes(mongo_uri: str, fast_saves: None) -> None:
    """Cheaper saves, same document: two saves, then a new session in the same conversation, whose read
    moves the ended session to the archive."""
    from rasa.core.tracker_store import MongoTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

    domain = Domain.from_dict({"intents": ["greet"], "slots": {"language": {"type": "text", "mappings": []}}})
    database = f"trk_{uuid.uuid4().hex[:6]}"
    ours = FastFailMongoTrackerStore(domain, host=mongo_uri, db=database, collection="ours")
    rasas = MongoTrackerStore(domain, host=mongo_uri, db=database, collection="rasas")
    turns = [
        [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen"),
         UserUttered("你好", {"name": "greet", "confidence": 0.9}, timestamp=1.0)],
        [SlotSet("language", "zh", timestamp=2.0), ActionExecuted("utter_greet", timestamp=3.0)],
        [ActionExecuted("action_session_start", timestamp=4.0), SessionStarted(timestamp=5.0),
         UserUttered("hi", {"name": "greet", "confidence": 0.8}, timestamp=6.0)],
    ]
    for store in (ours, rasas):
        tracker = await store.get_or_create_tracker("web-9")
        for events in turns:
            for event in events:
                tracker.update(event)
            await store.save(tracker)
            tracker = await store.retrieve("web-9")
    documents = [store.conversations.find_one({"sender_id": "web-9"}, projection={"_id": 0}) for store in (ours, rasas)]
    documents[0]["events"] = [e for chunk in ours.archive.find({"sender_id": "web-9"}).sort("archived_at")
                              for e in chunk["events"]] + documents[0]["events"]
    for document in documents:  # the store stamps the conversation's first action_listen itself
        document["events"][0].pop("timestamp")
    assert documents[0] == documents[1]
    assert [e["event"] for e in documents[0]["events"]].count("session_started") == 2
    assert documents[0]["slots"]["language"] is None  # the new session started without it
    ours.client.drop_database(database)
    ours.client.close()
    rasas.client.close()


def _greeting_domain() -> Domain:
    return Domain.from_dict({"intents": ["greet"], "slots": {"language": {"type": "text", "mappings": []}}})


def _turn(text: str, at: float) -> list:
    from rasa.shared.core.events import ActionExecuted, UserUttered

    return [UserUttered(text, {"name": "greet", "confidence": 0.9}, timestamp=at),
            ActionExecuted("utter_greet", timestamp=at + 0.5), ActionExecuted("action_listen", timestamp=at + 0.6)]


async def test_a_save_after_a_read_appends_without_reading_the_conversation_back(
        mongo_uri: str, monkeypatch: pytest.MonkeyPatch, fast_saves: None) -> None:
    """The stored length seen at the read says which events are new: no second read per message."""
    database = f"trk_{uuid.uuid4().hex[:6]}"
    store = FastFailMongoTrackerStore(_greeting_domain(), host=mongo_uri, db=database)
    tracker = await store.get_or_create_tracker("web-1")
    for event in _turn("你好", 1.0):
        tracker.update(event)
    await store.save(tracker)  # a new conversation: the read-back way, which creates the document

    def no_read_back(sender_id: str) -> list:
        raise AssertionError("read back the stored events")

    monkeypatch.setattr(store, "_stored_event_types", no_read_back)
    for at in (2.0, 3.0):
        tracker = await store.retrieve("web-1")
        for event in _turn("hi", at):
            tracker.update(event)
        await store.save(tracker)
        for event in _turn("again", at + 0.7):  # a second save of the same tracker (no read in between)
            tracker.update(event)
        await store.save(tracker)
    stored = store.conversations.find_one({"sender_id": "web-1"})
    texts = [e.get("text") for e in stored["events"] if e["event"] == "user"]
    assert texts == ["你好", "hi", "again", "hi", "again"]
    store.client.drop_database(database)
    store.client.close()


async def test_a_write_from_elsewhere_between_read_and_save_ends_as_in_rasas_own_store(mongo_uri: str,
                                                                                        fast_saves: None) -> None:
    """Another server appended to the conversation after this one read it: the stored length no longer
    matches, so the save counts the stored events again, as Rasa's own store always does, and the
    document ends exactly as it would with Rasa's store in both places (no event stored twice)."""
    from rasa.core.tracker_store import MongoTrackerStore

    database = f"trk_{uuid.uuid4().hex[:6]}"
    documents = []
    for name, make in (("ours", FastFailMongoTrackerStore), ("rasas", MongoTrackerStore)):
        first = make(_greeting_domain(), host=mongo_uri, db=database, collection=name)
        elsewhere = MongoTrackerStore(_greeting_domain(), host=mongo_uri, db=database, collection=name)
        tracker = await first.get_or_create_tracker("web-2")
        for event in _turn("one", 1.0):
            tracker.update(event)
        await first.save(tracker)

        mine = await first.retrieve("web-2")  # this server reads …
        theirs = await elsewhere.retrieve("web-2")  # … another reads and writes first
        for event in _turn("two", 2.0):
            theirs.update(event)
        await elsewhere.save(theirs)
        for event in _turn("three", 3.0) + _turn("four", 4.0):
            mine.update(event)
        await first.save(mine)
        mine = await first.retrieve("web-2")  # the next message, read afresh
        for event in _turn("five", 5.0):
            mine.update(event)
        await first.save(mine)
        document = first.conversations.find_one({"sender_id": "web-2"}, projection={"_id": 0})
        document["events"][0].pop("timestamp")  # the store stamps the first action_listen itself
        documents.append(document)
        elsewhere.client.close()
        if name == "ours":
            first.client.close()
    assert documents[0] == documents[1]
    events = [(e["event"], e.get("text"), e.get("name"), e.get("timestamp")) for e in documents[0]["events"]]
    assert len(events) == len(set(events))  # nothing stored twice
    assert [e[1] for e in events if e[0] == "user"][-1] == "five"
    first.client.drop_database(database)
    first.client.close()


async def test_conversations_it_no_longer_remembers_are_saved_the_read_back_way(
        mongo_uri: str, monkeypatch: pytest.MonkeyPatch, fast_saves: None) -> None:
    from bot import tracker_store

    monkeypatch.setattr(tracker_store, "REMEMBERED_CONVERSATIONS", 2)
    database = f"trk_{uuid.uuid4().hex[:6]}"
    store = FastFailMongoTrackerStore(_greeting_domain(), host=mongo_uri, db=database)
    for sender in ("a", "b", "c"):
        tracker = await store.get_or_create_tracker(sender)
        for event in _turn(sender, 1.0):
            tracker.update(event)
        await store.save(tracker)
    assert list(store._lengths) == ["b", "c"]
    tracker = await store.retrieve("a")
    for event in _turn("a2", 2.0):
        tracker.update(event)
    await store.save(tracker)
    texts = [e.get("text") for e in store.conversations.find_one({"sender_id": "a"})["events"] if e["event"] == "user"]
    assert texts == ["a", "a2"]
    assert list(store._lengths) == ["c", "a"]
    store.client.drop_database(database)
    store.client.close()




ROLLOVER_DOMAIN = {
    "intents": ["greet", "inform"],
    "slots": {"language": {"type": "text", "mappings": []}, "verified": {"type": "bool", "mappings": []},
              "requested_slot": {"type": "text", "mappings": []}},
    "forms": {"fault_form": {"required_slots": []}},
}


def _chat_turn(n: int) -> list:
    from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered

    return [UserUttered(f"消息{n}", {"name": "inform", "confidence": 0.9}, timestamp=100.0 + n),
            ActionExecuted("utter_ok", timestamp=100.2 + n), BotUttered(f"回答{n}", timestamp=100.3 + n),
            ActionExecuted("action_listen", timestamp=100.4 + n)]


@pytest.mark.parametrize("patches", ["none", "tracker_saves"])
async def test_a_long_conversation_is_rolled_over_with_its_state_and_its_history_archived(
        mongo_uri: str, patches: str) -> None:
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SessionStarted, SlotSet, UserUttered

    domain = Domain.from_dict(ROLLOVER_DOMAIN)
    store = FastFailMongoTrackerStore(domain, host=mongo_uri, db=f"roll_{uuid.uuid4().hex[:6]}",
                                      max_live_events=30, keep_turns=3)
    earlier_session = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
                       ActionExecuted("action_listen", timestamp=1.0), *_chat_turn(-90)]
    events = [*earlier_session, ActionExecuted("action_session_start", timestamp=99.0), SessionStarted(timestamp=99.0),
              ActionExecuted("action_listen", timestamp=99.0)]
    for n in range(12):
        events += _chat_turn(n)
        if n == 1:
            events += [SlotSet("verified", True, timestamp=101.5), SlotSet("language", "en", timestamp=101.5)]
        if n == 4:  # a form asks its first question, and is still waiting at the end
            events += [ActiveLoop("fault_form", timestamp=104.5), SlotSet("requested_slot", "fault_circuit")]
    rasa_compat.install(patches)
    try:
        await store.save(DialogueStateTracker.from_events("web-long", events, domain.slots))
        tracker = await store.retrieve("web-long")
        assert tracker is not None
        assert tracker.get_slot("verified") is True and tracker.get_slot("language") == "en"
        assert tracker.active_loop_name == "fault_form" and tracker.get_slot("requested_slot") == "fault_circuit"
        users = [e for e in tracker.events if isinstance(e, UserUttered)]
        assert [u.text for u in users] == ["消息9", "消息10", "消息11"]
        assert users[-1].timestamp == 111.0  # the session still expires from the last message
        assert len(tracker.events) < 30

        stored = store.conversations.find_one({"sender_id": "web-long"})["events"]
        archived = [e for chunk in store.archive.find({"sender_id": "web-long"}) for e in chunk["events"]]
        restored = [e for e in stored if (e.get("metadata") or {}).get("restored")]
        assert archived + stored[len(restored):] == [e.as_dict() for e in events]  # nothing lost, nothing twice

        tracker.update_with_events(_chat_turn(12), domain)  # the next turn is appended to the rolled-over document
        await store.save(tracker)
        again = await store.retrieve("web-long")
        assert [e.text for e in again.events if isinstance(e, UserUttered)] == ["消息9", "消息10", "消息11", "消息12"]
        assert again.get_slot("verified") is True and again.active_loop_name == "fault_form"
    finally:
        rasa_compat.uninstall()
        store.client.close()


async def test_a_conversation_in_the_middle_of_a_turn_is_not_rolled_over(mongo_uri: str) -> None:
    from rasa.shared.core.events import UserUttered

    domain = Domain.from_dict(ROLLOVER_DOMAIN)
    store = FastFailMongoTrackerStore(domain, host=mongo_uri, db=f"roll_{uuid.uuid4().hex[:6]}",
                                      max_live_events=10, keep_turns=2)
    events = [e for n in range(8) for e in _chat_turn(n)]
    events.append(UserUttered("还没回答", {"name": "inform", "confidence": 0.9}, timestamp=200.0))
    await store.save(DialogueStateTracker.from_events("web-mid", events, domain.slots))
    tracker = await store.retrieve("web-mid")
    assert len(tracker.events) == len(events) and store.archive.count_documents({}) == 0
    store.client.close()


@pytest.mark.parametrize("patches", ["none", "tracker_saves"])
async def test_ended_sessions_move_to_the_archive_when_the_conversation_is_read(mongo_uri: str, patches: str) -> None:
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    domain = Domain.from_dict(ROLLOVER_DOMAIN)
    store = FastFailMongoTrackerStore(domain, host=mongo_uri, db=f"roll_{uuid.uuid4().hex[:6]}")
    ended = [ActionExecuted("action_session_start", timestamp=1.0), SessionStarted(timestamp=1.0),
             ActionExecuted("action_listen", timestamp=1.0), *_chat_turn(-90)]
    current = [ActionExecuted("action_session_start", timestamp=99.0), SessionStarted(timestamp=99.0),
               ActionExecuted("action_listen", timestamp=99.0), *_chat_turn(1)]
    rasa_compat.install(patches)
    try:
        await store.save(DialogueStateTracker.from_events("sms-busy", ended + current, domain.slots))
        tracker = await store.retrieve("sms-busy")
        assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in current[1:]]
        stored = store.conversations.find_one({"sender_id": "sms-busy"})["events"]
        [chunk] = list(store.archive.find({"sender_id": "sms-busy"}))
        assert chunk["events"] + stored == [e.as_dict() for e in ended + current]
        tracker.update_with_events(_chat_turn(2), domain)
        await store.save(tracker)
        assert len(store.conversations.find_one({"sender_id": "sms-busy"})["events"]) == len(stored) + 4
    finally:
        rasa_compat.uninstall()
        store.client.close()
