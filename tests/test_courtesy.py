"""What the tokenizer keeps of a message: its request without the courtesy around it (bot/courtesy.py)."""

from __future__ import annotations

import pytest

from bot.courtesy import core


@pytest.mark.parametrize("text, kept", [
    ("帮我查一下我们单位上个月的费用", "我们单位上个月的费用"),
    ("你好，我们的客户经理是谁？", "我们的客户经理是谁？"),
    ("麻烦帮我看看专线状态，谢谢", "专线状态"),
    ("您好，打扰一下，请问工单进度怎么样了", "工单进度怎么样了"),
    ("hi, who is my account manager?", "who is my account manager?"),
    ("Hello there, could you tell me our bill last month? thanks", "our bill last month"),
])
def test_a_wrapped_request_keeps_its_core(text: str, kept: str) -> None:
    assert core(text) == kept


@pytest.mark.parametrize("text", [
    "你好", "你好，请问在吗", "早上好呀", "谢谢", "非常感谢", "太好了，谢谢", "麻烦你了，谢谢", "hi", "great, thanks",
    "ok thanks", "got it, thanks",
])
def test_a_social_message_keeps_all_its_words(text: str) -> None:
    assert core(text) == text


@pytest.mark.parametrize("text", ["查下个月的账单", "请假条", "his bill", "thanksgiving bill", "帮我查一下GD-ZX-0000101-1",
                                  "13800138000，谢谢"])
def test_words_that_only_begin_like_courtesy_stay(text: str) -> None:
    assert core(text) == text
