"""Which of the customer's circuits a message means: a choice from the list, a mention that fits one alone (its
bandwidth, its type, a place at either end: ``circuit_sites``), a circuit asked about ("is circuit 2 up") or referred
back to ("what's the SLA on it"), or a correction of the one chosen ("不对，是第三条") while the fault form goes on."""

from __future__ import annotations

import re
from typing import List, Optional

from rasa_sdk import Tracker

from actions.circuit_sites import sited
from actions.message_reading import (
    ASKING,
    MID_FORM_QUESTIONS,
    answer_read_as,
    last_said,
    questions_named,
    replies_before_latest,
)
from carecore.model import Circuit, Customer
from carecore.texts import circuit_line

ORDINALS = {"第一": 0, "第二": 1, "第三": 2, "第四": 3, "FIRST": 0, "SECOND": 1, "THIRD": 2, "FOURTH": 3}
# What names a circuit's type in a message. Not "专线": customers call every line that.
TYPE_WORDS = {"ddn": re.compile(r"(?<![-A-Za-z0-9])DDN(?![-A-Za-z0-9])", re.I),
              "internet_access": re.compile(r"(?<![-A-Za-z0-9])DIA(?![-A-Za-z0-9])|互联网(?:专线|那条|那根|线路|电路)|上网专线"
                                            r"|internet (?:access|line|one|circuit)", re.I),
              "voice": re.compile(r"固话|座机|固定电话|电话线|语音|中继|总机|拨号音|电话(?=\S{0,3}(?:打不|不通|没|无|拨不|占线|杂音))|\b(?:landlines?|phone lines?|voice|"
                                  r"trunks?|PBX|switchboard|dial tone|desk phones?|phones|(?:outgoing|incoming|outside) calls)\b", re.I)}
# What points back at the circuit the assistant just spoke of ("is it back up", "这条的SLA呢").
REFERRING = re.compile(r"\bit\b|\bits\b|\bthis (?:one|line|circuit)\b|\bthat (?:one|line|circuit)\b|它|这条|那条|该电路"
                       r"|这个电路|这根|\b(?:for|on|of|about) that\b(?!\s+(?:month|bill|ticket|complaint))", re.I)
# A list position said as a circuit's ("第三条", "3号线路", "circuit 3", "the third one"), never a bare digit or
# "3号", which may be a time or a date ("不对，是3号开始的").
# English words are bounded by what is not a letter or digit: "查下circuit 2的状态" mixes them with Chinese.
CHOICE_WORDS = re.compile(r"第\s*([1-4一二三四])\s*(?:条|个|路|号)|([1-9])\s*号(?:电路|线路|专线)"
                          r"|(?<![A-Za-z])(?:circuit|line)\s*(?:no\.?\s*|number\s*|#\s*)?([1-9])(?![0-9])"
                          r"|(?<![A-Za-z])(first|second|third|fourth)\s+(?:one|circuit|line)(?![A-Za-z])", re.I)
# A message that names a circuit by its place in the list and nothing else ("那第三条呢", "and circuit 3?"): the
# question just answered, asked again of that circuit.
CIRCUIT_ALONE = re.compile(r"(?:那|那么)?(?:第\s*[1-4一二三四]\s*(?:条|个|路|号)|[1-9]\s*号)(?:电路|线路|专线)?的?呢?[?？。]?"
                           r"|(?:(?:and|what about|how about)\s+)?(?:(?:circuit|line)\s*(?:no\.?\s*|number\s*|#\s*)?[1-9]"
                           r"|(?:the\s+)?(?:first|second|third|fourth)\s+(?:one|circuit|line))\s*[?？]?", re.I)

# What names a circuit in a way the customer's list can be checked against, when it fits none of theirs: an id, a
# position ("第五条", "5"), a bandwidth. "办公室那条", "that's all" name nothing the list can say no to.
CIRCUIT_ID = re.compile(r"(?<![A-Za-z])[A-Za-z]{2,4}-[A-Za-z0-9]{2,6}-\d{3,}")
POSITION = re.compile(r"第\s*[0-9一二三四五六七八九十]+\s*(?:条|个|路|号)|\b(?:circuit|line)\s*(?:no\.?\s*|#\s*)?\d+\b", re.I)
BANDWIDTH = re.compile(r"(?<![0-9.])\d+(?:\.\d+)?\s*(?:[KMG](?:B|BPS)?|兆|千兆)(?![A-Za-z])", re.I)


def choice(circuits: List[Circuit], text: str) -> Optional[Circuit]:
    """A circuit by id, by its number in the list (said as a circuit's, "circuit 2", or bare, "2", "第二"), or by a
    mention only one circuit fits."""
    upper = text.strip().upper()
    by_id = [c for c in circuits if c.circuit_id.upper() in upper]
    if by_id:
        return by_id[0]
    if CHOICE_WORDS.search(text):
        return named(circuits, text)
    index = next((i for word, i in ORDINALS.items() if word in upper), None)
    number = re.fullmatch(r"\D{0,6}([1-9])\D{0,6}", upper)
    if index is None and number:
        index = int(number.group(1)) - 1
    if index is not None:
        return circuits[index] if 0 <= index < len(circuits) else None
    return hinted(circuits, upper) or sited(circuits, text, as_a_line=False)


def names_a_circuit(text: str) -> bool:
    """Whether an answer to "which circuit?" that ``choice`` found none of theirs names one all the same, so that
    it can be told it is not theirs; any other answer is one the assistant could not place."""
    upper = text.strip().upper()
    return bool(CIRCUIT_ID.search(text) or POSITION.search(text) or CHOICE_WORDS.search(text) or BANDWIDTH.search(text)
                or any(word in upper for word in ORDINALS) or re.fullmatch(r"(?:NO\.?|#)?\s*\d+\s*[号条个路]?[。.]?", upper)
                or any(words.search(text) for words in TYPE_WORDS.values()))


# ... or by a mention, a place at one end, a bandwidth, a type ("and the Beijing one?", "那100M那条呢")
MENTION_ALONE = re.compile(r"(?:(?:and|what about|how about)\s+)?(?:the\s+)?[A-Za-z0-9][A-Za-z0-9' ]{0,30}?\s*"
                           r"(?:one|line|circuit|link)\s*[?？.]?|"
                           r"(?:那|那么)?[\u4e00-\u9fffA-Za-z0-9]{1,16}?(?:那边|这边)?的?(?:那条|那根|线路|电路|专线)"
                           r"(?:呢|怎么样|如何)?[?？。]?", re.I)


def circuit_alone(text: str, circuits: Optional[List[Circuit]] = None) -> bool:
    """Whether the message names a circuit of the list and asks nothing else: by its place in the list
    (``CIRCUIT_ALONE``), or by a mention that fits one of ``circuits`` alone."""
    said = text.strip()
    if CIRCUIT_ALONE.fullmatch(said):
        return True
    return circuits is not None and bool(MENTION_ALONE.fullmatch(said)) and named(circuits, said) is not None


def choice_read_as_question(tracker: Tracker, circuits: List[Circuit]) -> Optional[str]:
    """Asked which circuit, a choice that asks nothing ("第二条", "the Wuhan one") the model read as a question about
    the account, or as out of scope ("actually it's the 100M one"): the answer, which the form takes ("第四条" of two,
    to be told it is none of theirs); answered as a question, it got that circuit's status or SLA and the list again.
    One that names a question ("武汉那条的SLA") is still answered as asked."""
    said = answer_read_as(tracker, "fault_circuit", (*MID_FORM_QUESTIONS, "out_of_scope"),
                          lambda text: not ASKING.search(text) and not questions_named(text))
    return said if said and (CHOICE_WORDS.search(said) or choice(circuits, said) is not None) else None


def voice_unserved(circuits: List[Circuit], text: str) -> bool:
    """Whether a fault report is of landlines ("座机打不通", "no dial tone") that none of the customer's services
    carries: the assistant cannot take it on a leased line, and the only circuit is not assumed."""
    return bool(TYPE_WORDS["voice"].search(text)) and all(c.type != "voice" for c in circuits)


_UNIT_MBPS = {"K": 0.001, "M": 1.0, "G": 1000.0, "兆": 1.0, "千兆": 1000.0, "GIGABIT": 1000.0}


def mbps(said: str) -> Optional[float]:
    """A bandwidth as said or listed ("2M", "64K", "1G", "1000兆", "千兆", "gigabit") in Mbit/s: "1000M" is the "1G"
    line."""
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)?\s*(千兆|兆|gigabit|[KMG])(?:B|BPS)?\s*", said, re.I)
    if found is None or not (found.group(1) or found.group(2).upper() in ("千兆", "GIGABIT")):
        return None
    return float(found.group(1) or 1) * _UNIT_MBPS[found.group(2).upper()]


def bandwidths_said(text: str) -> List[str]:
    """The bandwidths a message names; "4G", "5G" are the mobile network's generations."""
    said = [m.group(0) for m in BANDWIDTH.finditer(text) if not re.fullmatch(r"\s*[2-5]\s*G", m.group(0), re.I)]
    return said or [m.group(0) for m in re.finditer(r"千兆|\bgigabit\b", text, re.I)]


def hinted(circuits: List[Circuit], text: str) -> Optional[Circuit]:
    """The one circuit a mention of bandwidth or type fits ("155M的电路", "1000兆那条", "our DIA line"), if only one
    does."""
    said = {mbps(b) for b in bandwidths_said(text)} - {None}
    hints = [c for c in circuits if mbps(c.bandwidth) in said
             or (c.type in TYPE_WORDS and TYPE_WORDS[c.type].search(text))]
    return hints[0] if len(hints) == 1 else None


def bandwidth_unserved(circuits: List[Circuit], text: str) -> Optional[str]:
    """A bandwidth the report names ("our 2M line is slow") that none of the customer's circuits has: told so, the
    customer chooses from the list or has the manager check that line."""
    had = {mbps(c.bandwidth) for c in circuits}
    return next((b for b in bandwidths_said(text) if mbps(b) not in had), None)


def named(circuits: List[Circuit], text: str) -> Optional[Circuit]:
    """The circuit a message names among others: by id, by a list position said as a circuit's, or by a mention
    that fits one alone; None when it names none (a time, a symptom). A question ("is circuit 2 up") and a
    correction of the one chosen while the fault form goes on read it."""
    by_id = [c for c in circuits if c.circuit_id.upper() in text.upper()]
    if by_id:
        return by_id[0]
    said = CHOICE_WORDS.search(text)
    if said:
        word = next(g for g in said.groups() if g)
        index = int(word) - 1 if word.isdigit() else ORDINALS.get("第" + word, ORDINALS.get(word.upper(), -1))
        return circuits[index] if 0 <= index < len(circuits) else None
    return hinted(circuits, text) or sited(circuits, text, as_a_line=True)



def referred(circuits: List[Circuit], said: str, replied: List[str]) -> Optional[Circuit]:
    """The circuit a message names, or points back at ("it", "这条") when the assistant's replies just before it
    (``replied``) named that circuit alone."""
    found = named(circuits, said)
    if found is not None or not REFERRING.search(said):
        return found
    spoken = [c for c in circuits if any(c.circuit_id in text for text in replied)]
    return spoken[0] if len(spoken) == 1 else None


def numbered(lines: List[str], circuits: List[Circuit], customer: Customer) -> str:
    """A line per circuit, numbered as the circuit is in the customer's list, so that one answered alone keeps the
    number the customer may name it by ("circuit 3")."""
    return "\n".join(f"{customer.services.index(c) + 1}. {line}" for c, line in zip(circuits, lines, strict=True))


def numbered_circuit(customer: Customer, circuit: Circuit, lang: str) -> str:
    """"2. SD-DIA-0000067-2 dedicated internet access 1G (…)": one circuit named as in the list."""
    return numbered([circuit_line(circuit, lang)], [circuit], customer)


def circuit_meant(customer: Customer, tracker: Tracker, *intents: str) -> Optional[Circuit]:
    """The circuit the request (the latest message of ``intents``) names, "155M那条的故障", "circuit 2", or points back
    at, "is it back up": what it alone is about."""
    replied = [str(e.get("text") or "") for e in replies_before_latest(tracker)]
    return referred(customer.services, last_said(tracker, *intents), replied)


def circuit_asked(customer: Customer, tracker: Tracker, *intents: str) -> Optional[str]:
    """The id of ``circuit_meant``, which the ticket lookups filter by."""
    meant = circuit_meant(customer, tracker, *intents)
    return meant.circuit_id if meant else None
