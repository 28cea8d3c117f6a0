"""Chat sessions the server opens: a new conversation id, and a signed token bound to it.

Chat clients used to name their own conversation ids, so anyone who knew or guessed a verified chat's
id could continue it as that customer. Now ``POST /webhooks/rest/session`` opens a conversation and
returns a token for it (an HS256 JWT: ``sub`` the conversation id, ``exp``, ``iss``), and each chat
message must carry it: REST in ``Authorization: Bearer``, socket.io in the connection's ``auth``.

A customer signed in to the operator's enterprise portal brings the portal's own JWT (``sub`` the
contact's mobile in E.164) and gets a conversation id bound to that mobile
(``carecore.identity.portal_sender_id``), which the action server's session start treats as verified.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Dict, Optional, Tuple

import jwt
from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from carecore.client_address import client_address
from carecore.clock import Clock
from carecore.config import Settings
from carecore.identity import portal_sender_id
from carecore.limits import WindowLimiter
from carecore.phones import InvalidPhoneNumber, mask, to_e164
from carecore.repository import Database, DatabaseError

log = logging.getLogger(__name__)

ISSUER = "keycare-chat"
ALGORITHM = "HS256"
MAX_SESSION_BODY_BYTES = 8 * 1024
CHAT_PREFIX = "chat:"
ANONYMOUS_WINDOW = timedelta(hours=1)  # CHAT_SESSIONS_PER_ADDRESS counts over it


class TokenRefused(Exception):
    """A token that opens nothing: missing, malformed, forged, from another issuer or expired."""


@dataclass(frozen=True)
class ChatSession:
    conversation_id: str
    expires_at: datetime

    def expired(self, now: datetime) -> bool:
        return now >= self.expires_at


def _claims(token: Any, key: str, algorithm: str, issuer: str, now: datetime) -> Dict[str, Any]:
    """The token's claims once its signature, issuer and expiry (against ``now``) are checked."""
    if not isinstance(token, str) or not token:
        raise TokenRefused("missing token")
    try:
        claims = jwt.decode(token, key, algorithms=[algorithm], issuer=issuer,
                            options={"require": ["sub", "exp", "iss"], "verify_exp": False, "verify_iat": False})
    except jwt.InvalidTokenError as exc:
        raise TokenRefused(f"invalid token ({type(exc).__name__})") from None
    if not isinstance(claims["sub"], str) or not isinstance(claims["exp"], (int, float)):
        raise TokenRefused("invalid token (claims)")
    if claims["exp"] <= now.timestamp():
        raise TokenRefused("expired token")
    return claims


@dataclass(frozen=True)
class ChatTokens:
    """Signs and checks chat session tokens with the chat key (Rasa's socket.io ``jwt_key``)."""

    key: str
    lifetime: timedelta

    def issue(self, conversation_id: str, now: datetime) -> Tuple[str, datetime]:
        expires = now + self.lifetime
        claims = {"sub": conversation_id, "iss": ISSUER, "iat": int(now.timestamp()), "exp": int(expires.timestamp())}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM), expires

    def session(self, token: Any, now: datetime) -> ChatSession:
        """The session ``token`` opens; raises ``TokenRefused``."""
        claims = _claims(token, self.key, ALGORITHM, ISSUER, now)
        return ChatSession(claims["sub"], datetime.fromtimestamp(claims["exp"], tz=now.tzinfo))


def tokens_for(key: Optional[str], settings: Settings) -> ChatTokens:
    if not key:
        raise RuntimeError("the chat channels need CHAT_TOKEN_SECRET (credentials.yml: jwt_key)")
    return ChatTokens(key, timedelta(minutes=settings.chat_session_minutes))


def bearer(request: Request) -> Optional[str]:
    scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def portal_mobile(token: Any, settings: Settings, now: datetime) -> str:
    """The E.164 mobile an enterprise portal token names; raises ``TokenRefused``."""
    if not settings.portal_jwt_key or not settings.portal_jwt_issuer:
        raise TokenRefused("portal sign-in is not configured")
    claims = _claims(token, settings.portal_jwt_key, settings.portal_jwt_algorithm, settings.portal_jwt_issuer, now)
    try:
        mobile = to_e164(claims["sub"])
    except InvalidPhoneNumber:
        raise TokenRefused("portal token names no mobile") from None
    if mobile != claims["sub"]:
        raise TokenRefused("portal token's sub must be an E.164 mobile")
    return mobile


def _refused(reason: str, status: int = 401) -> HTTPResponse:
    return response.json({"error": reason}, status=status)


async def _over_the_anonymous_limit(request: Request, settings: Settings, now: datetime,
                                    database: Callable[[], Database]) -> Optional[HTTPResponse]:
    """A refusal when the client's address has opened its hour's anonymous chats; None to go on.

    Each one can ask for one-time codes and costs a conversation: a script must not open them by the thousand.
    """
    address = client_address(request.ip, request.headers.getall("x-forwarded-for", []), settings.trusted_proxies)
    limiter = WindowLimiter(settings.chat_sessions_per_address, ANONYMOUS_WINDOW)
    try:
        admitted = await limiter.admit(database().attempts, now, f"chat:ip:{address}")
    except DatabaseError:
        log.exception("chat session: the address's count failed")
        return _refused("the service is busy; please try again", 503)
    if admitted:
        return None
    log.warning("chat session refused: %s opened %d in the last hour", address, settings.chat_sessions_per_address)
    return _refused("too many chat sessions from this address; please try again later", 429)


async def open_session(request: Request, tokens: ChatTokens, settings: Settings, clock: Clock,
                       database: Callable[[], Database]) -> HTTPResponse:
    """``POST /webhooks/rest/session``: a new chat conversation, verified when a portal token vouches for it.

    Body (optional, JSON): ``{"portal_token": "<JWT>"}``.
    """
    body = request.body or b""
    if len(body) > MAX_SESSION_BODY_BYTES:
        return _refused("request too large", 413)
    try:
        payload = json.loads(body) if body.strip() else {}
    except (ValueError, UnicodeDecodeError):
        return _refused("body must be JSON", 400)
    if not isinstance(payload, dict):
        return _refused("body must be a JSON object", 400)
    now = clock.now()
    verified = "portal_token" in payload
    if verified:
        try:
            mobile = portal_mobile(payload["portal_token"], settings, now)
        except TokenRefused as exc:
            log.warning("portal sign-in refused: %s", exc)
            return _refused(f"portal token refused: {exc}")
        try:
            found = await database().customers.find_by_mobile(mobile)
        except DatabaseError:
            log.exception("portal sign-in: contact lookup failed")
            return _refused("the service is busy; please try again", 503)
        if found is None:
            log.warning("portal sign-in refused: %s is no registered contact", mask(mobile))
            return _refused("portal token refused: unknown contact")
        if not settings.sender_id_secret:
            return _refused("portal sign-in needs SENDER_ID_SECRET", 503)
        conversation_id = portal_sender_id(mobile, settings.sender_id_secret)
    else:
        refused = await _over_the_anonymous_limit(request, settings, now, database)
        if refused is not None:
            return refused
        conversation_id = CHAT_PREFIX + uuid.uuid4().hex
    token, expires = tokens.issue(conversation_id, now)
    return response.json({"session_id": conversation_id, "token": token, "expires_at": expires.isoformat(),
                          "verified": verified}, status=201)
