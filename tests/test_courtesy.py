"""What the tokenizer keeps of a message: its request without the courtesy around it (carecore/courtesy.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carecore import courtesy
from carecore.courtesy import core


@pytest.mark.parametrize("text, kept", [
    ("帮我查一下我们单位上个月的费用", "我们单位上个月的费用"),
    ("你好，我们的客户经理是谁？", "我们的客户经理是谁？"),
    ("麻烦帮我看看专线状态，谢谢", "专线状态"),
    ("您好，打扰一下，请问工单进度怎么样了", "工单进度怎么样了"),
    ("hi, who is my account manager?", "who is my account manager?"),
    ("Hello there, could you tell me our bill last month? thanks", "our bill last month"),
    ("also, the bill for October seems wrong", "the bill for October seems wrong"),
    ("另外，专线这两天老是掉线", "专线这两天老是掉线"),
])
def test_a_wrapped_request_keeps_its_core(text: str, kept: str) -> None:
    assert core(text) == kept


@pytest.mark.parametrize("text", [
    "你好", "你好，请问在吗", "早上好呀", "谢谢", "非常感谢", "太好了，谢谢", "麻烦你了，谢谢", "hi", "great, thanks",
    "ok thanks", "got it, thanks", "您好，我是物业公司的钱芳", "Hi, I'm Mark Li", "hello, this is Sarah from Acme",
])
def test_a_social_message_keeps_all_its_words(text: str) -> None:
    assert core(text) == text


@pytest.mark.parametrize("text", ["查下个月的账单", "请假条", "his bill", "thanksgiving bill", "帮我查一下GD-ZX-0000101-1",
                                  "13800138000，谢谢", "还有", "also the bill is wrong"])
def test_words_that_only_begin_like_courtesy_stay(text: str) -> None:
    assert core(text) == text


@pytest.mark.parametrize("text, kept", [
    ("我是13800000010，专线断了要报修", "专线断了要报修"),
    ("您好，我是138 0000 0010，我要投诉", "我要投诉"),
    ("你好，我是上海鼎盛物流的刘秀博，专线又断了，谢谢", "专线又断了"),
    ("我是金卡客户，上个月账单多少", "上个月账单多少"),
    ("hi, this is Kevin Zhang from Dingsheng Energy, our DDN is down", "our DDN is down"),
    ("Hi, I'm +86 138-0000-0010: our line is down", "our line is down"),
    # what only begins like one: a request, a question, a word that is no name, a number asked about
    ("我是来投诉的，你们太慢了", "我是来投诉的，你们太慢了"),
    ("我是VIP吗，查一下", "我是VIP吗，查一下"),
    ("您好，我是钻石卡还是金卡", "我是钻石卡还是金卡"),
    ("I'm having trouble, the line is down", "I'm having trouble, the line is down"),
    ("this is unacceptable, i want to complain", "this is unacceptable, i want to complain"),
    ("专线断了，我的号码是13800000010", "专线断了，我的号码是13800000010"),
    ("13900000000的账单", "13900000000的账单"),
    ("我是13800000010", "我是13800000010"),  # nothing else: all its words
])
def test_a_self_introduction_is_set_aside(text: str, kept: str) -> None:
    assert core(text) == kept


def test_a_mobile_in_an_introduction_is_what_the_phone_number_entity_matches() -> None:
    assert courtesy._MOBILE in Path("data/nlu/regex.yml").read_text(encoding="utf-8")
