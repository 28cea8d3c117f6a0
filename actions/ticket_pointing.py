"""Which ticket a message means: one it names, one it points at in a list the assistant just gave ("取消第二个",
"撤销最早那个") or named alone ("chase it"), and the kinds of ticket it names ("取消投诉")."""

from __future__ import annotations

import re
from typing import Dict

from rasa_sdk import Tracker

from actions.message_reading import latest_text, replies_before_latest
from carecore.model import TICKET_ID_PATTERN

# A place in a list the assistant just gave ("the first one", "第二个", "number 3"); never a bare digit, which may be a
# survey score or a code.
LIST_PLACE = re.compile(r"第\s*([1-5一二三四五])\s*(?:个|张|条|单|项)|\b(first|second|third|fourth|fifth)\s+(?:one|ticket)\b"
                        r"|\b(?:number|no\.|#)\s*([1-5])\b", re.I)
_PLACES = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5}
# What points back at the ticket the replies just before named alone ("chase it", "这个工单呢").
POINTING = re.compile(r"\bit\b|\bthat one\b|\bthis one\b|它|这个|这张|这单|那个|那张|该工单", re.I)


# "最早那个", "the newest one": the oldest or the newest of the tickets just listed.
BY_AGE = re.compile(r"(最早|最旧|最先|earliest|oldest)|(最新|latest|newest|most recent)", re.I)


def _by_age(listed: Dict[int, str], text: str) -> str:
    """The oldest or newest listed ticket, by the day and number in its id; "" when they do not tell (a fault and a
    complaint of the same day: each kind numbers its own)."""
    said = BY_AGE.search(text)
    if said is None or not listed:
        return ""
    ordered = sorted(listed.values(), key=lambda ticket_id: (ticket_id[3:11], int(ticket_id[12:])))
    pick = ordered[0] if said.group(1) else ordered[-1]
    tied = [t for t in ordered if t[3:11] == pick[3:11] and t[:2] != pick[:2]]
    return "" if tied else pick


def ticket_meant(tracker: Tracker) -> str:
    """The ticket a message names (``ticket_id``), or points at among those the assistant's replies just before it
    named: by its place in their list ("why is the first one taking so long", "取消第二个") or its age ("撤销最早那个"),
    or as "it" when they named one alone; "" for none."""
    named = (tracker.get_slot("ticket_id") or "").strip().upper()
    if named:
        return named
    text = latest_text(tracker)
    place = LIST_PLACE.search(text)
    listed = tickets_listed(tracker)
    if place and listed:
        word = next(g for g in place.groups() if g)
        return listed.get(int(word) if word.isdigit() else _PLACES[word.lower()], "")
    aged = _by_age(listed, text)
    if aged:
        return aged
    return ticket_just_told_of(tracker) if POINTING.search(text) else ""


def ticket_just_told_of(tracker: Tracker) -> str:
    """The one ticket the assistant's replies just before the latest message named (opened, chased, its status):
    "多久能修好" right after asks of it; "" when they named none, or several."""
    replied = "\n".join(str(e.get("text") or "") for e in replies_before_latest(tracker))
    named = {m.group(0) for m in re.finditer(TICKET_ID_PATTERN.strip("^$"), replied)}
    return named.pop() if len(named) == 1 else ""


def tickets_listed(tracker: Tracker) -> Dict[int, str]:
    """The tickets the replies just before the latest message listed, by the number the list gave each: a list may
    hold other lines too (a credit's among a compensation answer's)."""
    replied = "\n".join(str(e.get("text") or "") for e in replies_before_latest(tracker))
    return {int(m.group(1)): m.group(2)
            for m in re.finditer(rf"^\s*(\d+)\.\s+({TICKET_ID_PATTERN.strip('^$')})", replied, re.M)}


# "那个", "最早的", "the oldest one": one of the tickets just listed, where a bare "取消" / "never mind" is not.
ONE_OF_THEM = re.compile(r"那个|那张|那单|这个|这张|最早|最新|最后|最前|\bone\b|\bticket|earliest|oldest|latest|newest",
                         re.I)


def one_of_tickets_listed(tracker: Tracker) -> bool:
    """Whether the latest message points at one of the tickets the replies just before it listed ("撤销最早那个"),
    without naming which."""
    return bool(ONE_OF_THEM.search(latest_text(tracker))) and bool(tickets_listed(tracker))


# Every kind of ticket: what "工单" names, and what a withdrawal pointing into a list of tickets may be about.
ANY_TICKET = ("complaint", "fault")
# The tickets a message names by kind ("取消投诉", "报修的进度", "cancel my ticket"); none, no ticket.
TICKET_KINDS_NAMED = ((re.compile(r"投诉|complaint", re.I), ("complaint",)),
                      (re.compile(r"报修|故障|修好|修复|抢修|fault|repair|fixed|restored", re.I), ("fault",)),
                      (re.compile(r"工单|单子|ticket", re.I), ANY_TICKET))


# Others complaining to the customer ("客户都在投诉了", "被用户投诉"): why it is urgent, not a complaint ticket.
OTHERS_COMPLAINING = re.compile(r"(?:客户|用户|员工|同事|大家|业主|领导|老板)\S{0,4}投诉|被投诉|(?<![我们])在投诉")


def ticket_kinds_named(text: str) -> tuple:
    """The ticket kinds a message names ("取消投诉", "投诉处理到哪了": complaints); () when it names no ticket."""
    text = OTHERS_COMPLAINING.sub(" ", text)
    return next((kinds for words, kinds in TICKET_KINDS_NAMED if words.search(text)), ())
