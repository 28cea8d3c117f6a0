"""Twilio's Messages API as published (twilio-oai): request checks, dates, list filters and paging links.

Pure functions of a request's fields, so each rule is tested alone; the emulator's
handlers only apply them. Where the API leaves a choice (which error of several),
the emulator takes the one Twilio's error dictionary names for the case.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple
from urllib.parse import urlencode, urlsplit

from dateutil import parser as date_parser

from carecore.phones import InvalidPhoneNumber, to_e164

API_VERSION = "2010-04-01"
MAX_BODY_CHARS = 1600
# The list filters, in the order Twilio writes them back into its paging links.
FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
_E164 = re.compile(r"\+[1-9][0-9]{1,14}")
_SERVICE_SID = re.compile(r"MG[0-9a-fA-F]{32}")


def rfc2822(dt: datetime) -> str:
    """A Message date as Twilio writes it: ``Thu, 30 Jul 2015 20:12:31 +0000``."""
    return format_datetime(dt.astimezone(timezone.utc).replace(microsecond=0))


def error_body(status: int, code: int, message: str) -> Dict[str, Any]:
    return {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status}


class ApiError(Exception):
    """A request Twilio refuses: its HTTP status, Twilio error code and message."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True)
class Senders:
    """What the account owns: its phone numbers, and each Messaging Service's pool of them."""

    numbers: Tuple[str, ...] = ()
    services: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def pick(self, service_sid: str, to: str) -> str:
        """The pool number a Messaging Service sends from: the same one for the same recipient (sticky sender)."""
        pool = self.services[service_sid]
        return pool[sum(to.encode()) % len(pool)]


@dataclass(frozen=True)
class NewMessage:
    to: str
    body: str
    from_: Optional[str]
    service_sid: Optional[str]
    media: Tuple[str, ...]
    status_callback: Optional[str]


def checked_create(form: Mapping[str, str], media: Sequence[str], senders: Senders) -> NewMessage:
    """The message a create request asks for, or the ``ApiError`` Twilio answers it with.

    ``To`` is required; one of ``From`` and ``MessagingServiceSid``; one of ``Body`` and
    ``MediaUrl`` (``x-twilio.conditional``). The recipient's own checks (21211, 21614,
    21610) come later, from the fault plan and the number itself.
    """
    to_raw = (form.get("To") or "").strip()
    body = form.get("Body") or ""
    from_, service = (form.get("From") or "").strip(), (form.get("MessagingServiceSid") or "").strip()
    callback = (form.get("StatusCallback") or "").strip()
    if not to_raw:
        raise ApiError(400, 21604, "A 'To' phone number is required.")
    if not from_ and not service:
        raise ApiError(400, 21603, "A 'From' phone number is required.")
    if not body and not media:
        raise ApiError(400, 21619, "A text message body or media url must be specified.")
    if len(body) > MAX_BODY_CHARS:
        raise ApiError(400, 21617, "The concatenated message body exceeds the 1600 character limit.")
    if callback and not _is_http_url(callback):
        raise ApiError(400, 21609, f"The StatusCallback URL {callback} is not a valid URL.")
    if service:
        if not _SERVICE_SID.fullmatch(service) or service not in senders.services:
            raise ApiError(400, 21701, f"The Messaging Service Sid {service} is invalid.")
    if from_:
        if not _E164.fullmatch(from_):
            raise ApiError(400, 21212, f"The 'From' number {from_} is not a valid phone number, shortcode, "
                                       "or alphanumeric sender ID.")
        if from_ not in senders.numbers:
            raise ApiError(400, 21659, f"'From' {from_} is not a Twilio phone number or Short Code country "
                                       "mismatch")
    return NewMessage(to_raw, body, from_ or None, service or None, tuple(media), callback or None)


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def sent_date(value: str) -> date:
    """The GMT date a ``DateSent`` filter names, in any form Twilio's examples use; ``ValueError`` otherwise.

    ``2008-01-02``, ``2019-06-11 22:05:25.000``, ``06/11/2019 22:05:25 MST``,
    ``Wed, 19 Jun 2019 22:04:00 -0000`` and ISO 8601 (what twilio-python sends) all
    name a day. A zone the parser knows is honoured; a named one it does not (MST) is
    read as GMT, to the day.
    """
    try:
        parsed = date_parser.parse(value, ignoretz=not re.search(r"[+-]\d{2}:?\d{2}$|Z$", value.strip()))
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"DateSent is not a date: {value[:40]!r}") from exc
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(timezone.utc)
    return parsed.date()


@dataclass(frozen=True)
class ListQuery:
    filters: Dict[str, str]
    to: Optional[str]
    dates: List[Tuple[str, date]]
    page: int
    page_size: int

    @classmethod
    def parse(cls, query: Mapping[str, str]) -> ListQuery:
        """The list request's filters and page; ``ValueError`` names a malformed one."""
        filters = {name: query[name] for name in FILTERS if name in query}
        to = None
        if "To" in filters:
            try:
                to = to_e164(filters["To"], mobile_only=False)
            except InvalidPhoneNumber:
                to = filters["To"]  # matches nothing, as with Twilio
        dates = [(name[len("DateSent"):], sent_date(value)) for name, value in filters.items()
                 if name.startswith("DateSent")]
        try:
            page_size = int(query.get("PageSize", "50"))
            page = int(query.get("Page", "0"))
        except ValueError:
            raise ValueError("PageSize and Page must be integers") from None
        if not 1 <= page_size <= 1000 or page < 0:
            raise ValueError("PageSize must be from 1 to 1000, Page at least 0")
        return cls(filters, to, dates, page, page_size)

    def matches(self, message: Mapping[str, Any]) -> bool:
        if self.to is not None and message["to"] != self.to:
            return False
        if "From" in self.filters and message["from"] != self.filters["From"]:
            return False
        if self.dates:
            sent = parsedate_to_datetime(message["date_sent"]).astimezone(timezone.utc).date()
            for op, wanted in self.dates:
                if (op == "" and sent != wanted) or (op == ">" and sent < wanted) or (op == "<" and sent > wanted):
                    return False
        return True

    def page_of(self, found: Sequence[Dict[str, Any]], base: str) -> Dict[str, Any]:
        """One page of ``found`` (newest first) in Twilio's list shape, with its links keeping the filters."""
        start = self.page * self.page_size
        chunk = list(found[start:start + self.page_size])

        def uri(page: int, token: Optional[str] = None) -> str:
            params = [*self.filters.items(), ("PageSize", str(self.page_size)), ("Page", str(page))]
            if token:
                params.append(("PageToken", token))
            return f"{base}?{urlencode(params)}"

        more = start + self.page_size < len(found)
        return {
            "messages": chunk,
            "end": start + len(chunk) - 1 if chunk else 0,
            "first_page_uri": uri(0),
            "next_page_uri": uri(self.page + 1, f"PA{chunk[-1]['sid']}") if more else None,
            "page": self.page,
            "page_size": self.page_size,
            "previous_page_uri": uri(self.page - 1, f"PB{chunk[0]['sid']}") if self.page > 0 and chunk else None,
            "start": start,
            "uri": uri(self.page, self._token_of(found, start)),
        }

    @staticmethod
    def _token_of(found: Sequence[Dict[str, Any]], start: int) -> Optional[str]:
        return f"PA{found[start - 1]['sid']}" if start and start <= len(found) else None
