"""The reply-language slot: filled inside the Rasa server by the speed patch, or by the action server without it."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Iterator, Optional

import pytest
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.session import ActionSetLanguage
from bot import rasa_compat

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def patched() -> Iterator[None]:
    rasa_compat.install("language_mapping")
    yield
    rasa_compat.uninstall()


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.mark.parametrize(("slots", "text", "expected"), [
    ({"language": "zh"}, "what's my bill", "en"),
    ({"language": "en"}, "我们的专线又down了", "zh"),
    ({"language": "en"}, "123456", None),          # a code keeps the language
    ({"language": "zh", "profile_language": "zh"}, "hello", None),  # the profile wins
    ({"language": "zh", "profile_language": "en"}, "你好", "en"),
])
async def test_reply_language_is_extracted_without_the_action_server(
        domain: Domain, monkeypatch: pytest.MonkeyPatch, slots: Dict[str, Any], text: str,
        expected: Optional[str]) -> None:
    async def no_remote_calls(self: RemoteAction, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError(f"{self.name()} was sent to the action server")

    monkeypatch.setattr(RemoteAction, "run", no_remote_calls)
    events = [ActionExecuted("action_listen"), *(SlotSet(k, v) for k, v in slots.items()),
              UserUttered(text, {"name": "greet", "confidence": 1.0})]
    tracker = DialogueStateTracker.from_events("web-1", events, domain.slots)
    extracted = await ActionExtractSlots(action_endpoint=None).run(
        CollectingOutputChannel(), TemplatedNaturalLanguageGenerator(domain.responses), tracker, domain)
    language = [e.value for e in extracted if isinstance(e, SlotSet) and e.key == "language"]
    assert language == ([expected] if expected else [])

    # The action server's action_set_language, which Rasa calls when the patch is off, says the same.
    sdk_tracker = Tracker("web-1", {**slots, "profile_language": slots.get("profile_language")},
                          {"text": text, "intent": {"name": "greet"}}, [], False, None, {}, "action_listen")
    remote = await ActionSetLanguage().run(CollectingDispatcher(), sdk_tracker, {})
    assert [e["value"] for e in remote] == ([expected] if expected else [])
