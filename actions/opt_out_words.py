"""What an opt-out says: that messages are to stop, or that the number no longer reaches the contact it was for;
and what an opt-in says: that they are to start again.

The model reads a message as an opt-out or an opt-in; these words decide what it does, and whether it is one at all.
"""

from __future__ import annotations

import re

# An opt-out by whoever holds the number, saying it no longer reaches the contact: the number passed on to someone
# else, or they left themselves. Whoever writes holds the contact's number (verification is by it).
NUMBER_PASSED = re.compile(
    r"号码?.{0,4}(?:换|转|给|让)(?:给)?了?(?:别人|他人)|(?:打|发|找)错(?:人|号)|换人了|(?:以前|原来|之前|上一?个|前)的?机主|"
    r"(?:刚|新)办的|不是(?:他|她)本人|不是(?:他|她)的|不是我的(?:号|手机)|现在是我(?:在用|的)|"
    r"wrong (?:number|person)|not the (?:right )?person|someone else'?s? (?:number|phone)|belongs to someone else|"
    r"(?:this|it) is my number|(?:is ?n'?t|is not) (?:his|her|their) (?:number|phone)", re.I)
LEFT = re.compile(
    r"离职|辞职|退休|不在(?:你们|这家|那家|该|贵)?(?:公司|单位)(?:上班|工作|任职)?了|不是(?:这家|那家|该|贵|你们)?(?:公司|单位)的(?:人|员工)了?|"
    r"(?:no longer|don'?t|do not) work (?:at|for|with)|\b(?:left|quit) (?:the|your|this|that) (?:company|firm|job)|"
    r"\bretired\b", re.I)
THIS_NUMBER = re.compile(r"这个(?:手机)?号|\bthis (?:phone )?number\b|\bthis phone\b", re.I)
# ... said of someone else ("王总已经离职了", "she no longer works here"): the writer's own number stays theirs
SOMEONE_ELSE_LEFT = re.compile(
    r"(?:他|她|[\u4e00-\u9fff]{1,2}(?:总|经理|主任|部长|处长|工)|同事|那位|这位)(?:已经|早就|早已|早|已)?(?:离职|辞职|调走|退休|不在)|"
    r"\b(?:he|she)(?:'s| has)? (?:left|quit|retired|no longer works?)\b", re.I)


def number_disowned(text: str) -> bool:
    """Whether an opt-out says the writer's number no longer reaches the contact ("我已经离职了", "wrong number",
    "他退休了，这个号码别再发了")."""
    return bool(NUMBER_PASSED.search(text)) or bool(LEFT.search(text)) and (
        not SOMEONE_ELSE_LEFT.search(text) or bool(THIS_NUMBER.search(text)))


# What an opt-out says, however put ("退订", "别再发了", "TD", "no more texts"): read as one, "no idea" or "I don't
# know what's wrong" had unsubscribed the customer from every care message.
OPT_OUT_WORDS = re.compile(
    r"退订|退掉|拒收|拒绝|停|关[掉闭]|取消|去掉|删除|移出|(?:不|别)[^，。,.]{0,6}(?:发(?!生|现)|收(?!到)|短信|祝福|提醒|通知|推送)|"
    r"(?<![a-z])TD(?![a-z])|^\s*T\s*$|\b(?:stop\w*|unsubscribe\w*|opt[- ]?(?:me )?out|refuse|disable|deactivate|cancel|quit|"
    r"end|remove|take me off|off)\b|\bno (?:more )?(?:sms|texts?|messages|greetings|holiday greetings)\b|"
    r"\b(?:don'?t|do not|no longer|never)\b.{0,12}\b(?:send|text|sms|message|want)", re.I)


def opt_out_said(text: str) -> bool:
    """Whether a message the model read as an opt-out says one, or that the number no longer reaches the contact."""
    return bool(OPT_OUT_WORDS.search(text)) or number_disowned(text) or bool(SOMEONE_ELSE_LEFT.search(text))


def someone_else_left(text: str) -> bool:
    """Whether an opt-out reports that another contact left ("王总已经离职了，别再给他发了"), not this number's."""
    return bool(SOMEONE_ELSE_LEFT.search(text)) and not number_disowned(text)


# What asks for care messages again ("恢复短信", "重新订阅", "turn the texts back on"), or names them at all ("可以发
# 短信给我", "我想收到节日问候", "yes, you can text me").
OPT_IN_WORDS = re.compile(
    r"恢复|重新|再次|继续|订阅|开通|开启|打开|短信|通知|问候|祝福|提醒|"
    r"\b(?:again|back on|resume|restart|(?:re-?)?subscribe|reactivate|opt(?: me)?(?: back)?[- ]in|unblock|enable|"
    r"activate|allow|sign me (?:back )?up|(?:add|put) me back|sms|texts?|messages|notifications?|alerts|greetings)\b|"
    r"^\s*(?:START|UNSTOP)\s*$", re.I)
# ... but a notice of a fix asked for ("修好了短信告诉我一声", "text me when it's fixed"): the ticket's, not care SMS
FIX_NOTICE = re.compile(
    r"(?:修好|修复|恢复了|好了|通了|解决|处理完|处理好|搞定)[^，。,.]{0,8}(?:告诉|通知|说一声|发(?:个)?短信|短信)|"
    r"\b(?:fixed|resolved|back up|working again|sorted|done)\b.{0,24}\b(?:let (?:me|us) know|tell (?:me|us)|"
    r"notify|text (?:me|us)|message (?:me|us))\b|\b(?:let (?:me|us) know|tell (?:me|us)|notify (?:me|us)|text (?:me|us)|"
    r"message (?:me|us))\b.{0,24}\b(?:when|once|as soon as)\b", re.I)


def fix_notice_asked(text: str) -> bool:
    """Whether a message the model read as an opt-in asks to be told when a fault is fixed: care messages are not
    what it asks for, and the customer's consent stays as it is."""
    return bool(FIX_NOTICE.search(text))


def opt_in_said(text: str) -> bool:
    """Whether a message the model read as an opt-in asks for care messages to start again."""
    return bool(OPT_IN_WORDS.search(text)) and not fix_notice_asked(text)
