"""A conversation as its manager reads it: written by the assistant's own tracker store, rolled over
into the archive, and read back oldest first."""

from __future__ import annotations

from datetime import datetime, timezone

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SessionStarted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import FastFailMongoTrackerStore
from carecore.model import EscalationStatus
from carecore.repository import Database
from carecore.repository.transcripts import TranscriptLine

DOMAIN = Domain.from_dict({"intents": ["inform"], "slots": {"verified": {"type": "bool", "mappings": []}}})


def _session(start: float, turns: int) -> list:
    events = [ActionExecuted("action_session_start", timestamp=start), SessionStarted(timestamp=start),
              ActionExecuted("action_listen", timestamp=start)]
    for n in range(turns):
        at = start + n + 1
        events += [UserUttered(f"问题{int(start)}-{n}", {"name": "inform", "confidence": 0.9}, timestamp=at),
                   ActionExecuted("utter_ok", timestamp=at + 0.1), BotUttered(f"答复{int(start)}-{n}", timestamp=at + 0.2),
                   BotUttered(None, {"buttons": [{"title": "是", "payload": "/affirm"}]}, timestamp=at + 0.3),
                   ActionExecuted("action_listen", timestamp=at + 0.4)]
    return events


async def test_the_last_lines_span_the_archive_and_the_live_document(db: Database, mongo_uri: str) -> None:
    store = FastFailMongoTrackerStore(DOMAIN, host=mongo_uri, db=db.name, max_live_events=30, keep_turns=3)
    try:
        events = [*_session(1000.0, 2), *_session(5000.0, 10)]
        await store.save(DialogueStateTracker.from_events("sms:+8613800138000:1", events, DOMAIN.slots))
        await store.retrieve("sms:+8613800138000:1")  # the ended session and the long one's start are archived
        assert store.archive.count_documents({"sender_id": "sms:+8613800138000:1"}) == 1
        live = store.conversations.find_one({"sender_id": "sms:+8613800138000:1"})["events"]
        assert not any(e.get("text") == "问题5000-0" for e in live)

        tracker = await store.retrieve("sms:+8613800138000:1")
        tracker.update_with_events(_session(9000.0, 2), DOMAIN, override_timestamp=False)
        await store.save(tracker)
        await store.retrieve("sms:+8613800138000:1")  # the second session ended too: a second chunk
        assert store.archive.count_documents({"sender_id": "sms:+8613800138000:1"}) == 2

        lines = await db.transcripts.last_lines("sms:+8613800138000:1")
        assert [line.text for line in lines[:3]] == ["问题1000-0", "答复1000-0", "问题1000-1"]
        assert len(lines) == 28 and lines[-1] == TranscriptLine(
            datetime.fromtimestamp(9002.2, timezone.utc), "assistant", "答复9000-1")
        assert [line.text for line in await db.transcripts.last_lines("sms:+8613800138000:1", limit=6)] == [
            "问题5000-9", "答复5000-9", "问题9000-0", "答复9000-0", "问题9000-1", "答复9000-1"]
        # what led to a ticket: nothing said after it, from the live document or any chunk
        led = await db.transcripts.last_lines("sms:+8613800138000:1", limit=4,
                                              until=datetime.fromtimestamp(5005.5, timezone.utc))
        assert [line.text for line in led] == ["问题5000-3", "答复5000-3", "问题5000-4", "答复5000-4"]
        assert [line.text for line in await db.transcripts.last_lines(
            "sms:+8613800138000:1", until=datetime.fromtimestamp(1001.2, timezone.utc))] == ["问题1000-0", "答复1000-0"]
        # what led to it in the session then under way: its start is in the archive
        session = await db.transcripts.last_lines("sms:+8613800138000:1", until=datetime.fromtimestamp(
            5003.5, timezone.utc), session_only=True)
        assert [line.text for line in session] == ["问题5000-0", "答复5000-0", "问题5000-1", "答复5000-1",
                                                   "问题5000-2", "答复5000-2"]
        session = await db.transcripts.last_lines("sms:+8613800138000:1", until=datetime.fromtimestamp(
            9001.5, timezone.utc), session_only=True)
        assert [line.text for line in session] == ["问题9000-0", "答复9000-0"]
        assert await db.transcripts.last_lines("sms:+8613900000000:1") == []
    finally:
        store.client.close()


async def test_conversations_idle_past_the_cutoff_are_forgotten_unless_paused(db: Database) -> None:
    cutoff = datetime(2025, 12, 4, tzinfo=timezone.utc)
    old, recent = cutoff.timestamp() - 1, cutoff.timestamp() + 1
    live, archive = db.client[db.name]["conversations"], db.client[db.name]["conversation_archive"]
    await live.insert_many([{"sender_id": "old", "latest_event_time": old, "events": []},
                            {"sender_id": "recent", "latest_event_time": recent, "events": []},
                            {"sender_id": "paused", "latest_event_time": old, "events": []}])
    await archive.insert_many([{"sender_id": "recent", "last_timestamp": old, "events": []},  # an old session
                               {"sender_id": "recent", "last_timestamp": recent, "events": []},
                               {"sender_id": "paused", "last_timestamp": old, "events": []}])
    await db.escalations.create({
        "_id": "ES-20251203-0001", "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
        "sender_id": "paused", "reason": "request_human", "summary": "-", "contact_by": cutoff,
        "created_at": cutoff, "updated_at": cutoff})

    assert await db.transcripts.forget_before(cutoff) == {"conversations": 1, "archive_chunks": 1}
    assert sorted(await live.distinct("sender_id")) == ["paused", "recent"]
    assert sorted(d["sender_id"] for d in await archive.find().to_list(None)) == ["paused", "recent"]
    # handed back: it goes the next night
    await db.escalations.set_status("ES-20251203-0001", EscalationStatus.resolved)
    assert await db.transcripts.forget_before(cutoff) == {"conversations": 1, "archive_chunks": 1}


async def test_the_code_a_customer_typed_is_not_in_the_transcript(db: Database) -> None:
    events = [{"event": "user", "text": "查账单", "timestamp": 1.0},
              {"event": "slot", "name": "requested_slot", "value": "otp_code", "timestamp": 1.1},
              {"event": "bot", "text": "请回复验证码", "timestamp": 1.2},
              {"event": "user", "text": "验证码 482913", "timestamp": 2.0}]
    await db.client[db.name]["conversations"].insert_one({"sender_id": "chat:1", "events": events})
    assert [line.text for line in await db.transcripts.last_lines("chat:1")] == ["查账单", "请回复验证码", "验证码 ******"]
