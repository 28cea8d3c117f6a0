"""A local stand-in for Twilio's Messages API, for tests and offline runs.

The real twilio-python client talks to it (``client.api.base_url`` reassigned),
so the code under test is the code that runs in production. It answers in
Twilio's JSON shapes, error bodies included, sends signed status callbacks, and
injects faults (429, 500, 503, timeouts, invalid or unsubscribed numbers,
latency) so the gateway's failure handling can be proven.

Run alone: ``python -m localrun.twilio_emulator --port 8099``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import logging
import os
import random
import secrets
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any, Deque, Dict, List, Optional, Set

import aiohttp
from aiohttp import web

from carecore.logging_setup import setup_logging
from carecore.phones import InvalidPhoneNumber, to_e164
from carecore.sms import signature
from carecore.sms.segments import segment_info

log = logging.getLogger(__name__)

API_PREFIX = "/2010-04-01/Accounts/{account_sid}"
MAX_BODY_BYTES = 64 * 1024


@dataclass
class FaultPlan:
    """What the emulator does wrong, and how often.

    Rates are probabilities per create request; ``script`` forces the outcome of
    the next requests in order ("429", "500", "503", "timeout", "ok"), which
    makes single-fault tests deterministic.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    latency_ms: float = 0.0
    ack_delay_ms: float = 0.0  # after storing, before answering: a sender killed then never learns the sid
    timeout_hang_s: float = 30.0
    retry_after_s: int = 1
    store_on_500: bool = True
    invalid_numbers: Set[str] = field(default_factory=set)  # 21211
    landline_numbers: Set[str] = field(default_factory=set)  # 21614
    unsubscribed_numbers: Set[str] = field(default_factory=set)  # 21610
    undelivered_numbers: Set[str] = field(default_factory=set)  # callback: undelivered 30003
    script: List[str] = field(default_factory=list)
    seed: Optional[int] = None

    @classmethod
    def from_json(cls, raw: str | Dict[str, Any]) -> FaultPlan:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
        for key in ("invalid_numbers", "landline_numbers", "unsubscribed_numbers", "undelivered_numbers"):
            if key in data:
                data[key] = set(data[key])
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> Dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, set):
                out[key] = sorted(value)
        return out


@dataclass
class EmulatorStats:
    create_requests: int = 0
    created: int = 0
    list_requests: int = 0
    callbacks_sent: int = 0
    callbacks_failed: int = 0
    faults: Dict[str, int] = field(default_factory=dict)


async def _form(request: web.Request) -> Dict[str, str]:
    """The form fields of a POST, as Twilio reads them (the first of a repeated field wins)."""
    fields: Dict[str, str] = {}
    for name, value in (await request.post()).items():
        if isinstance(value, str):
            fields.setdefault(name, value)
    return fields


def _rfc2822(dt: datetime) -> str:
    return format_datetime(dt.replace(microsecond=0), usegmt=True)


def _twilio_error(status: int, code: int, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
    body = {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }
    return web.json_response(body, status=status, headers=headers)


class TwilioEmulator:
    """State of one emulated Twilio account: its messages, faults and callbacks."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        faults: Optional[FaultPlan] = None,
        *,
        callback_delay_s: float = 0.05,
        received_log: Optional[Path] = None,
        callbacks: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.faults = faults or FaultPlan()
        self.callback_delay_s = callback_delay_s
        self.received_log = received_log
        self.callbacks = callbacks
        self.messages: Dict[str, Dict[str, Any]] = {}
        # Sids per recipient, oldest first: a lookup by "To" (what a sender does after an
        # ambiguous send) reads that recipient's messages, not all of them.
        self._sids_by_to: Dict[str, List[str]] = {}
        self.stats = EmulatorStats()
        self._rng = random.Random(self.faults.seed)
        self._script: Deque[str] = Deque(self.faults.script)
        self._tasks: Set[asyncio.Task[None]] = set()
        self._session: Optional[aiohttp.ClientSession] = None
        self._prefix = API_PREFIX.format(account_sid=account_sid)

    # -- fault selection ---------------------------------------------------------------
    def set_faults(self, faults: FaultPlan) -> None:
        self.faults = faults
        self._rng = random.Random(faults.seed)
        self._script = Deque(faults.script)

    def _next_fault(self) -> str:
        if self._script:
            return self._script.popleft()
        roll = self._rng.random()
        f = self.faults
        for name, rate in (("429", f.rate_429), ("500", f.rate_500), ("503", f.rate_503), ("timeout", f.rate_timeout)):
            if roll < rate:
                return name
            roll -= rate
        return "ok"

    def _count_fault(self, name: str) -> None:
        self.stats.faults[name] = self.stats.faults.get(name, 0) + 1

    # -- authentication ----------------------------------------------------------------
    def _authorised(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return secrets.compare_digest(user, self.account_sid) and secrets.compare_digest(password, self.auth_token)

    def _check_account(self, request: web.Request) -> Optional[web.Response]:
        if request.match_info["account_sid"] != self.account_sid or not self._authorised(request):
            return _twilio_error(401, 20003, "Authenticate")
        return None

    # -- handlers --------------------------------------------------------------------------
    async def create_message(self, request: web.Request) -> web.Response:
        denied = self._check_account(request)
        if denied is not None:
            return denied
        self.stats.create_requests += 1
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        form = await _form(request)
        to_raw, body = str(form.get("To", "")), str(form.get("Body", ""))
        from_, service = form.get("From"), form.get("MessagingServiceSid")
        if not to_raw:
            return _twilio_error(400, 21604, "A 'To' phone number is required.")
        if not body:
            return _twilio_error(400, 21602, "Message body is required.")
        if not from_ and not service:
            return _twilio_error(400, 21603, "A 'From' phone number is required.")

        fault = self._next_fault()
        if fault != "ok":
            self._count_fault(fault)
        if fault == "429":
            return _twilio_error(429, 20429, "Too Many Requests", {"Retry-After": str(self.faults.retry_after_s)})
        if fault == "503":
            return _twilio_error(503, 20503, "Service Unavailable", {"Retry-After": str(self.faults.retry_after_s)})

        try:
            to = to_e164(to_raw, mobile_only=False)
        except InvalidPhoneNumber:
            return _twilio_error(400, 21211, f"The 'To' number {to_raw} is not a valid phone number.")
        if to in self.faults.invalid_numbers:
            return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.faults.landline_numbers:
            return _twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        if to in self.faults.unsubscribed_numbers:
            return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")

        if fault == "500" and not self.faults.store_on_500:
            return _twilio_error(500, 20500, "Internal Server Error")
        message = self._store(to, body, str(from_ or ""), str(service or ""), str(form.get("StatusCallback", "")))
        if fault == "500":
            return _twilio_error(500, 20500, "Internal Server Error")
        if fault == "timeout":
            await asyncio.sleep(self.faults.timeout_hang_s)
        if self.faults.ack_delay_ms:
            await asyncio.sleep(self.faults.ack_delay_ms / 1000)
        return web.json_response(message, status=201)

    def _store(self, to: str, body: str, from_: str, service: str, callback: str) -> Dict[str, Any]:
        now = datetime.now(timezone.utc)
        sid = "SM" + secrets.token_hex(16)
        info = segment_info(body)
        stamp = _rfc2822(now)
        message = {
            "account_sid": self.account_sid,
            "api_version": "2010-04-01",
            "body": body,
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": from_ or None,
            "messaging_service_sid": service or None,
            "num_media": "0",
            "num_segments": str(info.segments),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if service else "queued",
            "subresource_uris": {"media": f"{self._prefix}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"{self._prefix}/Messages/{sid}.json",
        }
        self.messages[sid] = message
        self._sids_by_to.setdefault(to, []).append(sid)
        self.stats.created += 1
        if self.received_log is not None:
            with self.received_log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"sid": sid, "to": to, "body": body, "at": now.isoformat()}, ensure_ascii=False) + "\n")
        if callback and self.callbacks:
            task = asyncio.get_running_loop().create_task(self._deliver(sid, callback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return message

    async def _deliver(self, sid: str, callback: str) -> None:
        message = self.messages[sid]
        final = "undelivered" if message["to"] in self.faults.undelivered_numbers else "delivered"
        for status in ("sent", final):
            await asyncio.sleep(self.callback_delay_s)
            message["status"] = status
            message["date_updated"] = _rfc2822(datetime.now(timezone.utc))
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": "2010-04-01",
                "From": message["from"] or "",
                "MessageSid": sid,
                "SmsSid": sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "To": message["to"],
            }
            if status == "undelivered":
                message["error_code"], message["error_message"] = 30003, "Unreachable destination handset"
                params["ErrorCode"] = "30003"
            if message["messaging_service_sid"]:
                params["MessagingServiceSid"] = message["messaging_service_sid"]
            await self._post_callback(callback, params)

    async def _post_callback(self, url: str, params: Dict[str, str]) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        headers = {signature.HEADER: signature.sign(self.auth_token, url, params)}
        try:
            async with self._session.post(url, data=params, headers=headers) as resp:
                if resp.status >= 300:
                    raise aiohttp.ClientResponseError(resp.request_info, (), status=resp.status)
            self.stats.callbacks_sent += 1
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            self.stats.callbacks_failed += 1
            log.warning("status callback to %s failed: %s", url, exc)

    def _filtered(self, query: Any) -> List[Dict[str, Any]]:
        """Messages matching Twilio's list filters (To, From, DateSent, DateSent<, DateSent>), newest first.

        Raises ValueError for a malformed date. The filters are read once, not per message.
        """
        if "To" in query:
            try:
                to = to_e164(query["To"], mobile_only=False)
            except InvalidPhoneNumber:
                return []
            candidates = [self.messages[sid] for sid in self._sids_by_to.get(to, [])]
        else:
            candidates = list(self.messages.values())
        dates = []
        for key, value in query.items():
            if key.startswith("DateSent"):
                wanted = datetime.fromisoformat(value.replace("Z", "+00:00")[:10]).date()
                dates.append((key[len("DateSent"):].rstrip("="), wanted))
        sender = query.get("From")
        found = []
        for message in reversed(candidates):
            if sender is not None and message["from"] != sender:
                continue
            if dates:
                sent = datetime.strptime(message["date_sent"], "%a, %d %b %Y %H:%M:%S %Z").date()
                if any((op == "" and sent != wanted) or (op == ">" and sent < wanted) or (op == "<" and sent > wanted)
                       for op, wanted in dates):
                    continue
            found.append(message)
        return found

    async def list_messages(self, request: web.Request) -> web.Response:
        denied = self._check_account(request)
        if denied is not None:
            return denied
        self.stats.list_requests += 1
        query = request.query
        try:
            page_size = max(1, min(int(query.get("PageSize", "50")), 1000))
            page = max(0, int(query.get("Page", "0")))
            found = self._filtered(query)
        except ValueError as exc:
            return _twilio_error(400, 20001, f"Invalid parameter: {exc}")
        start = page * page_size
        chunk = found[start : start + page_size]
        base = f"{self._prefix}/Messages.json"
        passthrough = "&".join(f"{k}={v}" for k, v in query.items() if k not in ("Page", "PageSize", "PageToken"))
        next_uri = (
            f"{base}?{passthrough}&PageSize={page_size}&Page={page + 1}&PageToken=PA{page + 1}"
            if start + page_size < len(found)
            else None
        )
        return web.json_response(
            {
                "messages": chunk,
                "end": start + len(chunk) - 1,
                "first_page_uri": f"{base}?PageSize={page_size}&Page=0",
                "next_page_uri": next_uri,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": None,
                "start": start,
                "uri": f"{base}?PageSize={page_size}&Page={page}",
            }
        )

    async def get_message(self, request: web.Request) -> web.Response:
        denied = self._check_account(request)
        if denied is not None:
            return denied
        message = self.messages.get(request.match_info["sid"])
        if message is None:
            return _twilio_error(404, 20404, f"The requested resource {request.path} was not found")
        return web.json_response(message)

    # -- control API for tests and drills -----------------------------------------------
    async def control_get(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"stats": asdict(self.stats), "faults": self.faults.to_json(), "messages": list(self.messages.values())}
        )

    async def control_messages(self, request: web.Request) -> web.Response:
        """Every message stored, oldest first, or those to ``?to=`` (E.164): what a test reads its SMS from.

        The full state (``GET /_emulator``) grows with every message; a drill or benchmark that looks
        up one customer's one-time code many times reads only that customer's.
        """
        to = request.query.get("to")
        sids = self._sids_by_to.get(to, []) if to is not None else list(self.messages)
        return web.json_response({"messages": [self.messages[sid] for sid in sids]})

    async def control_stats(self, request: web.Request) -> web.Response:
        """Counters only: cheap enough to poll while a drill runs."""
        return web.json_response({"stats": asdict(self.stats), "faults": self.faults.to_json()})

    async def control_set_faults(self, request: web.Request) -> web.Response:
        try:
            self.set_faults(FaultPlan.from_json(await request.json()))
        except (ValueError, TypeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(self.faults.to_json())

    async def control_reset(self, request: web.Request) -> web.Response:
        self.reset()
        return web.json_response({"ok": True})

    def reset(self) -> None:
        self.messages.clear()
        self._sids_by_to.clear()
        self.stats = EmulatorStats()
        self.set_faults(FaultPlan())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()


EMULATOR_KEY = web.AppKey("twilio_emulator", TwilioEmulator)


def create_app(emulator: TwilioEmulator) -> web.Application:
    app = web.Application(client_max_size=MAX_BODY_BYTES)
    app[EMULATOR_KEY] = emulator
    prefix = "/2010-04-01/Accounts/{account_sid}"
    app.router.add_post(f"{prefix}/Messages.json", emulator.create_message)
    app.router.add_get(f"{prefix}/Messages.json", emulator.list_messages)
    app.router.add_get(prefix + "/Messages/{sid}.json", emulator.get_message)
    app.router.add_get("/_emulator", emulator.control_get)
    app.router.add_get("/_emulator/messages", emulator.control_messages)
    app.router.add_get("/_emulator/stats", emulator.control_stats)
    app.router.add_post("/_emulator/faults", emulator.control_set_faults)
    app.router.add_post("/_emulator/reset", emulator.control_reset)

    async def _cleanup(app: web.Application) -> None:
        await app[EMULATOR_KEY].close()

    app.on_cleanup.append(_cleanup)
    return app


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Local Twilio Messages API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "8099")))
    parser.add_argument("--faults", default=os.environ.get("EMULATOR_FAULTS", "{}"), help="FaultPlan as JSON")
    parser.add_argument("--received-log", type=Path, default=None, help="append every accepted message here")
    parser.add_argument("--no-callbacks", action="store_true",
                        help="send no status callbacks (benchmarks: nobody listens, and failed posts cost CPU)")
    args = parser.parse_args(argv)
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not auth_token:
        parser.error("TWILIO_AUTH_TOKEN must be set (the emulator signs callbacks with it)")
    setup_logging(os.environ.get("LOG_LEVEL", "INFO"))
    emulator = TwilioEmulator(account_sid, auth_token, FaultPlan.from_json(args.faults), received_log=args.received_log,
                              callbacks=not args.no_callbacks)
    log.info("Twilio emulator for account %s on http://%s:%s", account_sid, args.host, args.port)
    web.run_app(create_app(emulator), host=args.host, port=args.port, access_log=None, print=None)


if __name__ == "__main__":  # pragma: no cover
    main()

