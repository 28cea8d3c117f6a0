"""What an opt-out says: that messages are to stop, that the number is no longer the contact's, or nothing of it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions import opt_out_words


@pytest.mark.parametrize("text, disowned, other_left", [
    ("我已经离职了，别再给我发短信", True, False), ("我不是这家公司的人了，别发了", True, False),
    ("这个号码已经给别人了", True, False), ("你们发错人了", True, False), ("这个手机号已经换人了", True, False),
    ("此人已离职，请勿再发", True, False),  # the holder of the number it was
    ("这个号码已经不是他的了，他早离职了", True, False), ("he left the company, this is my number now", True, False),
    ("this number belongs to someone else now", True, False), ("wrong number, stop texting me", True, False),
    ("I left the company, stop texting", True, False), ("I no longer work at that company", True, False),
    ("他退休了，这个号码别再发了", True, False),  # someone left, and this number was theirs
    ("王总已经离职了，别再给他发了", False, True), ("she no longer works here", False, True),  # another contact
    ("please stop texting this number", False, False),
    ("别再给我发短信", False, False), ("我这几天不在公司，别发了", False, False), ("stop texting", False, False),
])
def test_an_opt_out_saying_the_number_is_no_longer_the_contacts(text: str, disowned: bool, other_left: bool) -> None:
    assert opt_out_words.number_disowned(text) is disowned
    assert opt_out_words.someone_else_left(text) is other_left


def _examples(intent: str) -> list:
    data = yaml.safe_load(Path("data/nlu/requests.yml").read_text(encoding="utf-8"))
    block = next(item["examples"] for item in data["nlu"] if item.get("intent") == intent)
    return [line[2:].strip() for line in block.splitlines() if line.strip()]


def test_every_way_of_opting_out_the_model_learnt_says_one() -> None:
    assert [text for text in _examples("opt_out_sms") if not opt_out_words.opt_out_said(text)] == []


@pytest.mark.parametrize("text", ["no idea", "I don't know what's wrong", "not sure", "不知道", "不清楚",
                                  "不知道发生了什么", "不知道是不是收到了"])
def test_not_knowing_is_no_opt_out(text: str) -> None:
    assert not opt_out_words.opt_out_said(text)
