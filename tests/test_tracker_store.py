"""Rasa's Mongo tracker store with short timeouts, failing past Rasa's fail-safe wrapper."""

from __future__ import annotations

import uuid

import pytest
from rasa.core.tracker_store import TrackerStore
from rasa.shared.core.domain import Domain
from rasa.utils.endpoints import read_endpoint_config

from bot.tracker_store import FastFailMongoTrackerStore, with_timeouts
from localrun.mongod import free_port
from tests.stack import ROOT


def test_endpoints_load_the_fast_failing_mongo_tracker_store(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DB", f"tracker_{uuid.uuid4().hex[:6]}")
    monkeypatch.setenv("ACTION_SERVER_PORT", "5055")
    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "tracker_store")
    store = TrackerStore.create(endpoint, Domain.empty())
    assert isinstance(store, FastFailMongoTrackerStore)  # Rasa silently falls back to memory on a bad path
    options = store.client.options
    assert options.server_selection_timeout == 1.0 and options.pool_options.connect_timeout == 1.0
    store.client.close()


def test_timeouts_keep_what_the_uri_already_says() -> None:
    uri = with_timeouts("mongodb://h:1/?replicaSet=rs0&serverSelectionTimeoutMS=300", 1000)
    assert "replicaSet=rs0" in uri and "serverSelectionTimeoutMS=300" in uri and "connectTimeoutMS=1000" in uri


async def test_an_unreachable_store_is_reported_past_rasas_fail_safe_wrapper(mongo_uri: str) -> None:
    """Rasa's FailSafeTrackerStore would answer a verified customer as a stranger; ours must not let it."""
    import pymongo
    from rasa.core.tracker_store import FailSafeTrackerStore

    from bot.tracker_store import ConversationStoreUnavailable

    inner = FastFailMongoTrackerStore(Domain.empty(), host=mongo_uri, db="x", timeout_ms=200)
    inner.client.close()
    inner.client = pymongo.MongoClient(f"mongodb://127.0.0.1:{free_port()}/", serverSelectionTimeoutMS=200)
    inner.db = inner.client["x"]  # MongoDB gone after start-up
    store = FailSafeTrackerStore(inner)
    with pytest.raises(ConversationStoreUnavailable):
        await store.retrieve("web-1")
    inner.client.close()
