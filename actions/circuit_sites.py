"""Which circuit a place in a message names: customers with several lines tell them apart by site ("长城大厦那条",
"the Wuhan line"), not by id. A place is part of a circuit's A or Z end that none of the customer's other circuits
has; said in English, it is that part spelt in pinyin."""

from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import FrozenSet, Iterator, List, Optional, Set, Tuple

import jieba
import jieba.posseg
from pypinyin import lazy_pinyin

from carecore.model import Circuit

jieba.setLogLevel(logging.WARNING)

# What makes a place in a message a circuit's ("长城大厦那条", "武汉的专线", "到杭州那边的电路", "the Wuhan line",
# "the one to Hangzhou") rather than where a symptom was seen or who said it.
AS_A_LINE = re.compile(r"\s*(?:那边|这边|那头|这头|端)?的?(?:[那这][条根个路]|专线|电路|线路|链路)")
# In English, the line word follows the place ("the Wuhan line") or comes before it ("the one to Hangzhou").
LINE_AFTER = re.compile(r"\s+(?:one|line|circuit|link|site|office|branch|end)\b", re.I)
LINE_BEFORE = re.compile(r"\b(?:one|line|circuit|link)\s+(?:to|at|in|from|for)\s+(?:the\s+|our\s+)?$", re.I)
CJK_RUN = re.compile(r"[\u4e00-\u9fff]{2,}")
ROMAN_WORD = re.compile(r"[A-Za-z][A-Za-z']{3,}")  # "Wuhan", "Xi'an": two syllables at least
LONGEST_PLACE = 16  # characters of a site a message is matched on at once: "上海市浦东新区金桥大厦" and more


def sited(circuits: List[Circuit], text: str, *, as_a_line: bool) -> Optional[Circuit]:
    """The one circuit a place in the message fits alone. Where the message may be about something else (a
    question, a correction), the place must be said as a line's (``as_a_line``: "武汉那条", "the Wuhan line"); an
    answer to "which circuit?" needs no such word."""
    sites = [" ".join(end for end in (c.a_end, c.z_end) if end) for c in circuits]
    fits = _by_characters(sites, text, as_a_line) | _by_pinyin(sites, text, as_a_line)
    return circuits[fits.pop()] if len(fits) == 1 else None


# A place said as where a line is ("南京办公室的专线", "深圳分公司网络", "苏州那条"), not where a symptom is seen
# from ("从北京访问很慢").
SITE_OF_A_LINE = re.compile(r"\s*(?:办公室|分公司|子公司|公司|工厂|厂区|机房|园区|大楼|门店|总部|分部|分行|支行|那边|这边|那头|这头)?"
                            r"的?(?:[那这][条根个路]|专线|电路|线路|链路|网络|宽带|网)")


def place_elsewhere(circuits: List[Circuit], text: str) -> Optional[str]:
    """A place the message says a line is at ("我们南京办公室的专线断了") that is at no end of the customer's
    circuits: the fault may be on a line the operator does not serve them, so their only circuit is not assumed."""
    sites = "\n".join(end for c in circuits for end in (c.a_end, c.z_end) if end)
    if not sites or not CJK_RUN.search(text):
        return None
    at = 0
    for word, flag in jieba.posseg.cut(text):  # the words cover the text in order
        at += len(word)
        if flag == "ns" and len(word) >= 2 and word not in sites and SITE_OF_A_LINE.match(text, at):
            return word
    return None


def place_shared(circuits: List[Circuit], text: str) -> Optional[Tuple[str, int]]:
    """A place in the message that several of the circuits end in ("深圳那条" when all three start in Shenzhen,
    "the Shenzhen one"), with how many: it tells none of them apart, and is no circuit "not theirs"."""
    sites = [" ".join(end for end in (c.a_end, c.z_end) if end) for c in circuits]
    for _, piece in _site_pieces(sites, text):
        having = sum(piece in site for site in sites)
        if having > 1:
            return piece, having
    for word in ROMAN_WORD.finditer(text):
        having = sum(word.group().replace("'", "").lower() in _spellings(site) for site in sites)
        if having > 1:
            return word.group(), having
    return None


def _site_pieces(sites: List[str], text: str) -> Iterator[Tuple[int, str]]:
    """From each character of the message's Chinese runs, the longest piece some site has, and where it ends."""
    every_site = "\n".join(sites)  # one look first: most pieces of a message are in no site at all
    for run in CJK_RUN.finditer(text):
        for start in range(run.start(), run.end() - 1):
            end = next((end for end in range(min(run.end(), start + LONGEST_PLACE), start + 1, -1)
                        if text[start:end] in every_site), None)
            if end is not None:
                yield end, text[start:end]


def _by_characters(sites: List[str], text: str, as_a_line: bool) -> Set[int]:
    fits = set()
    for end, piece in _site_pieces(sites, text):
        having = [i for i, site in enumerate(sites) if piece in site]
        if len(having) == 1 and (not as_a_line or AS_A_LINE.match(text, end)):
            fits.add(having[0])
    return fits


def _by_pinyin(sites: List[str], text: str, as_a_line: bool) -> Set[int]:
    fits = set()
    for word in ROMAN_WORD.finditer(text):
        if as_a_line and not (LINE_AFTER.match(text, word.end()) or LINE_BEFORE.search(text[:word.start()])):
            continue
        spelt = word.group().replace("'", "").lower()
        having = [i for i, site in enumerate(sites) if spelt in _spellings(site)]
        if len(having) == 1:
            fits.add(having[0])
    return fits


@lru_cache(maxsize=4096)
def _spellings(site: str) -> FrozenSet[str]:
    """Every run of two or more syllables of ``site`` spelt together: "wuhan", "wuhanshuju", … for 武汉数据中心. Read
    word by word, so that 长城 is "changcheng", not the "zhang" of 州长."""
    syllables: Tuple[str, ...] = tuple(s.lower() for s in lazy_pinyin(jieba.lcut(site)))
    return frozenset("".join(syllables[i:j]) for i in range(len(syllables)) for j in range(i + 2, len(syllables) + 1)
                     if all(s.isalpha() for s in syllables[i:j]))
