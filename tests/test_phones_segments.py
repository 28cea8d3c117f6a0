"""E.164 normalisation, log masking and SMS segment arithmetic."""

from __future__ import annotations

import logging
from typing import Optional

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carecore.phones import InvalidPhoneNumber, MaskPhoneNumbersFilter, _plain_e164, mask, mask_text, to_e164
from carecore.sms.segments import GSM7, UCS2, segment_info


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000"])
def test_chinese_mobiles_normalise_to_e164(raw: str) -> None:
    assert to_e164(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["", "12345", "abc", "+86 10 6552 9988", "1380013800"])
def test_invalid_or_landline_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


def test_landline_allowed_when_not_mobile_only() -> None:
    assert to_e164("010 6552 9988", mobile_only=False) == "+861065529988"


def _by_parse(raw: str, mobile_only: bool) -> Optional[str]:
    """What ``to_e164`` answered before its plain E.164 path: ``parse`` for every number (None: refused)."""
    try:
        parsed = phonenumbers.parse(raw, "CN")
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    if mobile_only and phonenumbers.number_type(parsed) not in (
            phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _ours(raw: str, mobile_only: bool) -> Optional[str]:
    try:
        return to_e164(raw, mobile_only=mobile_only)
    except InvalidPhoneNumber:
        return None


def _example_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):  # every PhoneNumberType with an example
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def test_plain_e164_path_agrees_with_parse_on_every_regions_examples() -> None:
    numbers = _example_numbers()
    assert len(numbers) > 1000
    taken = sum(_plain_e164(raw) is not None for raw in numbers)
    assert taken > len(numbers) // 2  # the path is actually taken, not left to parse every time
    for raw in numbers:
        for mobile_only in (False, True):
            assert _ours(raw, mobile_only) == _by_parse(raw, mobile_only), raw


@settings(max_examples=3000, deadline=None)
@given(country=st.integers(1, 999), rest=st.text("0123456789", min_size=3, max_size=13))
def test_plain_e164_path_agrees_with_parse_on_any_digits(country: int, rest: str) -> None:
    raw = f"+{country}{rest}"
    for mobile_only in (False, True):
        assert _ours(raw, mobile_only) == _by_parse(raw, mobile_only), raw


@pytest.mark.parametrize("raw", [
    "+390612345678",  # Italy: a national number with a leading zero
    "+861790138001380",  # China: a carrier selection code, stripped by parse
    "+8601065529988",  # China: the national prefix written after the country code
])
def test_numbers_parse_normalises_are_left_to_parse(raw: str) -> None:
    assert _plain_e164(raw) is None
    assert _ours(raw, False) == _by_parse(raw, False)


def test_masking_keeps_only_the_edges() -> None:
    assert mask("+8613800138000") == "+861******8000"
    assert "13800138000" not in mask_text("call 13800138000 or +86 139 0013 9000 now")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sms to %s failed", ("+8613800138000",), None)
    MaskPhoneNumbersFilter().filter(record)
    assert record.getMessage() == "sms to +861******8000 failed"


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
