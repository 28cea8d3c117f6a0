"""The route layout Rasa's channels share: ``GET /`` answers health checks, ``POST /webhook`` takes messages."""

from __future__ import annotations

from typing import Awaitable, Callable

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

# Limits both message channels apply: a request body, and a message (an SMS's worth of text).
MAX_BODY_BYTES = 16 * 1024
MAX_MESSAGE_CHARS = 1600


def webhook_blueprint(name: str, handle: Callable[[Request], Awaitable[HTTPResponse]]) -> Blueprint:
    webhook = Blueprint(name, __name__)

    @webhook.route("/", methods=["GET"])
    async def health(_: Request) -> HTTPResponse:
        return response.json({"status": "ok"})

    @webhook.route("/webhook", methods=["POST"])
    async def receive(request: Request) -> HTTPResponse:
        return await handle(request)

    return webhook
