"""Rasa's REST channel for server-opened chat sessions: ``POST /session`` opens one, and each message to
``POST /webhook`` carries its token (``Authorization: Bearer``), whose conversation it goes to. Input is
checked (bounded text), and the customer gets a polite answer instead of silence or a 500 when the
assistant cannot process a message.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.chat_sessions import ChatTokens, TokenRefused, bearer, open_session, tokens_for
from bot.fallback import tell_if_waiting, try_again
from bot.product_db import database
from bot.tracker_store import ConversationStoreUnavailable
from bot.webhooks import MAX_BODY_BYTES, as_read, chat_message_problem, webhook_blueprint
from carecore.clock import Clock, SystemClock
from carecore.config import Settings, get_settings
from carecore.repository import Database

log = logging.getLogger(__name__)


def _bad(reason: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        return cls(jwt_key=(credentials or {}).get("jwt_key"))

    def __init__(self, jwt_key: Optional[str] = None, settings: Optional[Settings] = None,
                 clock: Optional[Clock] = None, db: Optional[Database] = None) -> None:
        self.settings = settings or get_settings()
        self.db = db
        self.tokens: ChatTokens = tokens_for(jwt_key, self.settings)
        self.clock = clock or SystemClock(self.settings.timezone)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = webhook_blueprint("guarded_rest_webhook", lambda request: self.handle(request, on_new_message))

        async def session(request: Request) -> HTTPResponse:
            return await open_session(request, self.tokens, self.settings, self.clock,
                                      lambda: self.db or database(self.settings))

        webhook.add_route(session, "/session", methods=["POST"])
        return webhook

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return _bad("request too large", 413)
        try:
            chat = self.tokens.session(bearer(request), self.clock.now())
        except TokenRefused as exc:
            return _bad(f"{exc}: open a chat with POST /webhooks/rest/session", 401)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _bad("body must be JSON")
        if not isinstance(payload, dict):
            return _bad("body must be a JSON object")
        sender, text = payload.get("sender", chat.conversation_id), payload.get("message")
        if sender != chat.conversation_id:
            log.warning("REST message for another conversation than its token's; refused")
            return _bad("the token is for another conversation", 401)
        problem = chat_message_problem(text)
        if problem is not None:
            return _bad(*problem)
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(as_read(text), collector, sender, input_channel=self.name()))
            if not collector.messages:
                await tell_if_waiting(collector, self.db or database(self.settings), sender, text, self.clock)
        except (Exception, ConversationStoreUnavailable):  # whatever failed, the customer hears something useful
            log.exception("message from a REST client could not be processed; answered with a retry notice")
            return response.json([{"recipient_id": sender, "text": try_again(text, self.settings.hotline)}])
        return response.json(collector.messages)
