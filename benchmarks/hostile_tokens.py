"""Chat tokens the hostile-input drill tries on the REST and socket.io channels: none may be accepted."""

from __future__ import annotations

import time
from typing import Any, Callable, Dict, Tuple

import jwt as pyjwt

from tests.stack import CHAT_KEY, Stack


# Tokens a chat client might try: forged (another key, no signature), expired, or another chat's.
def chat_tokens(stack: Stack) -> Dict[str, Callable[[], Tuple[str, str]]]:
    """Kind -> a function making (token, conversation id it is used for) against a fresh session."""
    def fresh() -> Dict[str, Any]:
        return stack.open_chat()

    def claims(session: Dict[str, Any], **changes: Any) -> Dict[str, Any]:
        return {"sub": session["session_id"], "iss": "keycare-chat", "exp": int(time.time()) + 3600, **changes}

    def forged() -> Tuple[str, str]:
        session = fresh()
        return pyjwt.encode(claims(session), "guessed-key-0123456789abcdef0123456", algorithm="HS256"), session["session_id"]

    def unsigned() -> Tuple[str, str]:
        session = fresh()
        return pyjwt.encode(claims(session), "", algorithm="none"), session["session_id"]

    def expired() -> Tuple[str, str]:
        session = fresh()
        return pyjwt.encode(claims(session, exp=int(time.time()) - 1), CHAT_KEY, algorithm="HS256"), session["session_id"]

    def foreign() -> Tuple[str, str]:
        return fresh()["token"], fresh()["session_id"]

    return {"forged": forged, "unsigned": unsigned, "expired": expired, "foreign": foreign, "none": lambda: ("", "")}
