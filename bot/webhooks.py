"""The route layout Rasa's channels share: ``GET /`` answers health checks, ``POST /webhook`` takes messages."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Optional, Tuple

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import endpoint_sessions, rasa_compat

# Limits every message channel applies: a request body, and a message (an SMS's worth of text).
MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 1600
# Full-width digits, Latin letters, "+" and "-", as a Chinese input method in full-width mode types them
# ("１３８００００００１０", "ＦＴ－２０２６…"): read as the ASCII the number, code and id patterns expect. Chinese
# punctuation stays.
_HALF_WIDTH = str.maketrans({chr(wide): chr(wide - 0xFEE0) for wide in
                             [0xFF0B, 0xFF0D, *range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]})


def as_read(text: str) -> str:
    """A message's text as every channel hands it on: full-width digits and letters made ASCII."""
    return text.translate(_HALF_WIDTH)


def chat_message_problem(text: Any) -> Optional[Tuple[str, int]]:
    """Why a chat channel (REST, socket.io) refuses a message's text, with the HTTP status to say it, or None.

    Which conversation a message goes to is never the client's to say: its session token names it.
    """
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
