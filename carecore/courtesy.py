"""The words customers wrap around a request: greetings, "帮我查一下", "麻烦帮我看看", "…，谢谢", "hi, …, thanks",
self-introductions ("我是13800000010，", "this is Kevin Zhang,") and what joins it to the one before ("另外，", "also,").

They carry no intent, yet a classifier that sees them learns whichever intent its examples happened to
pair them with: "帮我查一下我们单位上个月的费用" was read as a service-status question because status
examples began that way, and "你好，我们的客户经理是谁" as a greeting. The tokenizer keeps only the
core a request leaves once these are set aside, in training and in use alike. A message that would
keep nothing but courtesy, an acknowledgement or an identifier ("你好", "你好，请问在吗", "好的，谢谢",
"查一下GD-ZX-0000101-1") keeps all its words: a greeting alone still greets.
"""

from __future__ import annotations

import re
from typing import Tuple

_SEP = r"[\s，,。.!！?？~～、:：;；…]*"

_VERB = r"(?:查询|查|看|确认|核实)"
_MOBILE = r"(?:\+?86[ -]?)?1[3-9][0-9][ -]?[0-9]{4}[ -]?[0-9]{4}(?![0-9])"  # as the phone_number entity's pattern
_ONCE = r"(?:一下|查|看|下(?![个月周午]))"
_OPENERS = [
    # greetings, with the particle that often follows them
    r"(?:你好|您好|你们好|大家好|嗨|哈喽|哈罗|喂|在吗|在么|在不在|早上好|上午好|中午好|下午好|晚上好|早安)[啊呀哦啦吖]?",
    r"打扰(?:了|一下)|不好意思",
    # asking: 请问 / 想问一下 / 咨询一下
    r"(?:我)?(?:想)?(?:请问|问一下|问下|问问|咨询一下|了解一下)(?:一下)?",
    # 麻烦/劳驾 (你) (帮我) 查/看 一下; 请 only with what follows it (请帮我…, 请查一下…)
    rf"(?:麻烦|劳驾|拜托)(?:你|您)?(?:帮忙|帮)?(?:我|我们)?{_VERB}?{_ONCE}?",
    rf"请(?:你|您)?(?:帮忙|帮)(?:我|我们)?{_VERB}?{_ONCE}?|请{_VERB}{_ONCE}?",
    # (你能) 帮(我) 查/看 一下
    rf"(?:你|您)?(?:能不能|能否|可不可以|可以|能)?(?:帮忙|帮)(?:我|我们)?{_VERB}?{_ONCE}?",
    # (我想) 查一下 / 看看 / 查查
    rf"(?:我想|我要)?(?:查询|查|看){_ONCE}",
    # a self-introduction: who writes, not what they want ("我是13800000010，", "我是鼎盛物流的刘秀博，",
    # "this is Jennifer Wang from Acme,"); verification reads a mobile from the message's entity
    rf"(?:我是|我的(?:手机)?号码?是|手机号?码?是?|本人|this is|i'?m|i am|my (?:mobile|phone|number)(?: number)? is)?"
    rf"\s*{_MOBILE}(?=[\s，,。.:：;；!！])",
    # at the end too: "您好，我是物业公司的钱芳" is all courtesy, so it keeps all its words and greets
    r"我是(?![^，,。!！]*?(?:来|想|要|说|投诉|报|问|查|找|不|没|吗|吧|呢|什么|哪|谁|还是))[^，,。.!！?？\s]{1,20}(?=[，,。!！]|$)",
    r"(?:this is|i'?m|i am|my name is) (?-i:[A-Z][a-z'-]+(?: [A-Z][a-z'-]+){0,2})(?: from [^,.!?]{1,40})?(?=[,.!;:]|$)",
    r"(?:hi|hello|hey|hiya|howdy|greetings|good (?:morning|afternoon|evening|day))(?: there| team| all| guys)?\b",
    r"(?:excuse me|sorry to bother you|quick question|please|pls)\b",
    # a word that joins the request to the one before, set off by a comma ("另外，…", "also, …")
    r"(?:另外|还有|对了|顺便(?:问|说)?一下|also|besides|by the way|btw|one more thing|oh and)(?=\s*[，,])",
    r"(?:could|can|would) you(?: please)?(?: (?:tell me|let me know|check|look up|check on|help me check))?\b",
    r"i(?: want| would like|'d like) to (?:know|ask|check)\b",
]
_CLOSERS = [
    r"谢谢(?:你|您|啦|了)?|多谢(?:了|啦|你|您)?|谢啦|感谢(?:你|您)?|辛苦(?:了|你了|您了)?|麻烦(?:你|您)?了|拜托了",
    r"\b(?:thanks?(?: you)?(?: (?:so|very) much| a lot)?|thx|ty|cheers|please|pls|plz)",
]
_OPENING = re.compile(_SEP + r"(?:" + "|".join(_OPENERS) + r")" + _SEP, re.IGNORECASE)
_CLOSING = re.compile(_SEP + r"(?:" + "|".join(_CLOSERS) + r")" + _SEP + r"$", re.IGNORECASE)
# Content: a letter, digit or character that is not a mere particle (了, 呀, 啊 …).
_CONTENT = re.compile(r"[^\W_了呀啊哦啦吧嘛呢吗么嘞]")
# A token with a digit in it is an identifier or a figure (GD-ZX-0000101-1, KA0000007, 155M), in no language.
IDENTIFIER_TOKEN = r"[A-Za-z0-9-]*[0-9][A-Za-z0-9-]*"
# A core that is only an identifier or a number ("帮我查一下GD-ZX-0000101-1"): the request is in its words.
_IDENTIFIER = re.compile(r"[\W_]*" + IDENTIFIER_TOKEN + r"[\W_]*")
# What is left of "好的，谢谢", "非常感谢", "got it, thanks" (an acknowledgement, whose thanks belong
# to it) or of "你好，有人在吗", "hello bot" (a greeting's own words). Such a message keeps all its words.
_SOCIAL = re.compile(
    r"(?:好的?|好吧|好嘞|太好了|非常|十分|万分|给力|明白了?|知道了|收到了?|了解了?|清楚了|行|可以了?|没问题|嗯+|哦+|对|是的?|不用了?"
    r"|ok(?:ay)?|great|good|nice|cool|perfect|correct|awesome|excellent|fine|got it|understood|noted|many|much|sure"
    r"|that'?s (?:great|helpful|clear|all)|all good|yes|no"
    r"|有人在?吗|有人在|在线吗|客服|小助手|助手|机器人|(?:hey |hello )?(?:bot|assistant|team|all|again|yo)"
    r"|(?:is )?(?:anyone|anybody|someone|somebody)(?: there| here)?|(?:are )?you there|to you)" + _SEP, re.IGNORECASE)


def core_span(text: str) -> Tuple[int, int]:
    """Where the request in ``text`` starts and ends once the courtesy around it is set aside.

    The whole text when nothing but an acknowledgement or an identifier would be left, so that a
    greeting or a thank-you keeps its words, and "查一下<circuit>" stays a question.
    """
    start, end = 0, len(text)
    while True:
        opening = _OPENING.match(text, start, end)
        if opening is None or opening.end() == start:
            break
        start = opening.end()
    while start < end:
        closing = _CLOSING.search(text, start, end)
        if closing is None or closing.start() == end or closing.end() != end:
            break
        end = closing.start()
    if not _CONTENT.search(text, start, end) or _SOCIAL.fullmatch(text, start, end) or \
            _IDENTIFIER.fullmatch(text, start, end):
        return 0, len(text)
    return start, end


def core(text: str) -> str:
    start, end = core_span(text)
    return text[start:end]
