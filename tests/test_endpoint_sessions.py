"""Rasa's endpoint calls (the action server) reuse one kept-alive connection instead of one each."""

from __future__ import annotations

import asyncio
from typing import Iterator, List

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot import endpoint_sessions, rasa_compat
from tests.conftest import start_app


@pytest.fixture(autouse=True)
def shared_sessions() -> Iterator[None]:
    """Installed as ``python -m bot run`` installs them; Rasa's own afterwards."""
    assert rasa_compat.install("action_sessions", server=True) == ["action_sessions"]
    yield
    rasa_compat.uninstall()


async def _server(peers: List[object]) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        if request.query.get("fail"):
            return web.json_response({"error": "nope"}, status=400)
        return web.json_response({"events": [], "echo": await request.json()})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    return await start_app(app)


async def test_calls_share_one_connection_and_answers_stay_rasas() -> None:
    peers: List[object] = []
    runner, url = await _server(peers)
    try:
        endpoint = EndpointConfig(f"{url}/webhook")
        answers = [await endpoint.request(json={"next_action": f"a{i}"}, method="post") for i in range(5)]
        assert [a["echo"]["next_action"] for a in answers] == [f"a{i}" for i in range(5)]
        assert len(set(peers)) == 1  # one client port: one TCP connection for all five calls

        try:  # Rasa's own error path is unchanged
            await EndpointConfig(f"{url}/webhook", params={"fail": "1"}).request(json={}, method="post")
        except ClientResponseError as exc:
            assert exc.status == 400
        else:
            raise AssertionError("a 400 must raise Rasa's ClientResponseError")

        async with endpoint.session() as session:  # agent.py's model-server use: a session to call itself
            assert not session.closed
        async with endpoint.session() as again:
            assert again is session and not again.closed  # leaving did not close it
    finally:
        await endpoint_sessions.close_all()
        await runner.cleanup()


async def test_endpoints_with_other_credentials_get_their_own_session() -> None:
    plain = EndpointConfig("http://127.0.0.1:1/webhook")
    with_token = EndpointConfig("http://127.0.0.1:1/webhook", headers={"X-Token": "t"})
    with_auth = EndpointConfig("http://127.0.0.1:1/webhook", basic_auth={"username": "u", "password": "p"})
    try:
        sessions = []
        for endpoint in (plain, with_token, with_auth, plain):
            async with endpoint.session() as session:
                sessions.append(session)
        assert sessions[0] is sessions[3]
        assert len({id(s) for s in sessions[:3]}) == 3
        assert sessions[1].headers["X-Token"] == "t"
        assert sessions[2].auth is not None and sessions[2].auth.login == "u"
    finally:
        await endpoint_sessions.close_all()
    assert all(s.closed for s in sessions)


async def test_an_idle_connection_is_dropped_before_the_action_server_would_close_it() -> None:
    """Sanic closes idle keep-alive connections after 5 s; ours go after IDLE_S, so no POST meets a closing one."""
    from sanic.config import DEFAULT_CONFIG

    assert endpoint_sessions.IDLE_S < DEFAULT_CONFIG["KEEP_ALIVE_TIMEOUT"]
    peers: List[object] = []
    runner, url = await _server(peers)
    try:
        endpoint = EndpointConfig(f"{url}/webhook")
        await endpoint.request(json={}, method="post")
        await asyncio.sleep(endpoint_sessions.IDLE_S + 0.5)
        await endpoint.request(json={}, method="post")
        assert len(set(peers)) == 2  # the idle connection was not reused
    finally:
        await endpoint_sessions.close_all()
        await runner.cleanup()


def test_unhashable_settings_fall_back_to_rasas_own_session() -> None:
    assert endpoint_sessions._key(EndpointConfig("http://x", headers={"a": ["list"]})) is None


async def test_a_process_that_is_not_the_server_keeps_rasas_session_per_call() -> None:
    """``rasa shell`` loads none of the channels that close shared sessions: it gets Rasa's own."""
    rasa_compat.uninstall()
    assert rasa_compat.install("action_sessions") == []
    async with EndpointConfig("http://127.0.0.1:1/webhook").session() as session:
        pass
    assert session.closed
