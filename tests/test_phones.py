"""E.164 normalisation and log masking."""

from __future__ import annotations

import logging

import pytest

from carecore.phones import InvalidPhoneNumber, MaskPhoneNumbersFilter, as_dialled, mask, mask_text, readable, to_e164


@pytest.mark.parametrize("raw", ["13800138000", "138 0013 8000", "+86 138-0013-8000", "008613800138000"])
def test_chinese_mobiles_normalise_to_e164(raw: str) -> None:
    assert to_e164(raw) == "+8613800138000"


@pytest.mark.parametrize("raw", ["", "12345", "abc", "+86 10 6552 9988", "1380013800"])
def test_invalid_or_landline_numbers_are_refused(raw: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        to_e164(raw)


def test_landline_allowed_when_not_mobile_only() -> None:
    assert to_e164("010 6552 9988", mobile_only=False) == "+861065529988"


def test_spreadsheets_get_numbers_as_dialled_from_china_never_starting_with_a_plus() -> None:
    assert as_dialled("+8613800138000") == "138 0013 8000"
    assert as_dialled("+16502530000") == "00 1 650-253-0000"


def test_replies_show_numbers_as_their_reader_dials_them() -> None:
    assert (readable("+8613920000001", "zh"), readable("+8613920000001", "en")) == ("139 2000 0001",
                                                                                     "+86 139 2000 0001")


def test_masking_keeps_only_the_edges() -> None:
    assert mask("+8613800138000") == "+861******8000"
    assert "13800138000" not in mask_text("call 13800138000 or +86 139 0013 9000 now")
    assert mask_text("GET /Messages.json?To=%2B8613800138000&PageSize=20") == "GET /Messages.json?To=%2B861******8000&PageSize=20"
    assert mask_text("138-0013-8000 at 2026-12-05 11:16:37 CST") == "138****8000 at 2026-12-05 11:16:37 CST"
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "sms to %s failed", ("+8613800138000",), None)
    MaskPhoneNumbersFilter().filter(record)
    assert record.getMessage() == "sms to +861******8000 failed"
