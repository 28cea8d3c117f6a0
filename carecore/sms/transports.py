"""Where an SMS physically goes: Twilio (real or the local emulator), or a console outbox.

The transport only talks to the outside world and classifies what came back (``Outcome``), since
that decides whether a resend is safe; what to retry, record or suppress is the gateway's job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from enum import Enum
from pathlib import Path
from typing import Any, Dict, Optional, Protocol, Tuple

import aiohttp
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from carecore.phones import mask

log = logging.getLogger(__name__)

UNSUBSCRIBED = 21610
INVALID_TO = 21211
NOT_MOBILE = 21614
# Twilio stamps dates to the second; allow for clock skew between us and the provider.
LOOKUP_SLACK_S = 120


class Outcome(str, Enum):
    throttled = "throttled"
    unreachable = "unreachable"
    ambiguous = "ambiguous"
    permanent = "permanent"


class TransportError(Exception):
    def __init__(
        self,
        outcome: Outcome,
        message: str,
        *,
        code: Optional[int] = None,
        http_status: Optional[int] = None,
        retry_after_s: Optional[float] = None,
    ) -> None:
        super().__init__(message)
        self.outcome = outcome
        self.code = code
        self.http_status = http_status
        self.retry_after_s = retry_after_s


@dataclass(frozen=True)
class Accepted:
    sid: str
    status: str  # Twilio's status at creation: queued / accepted / sent ...


class SmsTransport(Protocol):
    name: str

    async def create(self, to: str, body: str, status_callback: Optional[str]) -> Accepted:
        """Hand one message over; raises ``TransportError``."""

    async def find_sent(self, to: str, body: str, since: datetime) -> Optional[Accepted]:
        """The message with this recipient and body sent since ``since``, if the provider has it."""

    async def status_of(self, sid: str) -> Optional[Tuple[str, Optional[int]]]:
        """The message's status and error code as the provider has them now; None if it keeps none."""

    async def close(self) -> None:
        ...


# Response headers of the current task's last Twilio request: TwilioRestException
# drops them, and Retry-After decides whether a 503 is safe to retry.
_last_headers: ContextVar[Optional[Any]] = ContextVar("twilio_last_headers", default=None)


class _HeaderKeepingHttpClient(AsyncTwilioHttpClient):
    """twilio-python's aiohttp client, applying its timeout and keeping the response headers.

    twilio-python 8.2's async client ignores ``timeout`` (a hung provider would hang the sender) and
    drops the headers, where Retry-After says whether a 503 is safe to retry. It never retries a POST.
    """

    async def request(self, method: str, url: str, params: Optional[Dict[str, object]] = None,
                      data: Optional[Dict[str, object]] = None, headers: Optional[Dict[str, str]] = None,
                      auth: Optional[Tuple[str, str]] = None, timeout: Optional[float] = None,
                      allow_redirects: bool = False) -> Response:
        if timeout is not None and timeout <= 0:
            raise ValueError(timeout)
        self.log_request({"method": method.upper(), "url": url, "params": params, "data": data,
                          "headers": headers or {}})
        _last_headers.set(None)
        if self.session is None:
            self.session = aiohttp.ClientSession(trace_configs=self.trace_configs)
        response = await self.session.request(
            method.upper(), url, params=params, data=data, headers=headers,
            auth=aiohttp.BasicAuth(*auth) if auth is not None else None, allow_redirects=allow_redirects,
            timeout=aiohttp.ClientTimeout(total=timeout if timeout is not None else self.timeout))
        text = await response.text()
        self.log_response(response.status, response)
        _last_headers.set(response.headers)
        return Response(response.status, text, response.headers)


def _retry_after(headers: Any) -> Optional[float]:
    if not headers:
        return None
    value = headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def classify(exc: TwilioRestException, retry_after_s: Optional[float]) -> TransportError:
    status, code = exc.status, exc.code
    text = str(exc.msg)
    if status == 429 or code == 20429:
        return TransportError(Outcome.throttled, text, code=20429, http_status=status, retry_after_s=retry_after_s)
    if status == 503 and retry_after_s is not None:
        return TransportError(Outcome.throttled, text, code=code, http_status=status, retry_after_s=retry_after_s)
    if status >= 500:
        return TransportError(Outcome.ambiguous, text, code=code, http_status=status)
    return TransportError(Outcome.permanent, text, code=code, http_status=status)


class TwilioTransport:
    """twilio-python's async client, optionally pointed at another base URL (the emulator).

    The client's own ``max_retries`` stays off: it would resend a POST on every
    5xx, and an accepted-but-5xx'd message would go out twice.
    """

    name = "twilio"

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: Optional[str] = None,
        messaging_service_sid: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout_s: float = 10.0,
    ) -> None:
        if not (from_number or messaging_service_sid):
            raise ValueError("Twilio needs TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID")
        self.account_sid = account_sid
        self._auth_token = auth_token
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.base_url = base_url
        self.timeout_s = timeout_s
        self._client: Optional[Client] = None
        self._http: Optional[_HeaderKeepingHttpClient] = None

    def _get_client(self) -> Client:
        # Built lazily: the aiohttp session inside must be created on the running loop.
        if self._client is None:
            self._http = _HeaderKeepingHttpClient(timeout=self.timeout_s)
            client = Client(self.account_sid, self._auth_token, http_client=self._http)
            if self.base_url:
                client.edge = None
                client.region = None
                client.api.base_url = self.base_url.rstrip("/")
            self._client = client
        return self._client

    async def create(self, to: str, body: str, status_callback: Optional[str]) -> Accepted:
        kwargs: dict[str, Any] = {"to": to, "body": body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        else:
            kwargs["from_"] = self.from_number
        if status_callback:
            kwargs["status_callback"] = status_callback
        try:
            message = await self._get_client().messages.create_async(**kwargs)
        except TwilioRestException as exc:
            raise classify(exc, _retry_after(_last_headers.get())) from None
        except asyncio.TimeoutError:
            raise TransportError(Outcome.ambiguous, f"timeout after {self.timeout_s}s") from None
        except aiohttp.ClientConnectorError as exc:
            raise TransportError(Outcome.unreachable, f"cannot connect: {exc.os_error}") from None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientOSError) as exc:
            raise TransportError(Outcome.ambiguous, f"connection lost mid-request: {exc}") from None
        return Accepted(sid=message.sid, status=message.status or "queued")

    async def find_sent(self, to: str, body: str, since: datetime) -> Optional[Accepted]:
        """Look the message up in the Messages list (To, DateSent) before any resend."""
        try:
            messages = await self._get_client().messages.list_async(
                to=to, date_sent_after=since.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0), limit=200
            )
        except TwilioRestException as exc:
            raise classify(exc, _retry_after(_last_headers.get())) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise TransportError(Outcome.unreachable, f"lookup failed: {exc!r}") from None
        earliest = since - timedelta(seconds=LOOKUP_SLACK_S)
        for message in messages:
            if message.body != body:
                continue
            if message.date_created is not None and message.date_created < earliest:
                continue  # the same text sent to the same person earlier that day
            return Accepted(sid=message.sid, status=message.status or "queued")
        return None

    async def status_of(self, sid: str) -> Optional[Tuple[str, Optional[int]]]:
        try:
            message = await self._get_client().messages(sid).fetch_async()
        except TwilioRestException as exc:
            if exc.status == 404:
                return None
            raise classify(exc, _retry_after(_last_headers.get())) from None
        except (asyncio.TimeoutError, aiohttp.ClientError) as exc:
            raise TransportError(Outcome.unreachable, f"status lookup failed: {exc!r}") from None
        return str(message.status), message.error_code

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        self._client, self._http = None, None


class ConsoleOutbox:
    """Offline outbox: each message is logged (number masked) and appended to a JSONL file."""

    name = "console"

    def __init__(self, path: Path) -> None:
        self.path = path
        self.path.parent.mkdir(parents=True, exist_ok=True)

    async def create(self, to: str, body: str, status_callback: Optional[str]) -> Accepted:
        sid = "SM" + secrets.token_hex(16)
        record = {"sid": sid, "to": to, "body": body, "at": datetime.now(timezone.utc).isoformat()}
        with self.path.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
        log.info("SMS to %s (%s): %s", mask(to), sid, body)
        return Accepted(sid=sid, status="sent")

    async def find_sent(self, to: str, body: str, since: datetime) -> Optional[Accepted]:
        if not self.path.exists():
            return None
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                if row["to"] == to and row["body"] == body and datetime.fromisoformat(row["at"]) >= since:
                    return Accepted(sid=row["sid"], status="sent")
        return None

    async def status_of(self, sid: str) -> Optional[Tuple[str, Optional[int]]]:
        return None  # a file learns of no delivery

    async def close(self) -> None:
        return None
