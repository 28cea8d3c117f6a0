"""SMS segment arithmetic: GSM-7 and UCS-2, single and multipart."""

from __future__ import annotations

import pytest

from carecore.sms.segments import GSM7, UCS2, segment_info


@pytest.mark.parametrize(("text", "encoding", "segments"), [
    ("", GSM7, 1),
    ("a" * 160, GSM7, 1),
    ("a" * 161, GSM7, 2),
    ("a" * 306, GSM7, 2),
    ("a" * 307, GSM7, 3),
    ("€" * 80, GSM7, 1),  # extension characters take two septets
    ("€" * 81, GSM7, 2),
    ("中" * 70, UCS2, 1),
    ("中" * 71, UCS2, 2),
    ("中" * 134, UCS2, 2),
    ("中" * 135, UCS2, 3),
    ("a" * 69 + "😀", UCS2, 2),  # an emoji is two UTF-16 units
    ("【中国电信】尊敬的客户，您好", UCS2, 1),
])
def test_segments(text: str, encoding: str, segments: int) -> None:
    info = segment_info(text)
    assert (info.encoding, info.segments) == (encoding, segments)
