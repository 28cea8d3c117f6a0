"""The customers' web chat page (``/chat``, Chinese and English), served by the Rasa server itself.

Rasa builds its socket.io server with no CORS origins, so only a page from the same origin can open a
socket. The socket.io client comes from the npm registry (``make chat-client``, pinned in
``package-lock.json``), never from a committed bundle.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from carecore.config import PROJECT_ROOT

STATIC = Path(__file__).with_name("static")
CLIENT = PROJECT_ROOT / "node_modules" / "socket.io-client" / "dist" / "socket.io.min.js"
# The page's own files and the client library: nothing else under /chat/ is served.
FILES = {"chat.js": (STATIC / "chat.js", "text/javascript"), "chat.css": (STATIC / "chat.css", "text/css"),
         "socket.io.min.js": (CLIENT, "text/javascript")}
HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer",
           "Content-Security-Policy": "default-src 'self'; connect-src 'self' ws: wss:; frame-ancestors 'none'"}


async def page(_: Request) -> HTTPResponse:
    return await response.file(STATIC / "chat.html", mime_type="text/html; charset=utf-8", headers=HEADERS)


async def asset(_: Request, name: str) -> HTTPResponse:
    if name not in FILES:
        return response.text("not found", status=404)
    path, mime = FILES[name]
    if not path.exists():  # the client library is installed by `make chat-client`
        return response.text(f"{name} is not installed: run `make chat-client`", status=503)
    return await response.file(path, mime_type=f"{mime}; charset=utf-8", headers=HEADERS)


def add_routes(app: Sanic) -> None:
    app.add_route(page, "/chat", methods=["GET"], name="chat_page")
    app.add_route(asset, "/chat/<name:str>", methods=["GET"], name="chat_asset")
