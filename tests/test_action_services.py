"""What the action server talks to, and what it leaves to others."""

from __future__ import annotations

import pytest

from actions.services import use_services


async def test_the_action_server_only_connects(mongo_uri: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its first message reads and writes; migrating the schema is left to the entry points that own it."""
    import uuid

    from actions import services as action_services
    from carecore.config import get_settings

    name = f"connect_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("MONGODB_URI", mongo_uri)
    monkeypatch.setenv("MONGODB_DB", name)
    get_settings.cache_clear()
    use_services(None)
    try:
        svc = await action_services.services()
        assert await svc.db.collection_names() == []
        await svc.db.drop()
        svc.db.close()
    finally:
        use_services(None)
        get_settings.cache_clear()
