"""A local stand-in for Twilio's Messages API, so tests and offline runs use the real twilio-python client.

It answers in Twilio's published shapes (contract tests hold it to twilio-oai), sends signed status
callbacks and injects faults, so the gateway's failure handling can be proven.
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
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Deque, Dict, List, Mapping, Optional, Sequence, Set

import aiohttp
from aiohttp import web

from carecore.logging_setup import setup_logging
from carecore.phones import InvalidPhoneNumber, to_e164
from carecore.sms import signature
from carecore.sms.segments import segment_info
from localrun.twilio_emulator.faults import EmulatorStats, FaultPlan
from localrun.twilio_emulator.resources import (
    API_VERSION,
    ApiError,
    ListQuery,
    NewMessage,
    Senders,
    checked_create,
    error_body,
    rfc2822,
)

log = logging.getLogger(__name__)

API_PREFIX = "/2010-04-01/Accounts/{account_sid}"
MAX_BODY_BYTES = 64 * 1024


def _twilio_error(status: int, code: int, message: str, headers: Optional[Dict[str, str]] = None) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status, headers=headers)


class TwilioEmulator:
    """One emulated Twilio account: the numbers and Messaging Services it owns, its messages, faults and callbacks."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        faults: Optional[FaultPlan] = None,
        *,
        numbers: Sequence[str] = (),
        services: Optional[Mapping[str, Sequence[str]]] = None,
        callback_delay_s: float = 0.05,
        received_log: Optional[Path] = None,
        callbacks: bool = True,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.senders = Senders(tuple(numbers), {sid: tuple(pool) for sid, pool in (services or {}).items()})
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
        posted = await request.post()
        form = {name: value for name, value in reversed(list(posted.items())) if isinstance(value, str)}
        media = [value for value in posted.getall("MediaUrl", []) if isinstance(value, str)]
        try:
            new = checked_create(form, media, self.senders)
        except ApiError as exc:
            return _twilio_error(exc.status, exc.code, exc.message)

        fault = self._next_fault()
        if fault != "ok":
            self._count_fault(fault)
        if fault == "429":
            return _twilio_error(429, 20429, "Too Many Requests", {"Retry-After": str(self.faults.retry_after_s)})
        if fault == "503":
            return _twilio_error(503, 20503, "Service Unavailable", {"Retry-After": str(self.faults.retry_after_s)})

        try:
            to = to_e164(new.to, mobile_only=False)
        except InvalidPhoneNumber:
            return _twilio_error(400, 21211, f"The 'To' number {new.to} is not a valid phone number.")
        if to in self.faults.invalid_numbers:
            return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if to in self.faults.landline_numbers:
            return _twilio_error(400, 21614, f"'To' number {to} is not a valid mobile number")
        if to in self.faults.unsubscribed_numbers:
            return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")

        if fault == "500" and not self.faults.store_on_500:
            return _twilio_error(500, 20500, "Internal Server Error")
        message = self._store(to, new)
        if fault == "500":
            return _twilio_error(500, 20500, "Internal Server Error")
        if fault == "timeout":
            await asyncio.sleep(self.faults.timeout_hang_s)
        if self.faults.ack_delay_ms:
            await asyncio.sleep(self.faults.ack_delay_ms / 1000)
        return web.json_response(message, status=201)

    def _store(self, to: str, new: NewMessage) -> Dict[str, Any]:
        now = datetime.now(timezone.utc)
        sid = ("MM" if new.media else "SM") + secrets.token_hex(16)
        stamp = rfc2822(now)
        message = {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": new.body,
            "date_created": stamp,
            "date_sent": stamp,
            "date_updated": stamp,
            "direction": "outbound-api",
            "error_code": None,
            "error_message": None,
            "from": new.from_ or self.senders.pick(new.service_sid or "", to),
            "messaging_service_sid": new.service_sid,
            "num_media": str(len(new.media)),
            "num_segments": str(segment_info(new.body).segments if new.body else 1),
            "price": None,
            "price_unit": "USD",
            "sid": sid,
            "status": "accepted" if new.service_sid else "queued",
            "subresource_uris": {"media": f"{self._prefix}/Messages/{sid}/Media.json"},
            "to": to,
            "uri": f"{self._prefix}/Messages/{sid}.json",
        }
        self.messages[sid] = message
        self._sids_by_to.setdefault(to, []).append(sid)
        self.stats.created += 1
        if self.received_log is not None:
            with self.received_log.open("a", encoding="utf-8") as fh:
                fh.write(json.dumps({"sid": sid, "to": to, "body": new.body, "at": now.isoformat()},
                                    ensure_ascii=False) + "\n")
        if self.callbacks and new.status_callback:
            task = asyncio.get_running_loop().create_task(self._deliver(sid, new.status_callback))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        # A Messaging Service answers before it has picked the sender from its pool: ``from`` is null
        # in the 201, and set in what a fetch, a list or a status callback shows afterwards.
        return {**message, "from": new.from_}

    async def _deliver(self, sid: str, callback: str) -> None:
        """The message's life after creation as its status callbacks tell it: sent, then delivered (or not)."""
        message = self.messages[sid]
        final = "undelivered" if message["to"] in self.faults.undelivered_numbers else "delivered"
        for status in ("sent", final):
            await asyncio.sleep(self.callback_delay_s)
            message["status"] = status
            message["date_updated"] = rfc2822(datetime.now(timezone.utc))
            params = {
                "AccountSid": self.account_sid,
                "ApiVersion": API_VERSION,
                "From": message["from"],
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

    async def list_messages(self, request: web.Request) -> web.Response:
        denied = self._check_account(request)
        if denied is not None:
            return denied
        self.stats.list_requests += 1
        try:
            query = ListQuery.parse(request.query)
        except ValueError as exc:
            return _twilio_error(400, 20001, f"Invalid parameter: {exc}")
        candidates = ([self.messages[sid] for sid in self._sids_by_to.get(query.to, [])] if query.to is not None
                      else list(self.messages.values()))
        found = [message for message in reversed(candidates) if query.matches(message)]
        return web.json_response(query.page_of(found, f"{self._prefix}/Messages.json"))

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
        """Every message stored, oldest first, or those to ``?to=`` (E.164): what a test reads its SMS from."""
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
    app.router.add_post(f"{API_PREFIX}/Messages.json", emulator.create_message)
    app.router.add_get(f"{API_PREFIX}/Messages.json", emulator.list_messages)
    app.router.add_get(API_PREFIX + "/Messages/{sid}.json", emulator.get_message)
    app.router.add_get("/_emulator", emulator.control_get)
    app.router.add_get("/_emulator/messages", emulator.control_messages)
    app.router.add_get("/_emulator/stats", emulator.control_stats)
    app.router.add_post("/_emulator/faults", emulator.control_set_faults)
    app.router.add_post("/_emulator/reset", emulator.control_reset)

    async def _cleanup(app: web.Application) -> None:
        await app[EMULATOR_KEY].close()

    app.on_cleanup.append(_cleanup)
    return app


def owned_services(raw: str, numbers: Sequence[str], service_sid: Optional[str]) -> Dict[str, List[str]]:
    """Messaging Services and their pools from ``--services`` JSON; the configured service, if any, pools
    the owned numbers."""
    services = {sid: list(pool) for sid, pool in json.loads(raw or "{}").items()}
    if service_sid and service_sid not in services:
        services[service_sid] = list(numbers)
    if any(not pool for pool in services.values()):
        raise ValueError("every Messaging Service needs at least one number in its pool")
    return services


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Local Twilio Messages API emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("EMULATOR_PORT", "8099")))
    parser.add_argument("--faults", default=os.environ.get("EMULATOR_FAULTS", "{}"), help="FaultPlan as JSON")
    parser.add_argument("--numbers", default=os.environ.get("TWILIO_FROM_NUMBER", ""),
                        help="numbers the account owns, comma-separated (default: TWILIO_FROM_NUMBER)")
    parser.add_argument("--services", default=os.environ.get("EMULATOR_MESSAGING_SERVICES", "{}"),
                        help='Messaging Services and their number pools as JSON, {"MG…": ["+86…"]}; '
                             "TWILIO_MESSAGING_SERVICE_SID, if set, pools the owned numbers")
    parser.add_argument("--received-log", type=Path, default=None, help="append every accepted message here")
    parser.add_argument("--no-callbacks", action="store_true",
                        help="send no status callbacks (benchmarks: nobody listens, and failed posts cost CPU)")
    args = parser.parse_args(argv)
    account_sid = os.environ.get("TWILIO_ACCOUNT_SID") or "AC" + "0" * 32
    auth_token = os.environ.get("TWILIO_AUTH_TOKEN")
    if not auth_token:
        parser.error("TWILIO_AUTH_TOKEN must be set (the emulator signs callbacks with it)")
    numbers = [n.strip() for n in args.numbers.split(",") if n.strip()]
    try:
        services = owned_services(args.services, numbers, os.environ.get("TWILIO_MESSAGING_SERVICE_SID"))
    except ValueError as exc:
        parser.error(f"--services: {exc}")
    setup_logging(os.environ.get("LOG_LEVEL", "INFO"))
    emulator = TwilioEmulator(account_sid, auth_token, FaultPlan.from_json(args.faults), numbers=numbers,
                              services=services, received_log=args.received_log, callbacks=not args.no_callbacks)
    log.info("Twilio emulator for account %s (numbers %s) on http://%s:%s", account_sid, numbers, args.host, args.port)
    web.run_app(create_app(emulator), host=args.host, port=args.port, access_log=None, print=None)
