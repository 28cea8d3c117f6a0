"""The reply-language slot is filled inside the Rasa server, by Rasa's own slot extraction, with no action server."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, Optional

import pytest
from rasa.core.actions.action import ActionExtractSlots, RemoteAction
from rasa.core.channels import CollectingOutputChannel
from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

import bot  # noqa: F401  (installs the in-process mapping, as the Rasa server's pipeline import does)

ROOT = Path(__file__).resolve().parents[1]


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
