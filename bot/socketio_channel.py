"""Rasa's socket.io channel with the REST channel's input checks, so a chat client cannot join an SMS
conversation's room or feed the pipeline unchecked input; it also awaits ``enter_room``, which Rasa 3.6
does not (python-socketio made it a coroutine), and answers politely when the assistant fails.
"""

from __future__ import annotations

import inspect
import logging
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint

from bot.fallback import reply_language, try_again
from bot.tracker_store import ConversationStoreUnavailable
from bot.webhooks import MAX_MESSAGE_CHARS, chat_message_problem, chat_sender_problem

log = logging.getLogger(__name__)

REFUSED_EVENT = "input_refused"
TOO_LONG = {
    "zh": f"您的消息超过{MAX_MESSAGE_CHARS}字，请分几条发送。",
    "en": f"Your message is longer than {MAX_MESSAGE_CHARS:,} characters; please send it in parts.",
}


class GuardedSocketIOInput(SocketIOInput):
    @classmethod
    def name(cls) -> str:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None  # set by Rasa's blueprint

        # Registering an event again replaces Rasa's handler for it.
        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: str, data: Optional[Dict[str, Any]]) -> None:
            requested = data.get("session_id") if isinstance(data, dict) else None
            session_id = requested if chat_sender_problem(requested) is None else uuid.uuid4().hex
            if requested is not None and session_id != requested:
                log.warning("socket.io session request with an id a chat client may not use; gave a fresh one")
            if self.session_persistence:
                joined = sio.enter_room(sid, session_id)
                if inspect.isawaitable(joined):  # a coroutine since python-socketio 5.10; Rasa 3.6 never awaits it
                    await joined
            await sio.emit("session_confirm", session_id, room=sid)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: str, data: Any) -> None:
            data = data if isinstance(data, dict) else {}
            sender = data.get("session_id") if self.session_persistence else sid
            text = data.get("message")
            problem = chat_message_problem(sender, text)
            if problem is not None:
                reason, status = problem
                await sio.emit(REFUSED_EVENT, {"error": reason, "status": status}, room=sid)
                if status == 413:
                    await sio.emit(self.bot_message_evt, {"text": TOO_LONG[reply_language(text)]}, room=sid)
                return
            output = SocketIOOutput(sio, self.bot_message_evt)
            message = UserMessage(text, output, sender, input_channel=self.name())
            try:
                await on_new_message(message)
            except (Exception, ConversationStoreUnavailable):  # whatever failed, the customer hears something useful
                log.exception("message from a socket.io client could not be processed; answered with a retry notice")
                await output.send_text_message(sender, try_again(text))

        return webhook
