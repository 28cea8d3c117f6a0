"""How many SMS segments a text costs, and in which encoding.

Cost is per segment. GSM-7 holds 160 septets in one segment and 153 per part
once split (extension characters take two septets). Anything outside GSM-7
(Chinese, emoji) switches the whole message to UCS-2: 70 code units in one
segment, 67 per part; characters outside the BMP take two UTF-16 code units.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

GSM7_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = set("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
MAX_BODY_CHARS = 1600  # the longest Body Twilio takes (error 21617 beyond)


@dataclass(frozen=True)
class SegmentInfo:
    encoding: str
    units: int  # septets for GSM-7, UTF-16 code units for UCS-2
    segments: int


def _segments(units: int, single: int, multi: int) -> int:
    if units == 0:
        return 1
    if units <= single:
        return 1
    return -(-units // multi)


@functools.lru_cache(maxsize=256)
def segment_info(text: str) -> SegmentInfo:
    """The encoding and segment count of ``text``, remembered for the latest texts asked about.

    A campaign asks twice for each message, once when it renders the text and once when
    the gateway records it, a moment apart; the answer depends on the text alone and
    cannot change, so the second costs one lookup instead of a scan of the text.
    """
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        septets = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        return SegmentInfo(GSM7, septets, _segments(septets, 160, 153))
    units = len(text.encode("utf-16-le")) // 2
    return SegmentInfo(UCS2, units, _segments(units, 70, 67))


# What the longest body can cost: 1,600 characters, each two UTF-16 units at worst (an emoji). A reply of 700 Chinese
# characters (three circuits' SLA, in English with Chinese sites) is 11 segments, and must still go.
MAX_SEGMENTS = _segments(2 * MAX_BODY_CHARS, 70, 67)
