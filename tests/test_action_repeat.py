"""'再说一遍': the last replies again, or inside a form nothing (the form asks its question again)."""

from __future__ import annotations

from actions import repeat
from tests.action_kit import run, tracker

SAID = [{"event": "user", "text": "客户经理是谁"},
        {"event": "bot", "text": "您的专属客户经理是林海燕。", "metadata": {"utter_action": "utter_account_manager"}},
        {"event": "bot", "text": "还有什么可以帮您？", "metadata": {"utter_action": "utter_anything_else"}}]


async def test_the_last_replies_are_said_again_as_they_were(domain) -> None:
    messages, events = await run(repeat.ActionRepeat(), tracker(intent="ask_repeat", text="再说一遍", events=SAID),
                                 domain)
    assert [(m["text"], m.get("utter_action")) for m in messages] == [
        ("您的专属客户经理是林海燕。", "utter_account_manager"), ("还有什么可以帮您？", "utter_anything_else")]
    assert events == []
    messages, _ = await run(repeat.ActionRepeat(), tracker(intent="ask_repeat", text="再说一遍"), domain)
    assert [m["response"] for m in messages] == ["utter_anything_else"]  # nothing said yet


async def test_inside_a_form_the_form_asks_again(domain) -> None:
    t = tracker(intent="ask_repeat", text="再说一遍", events=SAID, active_loop="fault_form")
    assert await run(repeat.ActionRepeat(), t, domain) == ([], [])
