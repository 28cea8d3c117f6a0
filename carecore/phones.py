"""Phone numbers: parse to E.164 with ``phonenumbers`` and mask for logs."""

from __future__ import annotations

import logging
import re

import phonenumbers

DEFAULT_REGION = "CN"


class InvalidPhoneNumber(ValueError):
    pass


def to_e164(raw: str, region: str = DEFAULT_REGION, *, mobile_only: bool = True) -> str:
    """Normalise a number as users type it ("138 0013 8000", "+86-138...") to E.164.

    Raises ``InvalidPhoneNumber`` with the reason, so callers can name the field.
    """
    if not isinstance(raw, str) or not raw.strip():
        raise InvalidPhoneNumber("empty phone number")
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumber(f"not a phone number: {mask(raw)}") from exc
    # number_type is UNKNOWN exactly when is_valid_number is false: one pattern check, not two.
    kind = phonenumbers.number_type(parsed)
    if kind == _UNKNOWN:
        raise InvalidPhoneNumber(f"not a valid number: {mask(raw)}")
    if mobile_only and kind not in _MOBILE_TYPES:
        raise InvalidPhoneNumber(f"not a mobile number: {mask(raw)}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def as_dialled(e164: str, region: str = DEFAULT_REGION) -> str:
    """A stored number as it is dialled from ``region`` ("138 0013 8000", "00 1 650-253-0000"): what a
    spreadsheet should hold, since a cell starting with "+" reads as a formula."""
    return phonenumbers.format_out_of_country_calling_number(phonenumbers.parse(e164), region)


def readable(e164: str, lang: str) -> str:
    """A stored number as a person reads it in a reply: as dialled in China ("139 2000 2002") in Chinese,
    internationally ("+86 139 2000 2002") in English, whose readers may be abroad."""
    if lang == "en":
        return phonenumbers.format_number(phonenumbers.parse(e164), phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return as_dialled(e164)


_UNKNOWN = phonenumbers.PhoneNumberType.UNKNOWN
_MOBILE_TYPES = (phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE)


def mask(number: str) -> str:
    """Keep the first 3 and the last 4 digits: +8613800138000 -> +861******8000."""
    digits = re.sub(r"\D", "", number or "")
    if len(digits) <= 4:
        return "*" * len(digits)
    head = "+" if (number or "").strip().startswith("+") else ""
    keep_head = 3 if len(digits) > 9 else 0
    return head + digits[:keep_head] + "*" * (len(digits) - keep_head - 4) + digits[-4:]


# A number in a URL's query string starts with an encoded plus (twilio-python logs its lookups' URLs).
_PHONE_IN_TEXT = re.compile(r"(%2B|(?<!\w)\+?)(\d[\d\- ]{8,16}\d)(?!\w)", re.IGNORECASE)
# A timestamp such as "2026-12-05 11:01" has the same shape; masking it would hide when things happened.
_DATE_IN_RUN = re.compile(r"(?<!\d)\d{4}-\d{1,2}-\d{1,2}(?!\d)")


def _masked(match: re.Match[str]) -> str:
    sign, number = match.groups()
    if _DATE_IN_RUN.search(number):
        return match.group(0)
    if sign.upper() == "%2B":  # the URL keeps its encoding
        return sign + mask("+" + number)[1:]
    return mask(sign + number)


def mask_text(text: str) -> str:
    """Mask every phone-number-looking run in free text (log lines, exception messages, URLs)."""
    return _PHONE_IN_TEXT.sub(_masked, text)


class MaskPhoneNumbersFilter(logging.Filter):
    """Logging filter that masks phone numbers in every record, whoever logs them.

    Installed on the root handlers so third-party loggers (twilio, aiohttp, rasa)
    cannot leak a customer's number either.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover - a broken format string is not ours to fix
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    target = logger or logging.getLogger()
    for handler in target.handlers or []:
        if not any(isinstance(f, MaskPhoneNumbersFilter) for f in handler.filters):
            handler.addFilter(MaskPhoneNumbersFilter())
