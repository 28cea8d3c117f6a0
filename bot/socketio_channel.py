"""Rasa's socket.io channel for server-opened chat sessions, and the web chat page that uses it.

Rasa 3.6 checks ``jwt_key`` only when a socket connects, throws the payload away, and then takes the
conversation id from each message. Here the session a socket's token opens (``bot.chat_sessions``) is
kept per socket: the socket may join only that conversation, every message goes to it, and the
token's expiry is checked on every message. A refused message gets ``input_refused`` with its
status (401: no valid session), never reaching the assistant. Rasa's ``enter_room`` is also awaited
(python-socketio made it a coroutine), and the customer hears something when the assistant fails.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from bot import chat_page
from bot.chat_sessions import ChatSession, ChatTokens, TokenRefused, tokens_for
from bot.fallback import reply_language, tell_if_waiting, try_again
from bot.product_db import database
from bot.tracker_store import ConversationStoreUnavailable
from bot.webhooks import MAX_MESSAGE_CHARS, as_read, chat_message_problem
from carecore.clock import Clock, SystemClock
from carecore.config import Settings, get_settings
from carecore.repository import Database

log = logging.getLogger(__name__)

REFUSED_EVENT = "input_refused"
TOO_LONG = {
    "zh": f"您的消息超过{MAX_MESSAGE_CHARS}字，请分几条发送。",
    "en": f"Your message is longer than {MAX_MESSAGE_CHARS:,} characters; please send it in parts.",
}


class ChatSocketBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, which also serves the web chat page at the server's root (``/chat``)."""

    def register(self, app: Sanic, options: Dict[str, Any]) -> None:
        super().register(app, options)
        chat_page.add_routes(app)


class _NotedOutput(SocketIOOutput):
    """Rasa's socket.io output, noting whether the turn said anything (a paused conversation says nothing)."""

    said = False

    async def send_response(self, recipient_id: str, message: Dict[str, Any]) -> None:
        self.said = True
        await super().send_response(recipient_id, message)


class GuardedSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[str, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(credentials.get("user_message_evt", "user_uttered"),
                   credentials.get("bot_message_evt", "bot_uttered"),
                   credentials.get("namespace"), True, credentials.get("socketio_path", "/socket.io"),
                   credentials.get("jwt_key"), credentials.get("jwt_method", "HS256"))

    def __init__(self, *args: Any, settings: Optional[Settings] = None, clock: Optional[Clock] = None,
                 db: Optional[Database] = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.settings = settings or get_settings()
        self.db = db
        self.tokens: ChatTokens = tokens_for(self.jwt_key, self.settings)
        if self.jwt_algorithm != "HS256":
            raise RuntimeError("the socket.io channel's jwt_method must be HS256, as the session endpoint signs")
        self.clock = clock or SystemClock(self.settings.timezone)
        self.sessions: Dict[str, ChatSession] = {}  # socket id -> the session its token opened

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> SocketBlueprint:
        # No CORS origins, as Rasa's own: only pages this server serves (/chat) can open a socket.
        sio = self.sio = AsyncServer(async_mode="sanic", cors_allowed_origins=[])
        webhook = ChatSocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: str, environ: Dict[str, Any], auth: Optional[Dict[str, Any]] = None) -> None:
            token = auth.get("token") if isinstance(auth, dict) else None
            try:
                self.sessions[sid] = self.tokens.session(token, self.clock.now())
            except TokenRefused as exc:
                log.warning("socket.io connection refused: %s", exc)
                raise ConnectionRefusedError(str(exc), {"status": 401}) from None

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: str) -> None:
            self.sessions.pop(sid, None)

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Optional[Dict[str, Any]]) -> None:
            session = await self._session(sid, data)
            if session is None:
                return
            joined = sio.enter_room(sid, session.conversation_id, namespace=self.namespace)
            if inspect.isawaitable(joined):  # a coroutine since python-socketio 5.10; Rasa 3.6 never awaits it
                await joined
            await sio.emit("session_confirm", session.conversation_id, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            session = await self._session(sid, data)
            if session is None:
                return
            text = data.get("message") if isinstance(data, dict) else None
            problem = chat_message_problem(text)
            if problem is not None:
                reason, status = problem
                await self._refuse(sid, reason, status)
                if status == 413:
                    await sio.emit(self.bot_message_evt, {"text": TOO_LONG[reply_language(text)]}, room=sid,
                                   namespace=self.namespace)
                return
            output = _NotedOutput(sio, self.bot_message_evt)
            message = UserMessage(as_read(text), output, session.conversation_id, input_channel=self.name())
            try:
                await on_new_message(message)
                if not output.said:
                    await tell_if_waiting(output, self.db or database(self.settings), session.conversation_id,
                                          text, self.clock)
            except (Exception, ConversationStoreUnavailable):  # whatever failed, the customer hears something useful
                log.exception("message from a socket.io client could not be processed; answered with a retry notice")
                await output.send_text_message(session.conversation_id, try_again(text, self.settings.hotline))

        return webhook

    async def _session(self, sid: str, data: Any) -> Optional[ChatSession]:
        """The socket's session if it is still valid and ``data`` names no other; else refused (401)."""
        session = self.sessions.get(sid)
        if session is None or session.expired(self.clock.now()):
            await self._refuse(sid, "the chat session has expired: open a new one", 401)
            return None
        named = data.get("session_id") if isinstance(data, dict) else None
        if named is not None and named != session.conversation_id:
            log.warning("socket.io message for another conversation than its token's; refused")
            await self._refuse(sid, "the token is for another conversation", 401)
            return None
        return session

    async def _refuse(self, sid: str, reason: str, status: int) -> None:
        assert self.sio is not None
        await self.sio.emit(REFUSED_EVENT, {"error": reason, "status": status}, room=sid, namespace=self.namespace)
