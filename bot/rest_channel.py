"""Rasa's REST channel with its input checked (plain ids, no ``sms:`` ids, bounded text), and a polite
answer instead of silence or a 500 when the assistant cannot process a message.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.fallback import try_again
from bot.tracker_store import ConversationStoreUnavailable
from bot.webhooks import MAX_BODY_BYTES, chat_message_problem, webhook_blueprint

log = logging.getLogger(__name__)


def _bad(reason: str, status: int = 400) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


class GuardedRestInput(RestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        return webhook_blueprint("guarded_rest_webhook", lambda request: self.handle(request, on_new_message))

    async def handle(self, request: Request, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        body = request.body or b""
        if len(body) > MAX_BODY_BYTES:
            return _bad("request too large", 413)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return _bad("body must be JSON")
        if not isinstance(payload, dict):
            return _bad("body must be a JSON object")
        sender, text = payload.get("sender"), payload.get("message")
        problem = chat_message_problem(sender, text)
        if problem is not None:
            return _bad(*problem)
        collector = CollectingOutputChannel()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name()))
        except (Exception, ConversationStoreUnavailable):  # whatever failed, the customer hears something useful
            log.exception("message from a REST client could not be processed; answered with a retry notice")
            return response.json([{"recipient_id": sender, "text": try_again(text)}])
        return response.json(collector.messages)
