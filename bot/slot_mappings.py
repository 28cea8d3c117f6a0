"""The reply-language slot mapping computed inside the Rasa server instead of by the action server.

Rasa 3.6 fills a slot with a ``custom`` mapping by calling the named action on the action
server for every user message: the whole tracker serialised to JSON, a connection, the
response validated. The ``language`` slot's mapping (``action_set_language``) is a pure
function of two slots and the text (``carecore.texts.reply_language``), so this patch
answers it in process; every other custom action still goes to the action server, and
with the patch off ``action_set_language`` on the action server gives the same events.
Installed by ``bot.rasa_compat``.
"""

from __future__ import annotations

from typing import Any, Callable, Dict, List

from rasa.core.actions.action import ActionExtractSlots
from rasa.shared.core.events import Event, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from carecore.texts import reply_language

LANGUAGE_ACTION = "action_set_language"


def language_slot_events(tracker: DialogueStateTracker) -> List[Event]:
    text = tracker.latest_message.text if tracker.latest_message else None
    changed = reply_language(text, tracker.get_slot("profile_language"), tracker.get_slot("language"))
    return [SlotSet("language", changed)] if changed else []


IN_PROCESS: Dict[str, Callable[[DialogueStateTracker], List[Event]]] = {LANGUAGE_ACTION: language_slot_events}

ORIGINAL = ActionExtractSlots._run_custom_action


async def run_custom_action(self: ActionExtractSlots, custom_action: str, output_channel: Any, nlg: Any,
                            tracker: DialogueStateTracker, domain: Any) -> List[Event]:
    local = IN_PROCESS.get(custom_action)
    if local is None:
        return await ORIGINAL(self, custom_action, output_channel, nlg, tracker, domain)
    return local(tracker)
