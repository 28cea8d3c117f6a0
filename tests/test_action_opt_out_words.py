"""What an opt-out says: that messages are to stop, that the number is no longer the contact's, or nothing of it;
and what an opt-in says."""

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


def test_every_way_of_opting_in_the_model_learnt_says_one() -> None:
    assert [text for text in _examples("opt_in_sms") if not opt_out_words.opt_in_said(text)] == []


@pytest.mark.parametrize("text, fix_notice", [
    ("修好了短信告诉我一声", True), ("恢复了通知我", True), ("网络好了发个短信给我", True),
    ("text me when it's fixed", True), ("let me know once it's back up", True), ("notify me when it's resolved", True),
    ("恢复短信通知", False), ("我要恢复短信通知", False), ("turn the texts back on", False),
])
def test_a_notice_of_a_fix_is_no_opt_in(text: str, fix_notice: bool) -> None:
    assert opt_out_words.fix_notice_asked(text) is fix_notice
    assert opt_out_words.opt_in_said(text) is not fix_notice
