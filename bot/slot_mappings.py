"""Custom slot mappings computed inside the Rasa server instead of by the action server.

Rasa 3.6 fills a slot with a ``custom`` mapping that names an action by calling
that action on the action server, for every user message. The ``language``
slot's mapping (the profile's language once identified, else the message's) is
a pure function of two slots and the text, yet it cost a full round trip per
message: the whole tracker serialised to JSON, a new HTTP connection, the
response validated, and the action server's own share, on a 2-core machine
where the Rasa server's CPU sets the latency. In ``make bench-bot`` that call
was the most frequent remote action.

``ActionExtractSlots._run_custom_action`` is where Rasa runs such an action; it
is wrapped here so that the mappings listed in ``IN_PROCESS`` run locally and
every other custom action still goes to the action server. The domain keeps
naming ``action_set_language`` (Rasa checks that a mapping's action exists).
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from carecore.texts import detect_language

LANGUAGE_ACTION = "action_set_language"


def language_slot_events(tracker: DialogueStateTracker) -> List[Event]:
    """The profile's language once the customer is identified, else the message's; a code or a number keeps it."""
    text: Optional[str] = tracker.latest_message.text if tracker.latest_message else None
    wanted = tracker.get_slot("profile_language") or detect_language(text)
    if wanted and wanted != tracker.get_slot("language"):
        return [SlotSet("language", wanted)]
    return []


IN_PROCESS: Dict[str, Callable[[DialogueStateTracker], List[Event]]] = {LANGUAGE_ACTION: language_slot_events}

_original_run_custom_action = ActionExtractSlots._run_custom_action


async def _run_custom_action(self: ActionExtractSlots, custom_action: str, output_channel: Any, nlg: Any,
                             tracker: DialogueStateTracker, domain: Any) -> List[Event]:
    local = IN_PROCESS.get(custom_action)
    if local is None:
        return await _original_run_custom_action(self, custom_action, output_channel, nlg, tracker, domain)
    return local(tracker)


def install() -> None:
    ActionExtractSlots._run_custom_action = _run_custom_action  # type: ignore[method-assign]
