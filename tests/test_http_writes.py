"""An HTTP message's head leaves with its body in one write, and never after anything else."""

from __future__ import annotations

import asyncio
from typing import List

import aiohttp
from aiohttp import WSMsgType, web
from aiohttp.base_protocol import BaseProtocol
from multidict import CIMultiDict

from carecore.http_writes import HeadWithBodyWriter
from tests.conftest import start_app

HEAD = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\n\r\n"


class RecordingTransport(asyncio.Transport):
    """What the writer hands the socket, one entry per write."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: List[bytes] = []

    def write(self, data: bytes) -> None:  # type: ignore[override]
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return False


def writer() -> tuple[HeadWithBodyWriter, RecordingTransport]:
    protocol = BaseProtocol(asyncio.get_running_loop())
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return HeadWithBodyWriter(protocol, asyncio.get_running_loop()), transport


async def write_head(w: HeadWithBodyWriter) -> None:
    await w.write_headers("POST /x HTTP/1.1", CIMultiDict({"Content-Length": "5"}))


async def test_the_head_leaves_with_the_body() -> None:
    w, transport = writer()
    await write_head(w)
    assert transport.writes == []
    await w.write(b"hello")
    await w.write_eof()
    assert transport.writes == [HEAD + b"hello"]


async def test_a_message_without_a_body_writes_its_head_at_the_end() -> None:
    w, transport = writer()
    await write_head(w)
    await w.write_eof()
    assert transport.writes == [HEAD]


async def test_a_drain_sends_the_head_before_anything_written_past_the_writer() -> None:
    """``Expect: 100-continue`` and a websocket's frames wait on a drain after the head."""
    w, transport = writer()
    await write_head(w)
    await w.drain()
    assert transport.writes == [HEAD]
    await w.write(b"hello")
    assert transport.writes == [HEAD, b"hello"]


async def test_a_chunked_body_brings_the_head_with_its_first_chunk() -> None:
    w, transport = writer()
    w.enable_chunking()
    await write_head(w)
    await w.write(b"abc")
    await w.write(b"de")
    await w.write_eof()
    assert transport.writes == [HEAD + b"3\r\nabc\r\n", b"2\r\nde\r\n", b"0\r\n\r\n"]


class Recorder(asyncio.Protocol):
    """A raw TCP peer: what arrives, read by read, and a canned answer once a request is in."""

    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.reads: List[bytes] = []
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        self.reads.append(data)
        if self.answer and b"".join(self.reads).endswith(b"hello") and self.transport is not None:
            self.transport.write(self.answer)


async def test_a_client_request_goes_out_whole(http_writes_installed: None) -> None:
    loop = asyncio.get_running_loop()
    peer = Recorder(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
    server = await loop.create_server(lambda: peer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        async with aiohttp.ClientSession() as session:
            async with session.post(f"http://127.0.0.1:{port}/x", data=b"hello") as resp:
                assert await resp.text() == "ok"
    finally:
        server.close()
    sent = b"".join(peer.reads)  # how the reads split it is the kernel's affair, not the writer's
    assert sent.startswith(b"POST /x HTTP/1.1\r\n") and sent.endswith(b"\r\n\r\nhello")


async def test_a_server_response_goes_out_whole(http_writes_installed: None) -> None:
    async def hello(request: web.Request) -> web.Response:
        return web.json_response({"to": "+8613800138000"})

    app = web.Application()
    app.router.add_get("/x", hello)
    runner, url = await start_app(app)
    try:
        port = int(url.rsplit(":", 1)[1])
        peer = Recorder(b"")
        transport, _ = await asyncio.get_running_loop().create_connection(lambda: peer, "127.0.0.1", port)
        transport.write(b"GET /x HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        for _ in range(100):
            if b"".join(peer.reads).endswith(b"}"):
                break
            await asyncio.sleep(0.01)
        transport.close()
    finally:
        await runner.cleanup()
    sent = b"".join(peer.reads)
    assert sent.startswith(b"HTTP/1.1 200 OK\r\n") and sent.endswith(b'\r\n\r\n{"to": "+8613800138000"}')


async def test_websockets_and_expect_continue_still_work(http_writes_installed: None) -> None:
    """Both wait for an answer to the head alone: it must not be held for a body."""
    async def echo(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        async for message in ws:
            await ws.send_str(message.data.upper())
        return ws

    async def upload(request: web.Request) -> web.Response:
        return web.Response(text=(await request.read()).decode())

    app = web.Application()
    app.router.add_get("/ws", echo)
    app.router.add_post("/upload", upload)
    runner, url = await start_app(app)

    async def talk() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.ws_connect(url + "/ws") as ws:
                await ws.send_str("ping")
                answer = await ws.receive()
                assert answer.type == WSMsgType.TEXT and answer.data == "PING"
            async with session.post(url + "/upload", data=b"hello", expect100=True) as resp:
                assert await resp.text() == "hello"

    try:
        await asyncio.wait_for(talk(), 10)  # a head held for a body that never comes would hang here
    finally:
        await runner.cleanup()
