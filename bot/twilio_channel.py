"""Twilio SMS input channel that checks X-Twilio-Signature (403), which Rasa 3.6's built-in one does not.

The conversation id binds the sender's number with an HMAC (``carecore.identity``), so only this
channel opens a verified SMS session; replies go through the gateway keyed by the inbound MessageSid,
so a webhook Twilio delivers twice is answered once, in one SMS per turn.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional
from urllib.parse import parse_qsl
from uuid import uuid4
from xml.sax.saxutils import escape

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.fallback import WORDS_PLEASE, tell_if_waiting, try_again
from bot.product_db import database
from bot.tracker_store import ConversationStoreUnavailable
from bot.webhooks import MAX_BODY_BYTES, MAX_MESSAGE_CHARS, as_read, webhook_blueprint
from carecore.clock import Clock, SystemClock
from carecore.config import Settings, get_settings
from carecore.identity import sms_sender_id
from carecore.phones import InvalidPhoneNumber, mask, to_e164
from carecore.runtime import build_gateway
from carecore.sms import signature
from carecore.sms.gateway import SmsGateway
from carecore.sms.message import Sms
from carecore.texts import written_in_chinese

log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
WEBHOOK_PATH = "/webhooks/twilio_sms/webhook"


def posted(request: Request) -> Dict[str, str]:
    """Every form parameter, blank ones too: Twilio signs them all ("FromCity=" is blank for most numbers), and
    Sanic's ``request.form`` drops blank values, which would refuse every real webhook. Twilio posts only
    urlencoded forms; anything else is read as nothing, and so fails the signature."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return {}
    try:
        pairs = parse_qsl((request.body or b"").decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        return {}
    params: Dict[str, str] = {}
    for key, value in pairs:
        params.setdefault(key, value)
    return params


def with_media(params: Dict[str, str]) -> bool:
    """Whether Twilio says the message carries pictures or other media (``NumMedia``, a count)."""
    count = params.get("NumMedia", "0").strip()
    return count.isdigit() and int(count) > 0


class TwilioSmsInput(InputChannel):
    """Signed Twilio SMS in, replies out through the SMS gateway."""

    @classmethod
    def name(cls) -> str:
        return "twilio_sms"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> TwilioSmsInput:
        credentials = credentials or {}
        return cls(webhook_url=credentials.get("webhook_url") or None)

    def __init__(self, webhook_url: Optional[str] = None, settings: Optional[Settings] = None,
                 gateway: Optional[SmsGateway] = None, clock: Optional[Clock] = None) -> None:
        self._settings = settings
        self._webhook_url = webhook_url
        self._gateway = gateway
        self._clock = clock

    @property
    def clock(self) -> Clock:
        return self._clock or SystemClock(self.settings.timezone)

    @property
    def settings(self) -> Settings:
        return self._settings or get_settings()

    @property
    def webhook_url(self) -> str:
        """The exact public URL Twilio calls, which is what it signs."""
        return self._webhook_url or self.settings.bot_public_url.rstrip("/") + WEBHOOK_PATH

    async def gateway(self) -> SmsGateway:
        if self._gateway is None:  # created on the server's loop, on first use
            self._gateway = build_gateway(database(self.settings), self.settings)
        return self._gateway

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return webhook_blueprint("twilio_sms_webhook", lambda request: self.handle(request, on_new_message))

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if len(request.body or b"") > MAX_BODY_BYTES:
            return response.text("request too large", status=413)
        params = posted(request)
        token = self.settings.twilio_auth_token or ""
        if not signature.is_valid(token, self.webhook_url, params, request.headers.get(signature.HEADER)):
            log.warning("rejected unsigned or forged Twilio webhook")
            return response.text("invalid signature", status=403)
        text, sender = params.get("Body"), params.get("From", "")
        if text is None or not (text.strip() or with_media(params)):
            return response.text("missing Body", status=400)
        try:
            phone = to_e164(sender, mobile_only=False)
        except InvalidPhoneNumber:
            return response.text("missing or invalid From", status=400)
        message_sid = params.get("MessageSid") or params.get("SmsSid") or ""
        if not text.strip():
            return await self._words_please(phone, message_sid)
        try:
            gateway = await self.gateway()
            if message_sid and await gateway.db.sends.get(f"reply:{message_sid}:0"):
                return response.text(EMPTY_TWIML, content_type="text/xml")  # Twilio delivered it twice
            secret = self.settings.sender_id_secret
            sender_id = sms_sender_id(phone, secret) if secret else f"sms:{phone}:unsigned"
            collector = CollectingOutputChannel()
            await on_new_message(UserMessage(as_read(text.strip()[:MAX_MESSAGE_CHARS]), collector, sender_id, input_channel=self.name(),
                                             metadata={"message_sid": message_sid}))
            if not collector.messages:
                await tell_if_waiting(collector, gateway.db, sender_id, text, self.clock)
        except (Exception, ConversationStoreUnavailable):  # MongoDB or the action server away: still an answer
            log.exception("SMS from %s could not be processed; answered with a retry notice", mask(phone))
            return self._inline(try_again(text, self.settings.hotline))
        await self._reply(gateway, phone, message_sid, [m.get("text") or "" for m in collector.messages])
        return response.text(EMPTY_TWIML, content_type="text/xml")

    async def _words_please(self, phone: str, message_sid: str) -> HTTPResponse:
        """A picture with no words (an MMS of the broken router, say) has nothing for the assistant to read, and
        silence would leave the customer waiting on it: ask for the words, in the contact's language."""
        try:
            gateway = await self.gateway()
            found = await gateway.db.customers.find_by_mobile(phone)
        except Exception:  # MongoDB away: the same request, inline, as for any other message
            log.exception("picture-only SMS from %s answered inline", mask(phone))
            return self._inline(WORDS_PLEASE["zh"])
        lang = found[1].language if found else "zh"
        log.info("picture-only SMS from %s answered with a request for words", mask(phone))
        await self._reply(gateway, phone, message_sid, [WORDS_PLEASE[lang]])
        return response.text(EMPTY_TWIML, content_type="text/xml")

    async def _reply(self, gateway: SmsGateway, phone: str, message_sid: str, texts: List[str]) -> None:
        """The turn's replies as one SMS: separate ones may reach the handset out of order, and each would carry
        the signature and start a segment of its own. Keyed by the inbound MessageSid, so a webhook delivered
        twice is answered once; one without a MessageSid (Twilio always sends it) is answered every time."""
        texts = [text.strip() for text in texts if text and text.strip()]
        if not texts:
            return
        body = self._signed("\n".join(texts))[:MAX_MESSAGE_CHARS]
        try:
            await gateway.send(Sms.of(key=f"reply:{message_sid or f'nosid-{uuid4().hex}'}:0", kind="reply",
                                      to=phone, body=body))
        except Exception:  # a failed reply must not turn into a Twilio retry of the inbound message
            log.exception("reply to %s failed", mask(phone))

    def _inline(self, body: str) -> HTTPResponse:
        """The answer as TwiML in the webhook's own response: it needs no database, when the gateway's records
        are what is unavailable."""
        notice = escape(self._signed(body))
        return response.text(f'<?xml version="1.0" encoding="UTF-8"?><Response><Message>{notice}</Message></Response>',
                             content_type="text/xml")

    def _signed(self, body: str) -> str:
        """Chinese SMS carry the operator's signature (【…】), as the regulator requires, and 【】 nowhere else:
        a customer's own words echoed back may hold them. An English reply naming a Chinese manager is English."""
        body = body.replace("【", "[").replace("】", "]")
        return self.settings.sms_signature + body if written_in_chinese(body) else body
