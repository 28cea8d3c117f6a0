"""Satisfaction surveys after a resolved ticket: reading a score, recording the one answer, opening a follow-up.

One implementation for every answer channel (SMS or chat through the assistant, the signed link page),
so a score means the same and a low one opens the same follow-up (回访) whichever way it came.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional, Tuple

from carecore.config import Settings
from carecore.model import FollowUp, SurveyChannel, Ticket, TicketEvent
from carecore.repository import Database

LOW_SCORE = 2  # this or less opens a follow-up
SATISFIED = (4, 5)  # what the satisfaction figure counts

_DIGITS = {"1": 1, "2": 2, "3": 3, "4": 4, "5": 5, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_DIGIT_ANSWER = re.compile(r"^(?:打|给|评|评分|score|rating|rate|myratingis|(?:id|iwould)rate(?:it|you|us)?"
                           r"|(?:i|id|iwould)?give(?:it|you)?a?)?([1-5一二两三四五])"
                           r"(?:分|星|颗星|stars?|points?|outof5|outoffive)?$")
_ENGLISH_NUMBERS = ("one", "two", "three", "four", "five")
_NUMBER_WORDS = re.compile(r"\b(one|two|three|four|five)\b")
# "4/5" and "10 out of 10" are scores out of 5 and 10; "8/10" counts as 4
_OUT_OF = re.compile(r"^\s*(10|[0-9])\s*(?:/|out of)\s*(5|10)\s*(?:stars?|points?)?\s*$")
# Words around a score that do not change it: "the service was excellent", "a solid 4", "服务一般", "superb, thanks"
_FRAME = re.compile(r"^(?:(?:(?:the )?service (?:was|is)|it was|i['’]d say|i would say|i feel|a solid|solid|a)\s+|服务)"
                    r"|[\s,，]*(?:service|at best|about it|thank you|thanks)[\s!.！。]*$")
_WORDS = {
    5: ("非常满意", "很满意", "十分满意", "特别满意", "超级满意", "verysatisfied", "extremelysatisfied", "excellent",
        "great", "perfect", "verygood", "reallysatisfied", "fantastic", "outstanding", "superb", "veryhappy",
        "imverysatisfied", "满分", "很棒", "我很满意", "veryhappywithit", "amazing", "greatjob",
        "5verysatisfied", "wonderful", "brilliant", "terrific", "非常好", "特别好", "好评", "五星好评", "给个好评"),
    4: ("满意", "比较满意", "挺满意", "还满意", "很好", "不错", "satisfied", "good", "quitesatisfied", "prettygood",
        "iamsatisfied", "wearesatisfied", "satisfactory", "happy", "notbad", "挺好", "quitegood", "fairlysatisfied",
        "decent", "satisfiedoverall", "还不错", "很不错", "还算满意", "notbadatall", "fairlydecent",
        "prettydecent", "aboveaverage"),
    3: ("一般", "一般般", "还行", "还可以", "凑合", "普通", "average", "neutral", "soso", "fair", "mediocre", "okayish",
        "couldbebetter", "meh", "okish", "3starsaverage", "马马虎虎", "普普通通", "很一般", "prettyaverage",
        "prettymediocre"),
    2: ("不满意", "不太满意", "不大满意", "差", "较差", "不好", "dissatisfied", "unsatisfied", "notsatisfied",
        "bad", "poor", "unhappy", "notgood", "disappointed", "imdissatisfied", "我不满意", "prettybad",
        "somewhatdissatisfied", "2starsonly", "notsatisfiedatall", "nothappy", "不怎么样", "不太好", "notgoodenough",
        "belowaverage"),
    1: ("非常不满意", "很不满意", "十分不满意", "特别不满意", "极不满意", "很差", "非常差", "太差", "verydissatisfied",
        "veryunsatisfied", "verybad", "reallybad", "terrible", "awful", "horrible", "unacceptable", "verypoor",
        "only1star", "1verybad", "reallypoor", "verydisappointed"),
}
_SCORES = {word: score for score, words in _WORDS.items() for word in words}
_NOISE = re.compile(r"[\s\W_]+|[的了啊吧呀哦呢]+$")


def score_of(text: str) -> Optional[int]:
    """The 1-5 score a reply means ("5", "五分", "满意", "very satisfied", "bad"), or None if it is not one."""
    return _read(text)[0]


def feeling_of(text: str) -> Optional[int]:
    """The score a reply says in words ("很不满意", "great job"), None for a number or no score.

    With no survey waiting, a word still says how the customer feels and deserves an answer to that, while
    a bare digit may answer anything (a list, a code) and only gets told no survey is waiting.
    """
    score, worded = _read(text)
    return score if worded else None


def _read(text: str) -> Tuple[Optional[int], bool]:
    normal = unicodedata.normalize("NFKC", text or "").strip().lower()
    normal = _NUMBER_WORDS.sub(lambda word: str(_ENGLISH_NUMBERS.index(word.group(1)) + 1), normal)
    framed = None
    while framed != normal:
        framed, normal = normal, _FRAME.sub("", normal).strip()
    out_of = _OUT_OF.match(normal)
    if out_of:
        points, scale = int(out_of.group(1)), int(out_of.group(2))
        return (max(1, round(points * 5 / scale)) if 0 < points <= scale else None), False
    squeezed = _NOISE.sub("", _NOISE.sub("", normal))
    if not squeezed:
        return None, False
    digit = _DIGIT_ANSWER.match(squeezed)
    if digit:
        return _DIGITS[digit.group(1)], False
    return _SCORES.get(squeezed), True


def replies_reach_us(mobile: str) -> bool:
    """Whether an SMS reply from this mobile reaches the product: Twilio has no two-way SMS with +86 numbers."""
    return not mobile.startswith("+86")


@dataclass(frozen=True)
class Answer:
    score: int
    channel: SurveyChannel
    comment: Optional[str] = None


class AlreadyAnswered(Exception):
    """The ticket's survey has its one answer already, or was never sent."""


async def record_answer(db: Database, settings: Settings, ticket: Ticket, answer: Answer, now: datetime, *,
                        actor: str) -> Optional[FollowUp]:
    """Record the answer on the ticket, with the follow-up a low score opens for the customer's account manager
    (for a complaint about them, their supervisor).

    Raises ``AlreadyAnswered`` when the survey was answered meanwhile (two channels at once): the first
    answer stands.
    """
    if not 1 <= answer.score <= 5:
        raise ValueError(f"a survey score is 1 to 5, not {answer.score}")
    comment = (answer.comment or "").strip()[:500] or None
    followup = None
    if answer.score <= LOW_SCORE:
        customer = await db.customers.get(ticket.customer_id)
        if customer is not None:
            owner = await db.managers.answering(customer.account_manager_id, ticket.about_manager)
            followup = FollowUp(manager_id=owner.id if owner else customer.account_manager_id, opened_at=now,
                                due=now + timedelta(hours=settings.followup_hours))
    note = f"survey answered by {answer.channel.value}: {answer.score}/5" + (f" — {comment}" if comment else "")
    event = TicketEvent(at=now, actor=actor, action="survey_answer", note=note[:2000])
    fields = {"score": answer.score, "comment": comment, "channel": answer.channel.value, "answered_at": now}
    if not await db.tickets.answer_survey(ticket.id, fields, event, followup):
        raise AlreadyAnswered(ticket.id)
    return followup
