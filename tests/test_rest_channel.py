"""The REST channel: server-opened sessions, tokens bound to their conversation, portal sign-in, input checks."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, AsyncIterator, Dict, List, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import read_endpoint_config

from bot.fallback import TRY_AGAIN
from bot.rest_channel import GuardedRestInput
from carecore.clock import FixedClock
from carecore.identity import phone_from_sender_id
from carecore.repository import Database
from tests import chat_tokens, factories
from tests.channel_server import StandInBot, serve_channel
from tests.stack import ROOT


@dataclass
class Rest:
    bot: StandInBot
    clock: FixedClock
    http: aiohttp.ClientSession

    @property
    def received(self) -> List[UserMessage]:
        return self.bot.received

    async def open(self, body: Optional[Dict[str, Any]] = None) -> aiohttp.ClientResponse:
        return await self.http.post(f"{self.bot.base_url}/webhooks/rest/session", json=body or {})

    async def session(self, body: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        resp = await self.open(body)
        assert resp.status == 201, await resp.text()
        return await resp.json()

    async def say(self, token: Optional[str], body: Any) -> aiohttp.ClientResponse:
        headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {token}"} if token else {})}
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        return await self.http.post(f"{self.bot.base_url}/webhooks/rest/webhook", data=data, headers=headers)


async def serve(db: Optional[Database] = None, **overrides: Any) -> AsyncIterator[Rest]:
    clock = chat_tokens.clock()
    channel = GuardedRestInput(jwt_key=chat_tokens.KEY, settings=chat_tokens.settings(**overrides), clock=clock, db=db)
    async with serve_channel(channel, "/webhooks/rest") as bot, aiohttp.ClientSession() as http:
        yield Rest(bot, clock, http)


@pytest.fixture
async def rest(db: Database) -> AsyncIterator[Rest]:
    async for made in serve(db):
        yield made


@pytest.fixture
async def portal_rest(db: Database) -> AsyncIterator[Rest]:
    await db.customers.insert(factories.customer())
    async for made in serve(db):
        yield made


async def test_a_session_is_opened_and_its_messages_reach_its_conversation(rest: Rest) -> None:
    opened = await rest.session()
    assert opened["verified"] is False and opened["session_id"].startswith("chat:")
    assert opened["expires_at"] == (rest.clock.now() + timedelta(minutes=60)).isoformat()
    resp = await rest.say(opened["token"], {"message": "你好"})
    assert resp.status == 200 and await resp.json() == [{"recipient_id": opened["session_id"], "text": "好的"}]
    named = await rest.say(opened["token"], {"sender": opened["session_id"], "message": "hi"})
    assert named.status == 200
    await rest.say(opened["token"], {"message": "＋８６１３８００００００１０，工单ＦＴ－１号？"})  # a full-width input method
    assert [(m.sender_id, m.text, m.input_channel) for m in rest.received] == [
        (opened["session_id"], "你好", "rest"), (opened["session_id"], "hi", "rest"),
        (opened["session_id"], "+8613800000010，工单FT-1号？", "rest")]  # digits and letters read; punctuation kept
    assert (await rest.session())["session_id"] != opened["session_id"]


def _forged(opened: Dict[str, Any], kind: str) -> str:
    claims = {"sub": opened["session_id"], "iss": "keycare-chat", "exp": int(chat_tokens.NOW.timestamp()) + 10**9}
    return {
        "garbage": "not.a.token",
        "other key": chat_tokens.signed(claims, key="another-key-0123456789abcdef0123456789"),
        "alg none": chat_tokens.signed(claims, key="", algorithm="none"),
        "other issuer": chat_tokens.signed({**claims, "iss": "someone"}),
        "no expiry": chat_tokens.signed({k: v for k, v in claims.items() if k != "exp"}),
    }[kind]


@pytest.mark.parametrize("kind", ["missing", "garbage", "other key", "alg none", "other issuer", "no expiry",
                                  "expired", "foreign"])
async def test_a_token_that_opens_nothing_is_refused_before_the_bot(rest: Rest, kind: str) -> None:
    opened, other = await rest.session(), await rest.session()
    token, sender = opened["token"], opened["session_id"]
    if kind == "missing":
        token = None
    elif kind == "expired":
        rest.clock.advance(timedelta(minutes=60))
    elif kind == "foreign":  # a valid token, for another conversation
        sender = other["session_id"]
    else:
        token = _forged(opened, kind)
    resp = await rest.say(token, {"sender": sender, "message": "上个月话费多少"})
    assert resp.status == 401 and (await resp.json())["error"]
    assert rest.received == []


@pytest.mark.parametrize(("body", "status"), [
    (b"not json", 400),
    (b"[1, 2]", 400),
    (json.dumps({"message": {"$ne": None}}).encode(), 400),
    (json.dumps({"message": "   "}).encode(), 400),
    (json.dumps({"sender": {"$gt": ""}, "message": "hi"}).encode(), 401),
    (json.dumps({"message": "长" * 1601}).encode(), 413),
    (json.dumps({"message": "x" * 20000}).encode(), 413),
    ("\udcff".encode("utf-8", "surrogatepass"), 400),
])
async def test_hostile_bodies_are_refused_before_the_bot(rest: Rest, body: bytes, status: int) -> None:
    opened = await rest.session()
    assert (await rest.say(opened["token"], body)).status == status
    assert rest.received == []


@pytest.mark.parametrize(("body", "status"), [(b"not json", 400), (b"[]", 400), (b"{" + b" " * 9000 + b"}", 413)])
async def test_a_malformed_session_request_is_refused(rest: Rest, body: bytes, status: int) -> None:
    resp = await rest.http.post(f"{rest.bot.base_url}/webhooks/rest/session", data=body)
    assert resp.status == status


async def test_a_failure_inside_the_bot_gets_a_retry_notice_in_the_message_language(rest: Rest) -> None:
    rest.bot.failing = True
    opened = await rest.session()
    zh = await (await rest.say(opened["token"], {"message": "上个月话费多少"})).json()
    en = await (await rest.say(opened["token"], {"message": "what was our bill"})).json()
    assert zh == [{"recipient_id": opened["session_id"], "text": TRY_AGAIN["zh"].format(hotline="10000")}]
    assert en == [{"recipient_id": opened["session_id"], "text": TRY_AGAIN["en"].format(hotline="10000")}]


async def test_a_message_to_a_conversation_waiting_for_its_manager_is_acknowledged(rest: Rest, db: Database) -> None:
    rest.bot.paused = True
    opened = await rest.session()
    for manager in factories.MANAGERS:
        await db.managers.insert(manager)
    now = rest.clock.now()
    await db.escalations.create({
        "_id": "ES-20261205-0001", "customer_id": "KA0000001", "contact_id": "0000001-02", "manager_id": "AM-CZJ01",
        "sender_id": opened["session_id"], "reason": "request_human", "summary": "talk to a human",
        "contact_by": now + timedelta(hours=2), "created_at": now, "updated_at": now})
    first = await (await rest.say(opened["token"], {"message": "are you there?"})).json()
    assert [m["text"] for m in first] == [
        f"We have your message. Your account manager 林海燕 will contact you by {(now + timedelta(hours=2)):%d %b %H:%M}. "
        "If it is urgent, call +86 139 2000 0001."]
    assert await (await rest.say(opened["token"], {"message": "hello?"})).json() == []  # once an hour


async def test_a_portal_token_opens_a_conversation_bound_to_its_contact(portal_rest: Rest) -> None:
    opened = await portal_rest.session({"portal_token": chat_tokens.portal_token("+8613800138000")})
    assert opened["verified"] is True
    assert phone_from_sender_id(opened["session_id"], "test-sender-secret") == "+8613800138000"
    again = await portal_rest.session({"portal_token": chat_tokens.portal_token("+8613800138000")})
    assert again["session_id"] != opened["session_id"]  # each chat its own conversation
    assert (await portal_rest.say(opened["token"], {"message": "上个月话费多少"})).status == 200


@pytest.mark.parametrize("kind", ["expired", "badly signed", "other issuer", "unknown contact", "not E.164",
                                  "not a token"])
async def test_a_portal_token_that_vouches_for_nobody_is_refused(portal_rest: Rest, kind: str) -> None:
    token = {
        "expired": chat_tokens.portal_token("+8613800138000", minutes=-1),
        "badly signed": chat_tokens.portal_token("+8613800138000", key="not-the-portal-key-0123456789abcdef"),
        "other issuer": chat_tokens.portal_token("+8613800138000", issuer="https://elsewhere.example"),
        "unknown contact": chat_tokens.portal_token("+8613700137000"),
        "not E.164": chat_tokens.portal_token("138 0013 8000"),
        "not a token": {"sub": "+8613800138000"},
    }[kind]
    resp = await portal_rest.open({"portal_token": token})
    assert resp.status == 401 and "portal token refused" in (await resp.json())["error"]


async def test_anonymous_sessions_are_limited_per_client_address(db: Database) -> None:
    """A script must not open chats by the thousand; the portal's signed-in contacts are not counted."""
    await db.customers.insert(factories.customer())
    async for rest in serve(db, chat_sessions_per_address=2, trusted_proxies=["127.0.0.1"]):
        behind = {"X-Forwarded-For": "203.0.113.9"}  # another client, named by the trusted balancer
        for _ in range(2):
            await rest.session()
        refused = await rest.open()
        assert refused.status == 429 and "too many chat sessions" in (await refused.json())["error"]
        portal = await rest.session({"portal_token": chat_tokens.portal_token("+8613800138000")})
        assert portal["verified"] is True
        other = await rest.http.post(f"{rest.bot.base_url}/webhooks/rest/session", json={}, headers=behind)
        assert other.status == 201
        rest.clock.advance(timedelta(minutes=59))
        assert (await rest.open()).status == 429  # refusals are not counted, the first two still are
        rest.clock.advance(timedelta(minutes=1, seconds=1))
        assert (await rest.open()).status == 201


async def test_portal_sign_in_is_refused_when_not_configured() -> None:
    async for rest in serve(portal_jwt_key=None, portal_jwt_issuer=None):
        resp = await rest.open({"portal_token": chat_tokens.portal_token("+8613800138000")})
        assert resp.status == 401


def test_only_form_validation_actions_are_sent_the_domain(endpoints_env: pytest.MonkeyPatch) -> None:
    from rasa.core.actions.action import RemoteAction

    endpoint = read_endpoint_config(str(ROOT / "endpoints.yml"), "action_endpoint")
    domain = Domain.load(str(ROOT / "domain"))
    tracker = DialogueStateTracker.from_events("web-1", [], domain.slots)
    assert "domain" not in RemoteAction("action_account_summary", endpoint)._action_call_format(tracker, domain)
    assert "domain" in RemoteAction("validate_fault_form", endpoint)._action_call_format(tracker, domain)


async def test_a_portal_token_signed_with_a_private_key_is_checked_with_the_public_key(db: Database) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    await db.customers.insert(factories.customer())
    async for rest in serve(db, portal_jwt_key=public_pem, portal_jwt_algorithm="RS256"):
        claims = {"sub": "+8613800138000", "iss": chat_tokens.PORTAL_ISSUER,
                  "exp": int(rest.clock.now().timestamp()) + 600}
        signed = chat_tokens.signed(claims, key=private, algorithm="RS256")
        assert (await rest.session({"portal_token": signed}))["verified"] is True
        hs256 = chat_tokens.signed(claims, key=public_pem[:64])  # algorithm confusion: HMAC keyed with public text
        assert (await rest.open({"portal_token": hs256})).status == 401
