"""The route layout Rasa's channels share: ``GET /`` answers health checks, ``POST /webhook`` takes messages."""

from __future__ import annotations

import re
from typing import Any, Awaitable, Callable, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import endpoint_sessions, rasa_compat
from carecore.identity import SMS_PREFIX

# Limits every message channel applies: a request body, and a message (an SMS's worth of text).
MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 1600
CHAT_SENDER_ID = re.compile(r"[A-Za-z0-9_.:@+\-]{1,128}")


def chat_sender_problem(sender: Any) -> Optional[str]:
    """Why a chat client may not use this conversation id, or None.

    Chat clients choose their own ids, so an id must be a short plain string (no operator
    objects such as ``{"$gt": ""}``) and never an ``sms:`` one: those belong to the SMS
    channel, which binds them to a verified phone.
    """
    if not isinstance(sender, str) or not CHAT_SENDER_ID.fullmatch(sender):
        return "sender must be a plain id (letters, digits, _ . : @ + -; at most 128)"
    if sender.startswith(SMS_PREFIX):
        return "sms: ids belong to the SMS channel"
    return None


def chat_message_problem(sender: Any, text: Any) -> Optional[Tuple[str, int]]:
    """Why a chat channel (REST, socket.io) refuses a message, with the HTTP status to say it, or None."""
    sender_problem = chat_sender_problem(sender)
    if sender_problem is not None:
        return sender_problem, 400
    if not isinstance(text, str) or not text.strip():
        return "message must be a non-empty string", 400
    if len(text) > MAX_MESSAGE_CHARS:
        return f"message longer than {MAX_MESSAGE_CHARS} characters", 413
    return None


def webhook_blueprint(name: str, handle: Callable[[Request], Awaitable[HTTPResponse]]) -> Blueprint:
    webhook = Blueprint(name, __name__)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @webhook.route("/webhook", methods=["POST"])
    async def receive(request: Request) -> HTTPResponse:
        return await handle(request)

    @webhook.listener("after_server_start")
    async def started(*_: object) -> None:
        rasa_compat.server_started()  # the model is loaded by now; every channel calls it, it acts once

    @webhook.listener("after_server_stop")
    async def close_endpoint_sessions(*_: object) -> None:
        # Where our code sees the Rasa server stop: kept-alive connections to the action server
        # (the action_sessions speed patch, if installed) close with it; the first listener closes all.
        await endpoint_sessions.close_all()

    return webhook
