"""One socket write per small HTTP message: its head leaves with the first bytes of its body.

aiohttp before 3.12 writes a message's status line and headers, then its body, in two
socket writes. Each request and each response then takes two TCP segments, which the
other side may wake up and read apart. aiohttp 3.12 holds the head until the body is written
(aio-libs/aiohttp#10991), but rasa 3.6 pins aiohttp below 3.10. ``HeadWithBodyWriter``
does the same for the versions that pin allows. In paired 20,000-message campaigns it
cut the Twilio emulator's CPU per message by about an eighth and the campaign's by about
a twentieth (README, Measured).

The head is held only until the next write through the writer, or a ``drain``:

* the first body chunk (a request's form, a JSON response) goes out with it;
* a message without a body writes its head at ``write_eof``, which drains;
* aiohttp drains before waiting on ``Expect: 100-continue`` and before a websocket's
  first frame, so their heads go first.

``sendfile`` (``web.FileResponse``) writes past the writer and would overtake a held
head. So the server side is only for a server that answers through the writer alone,
the Twilio emulator. The client side is for any process; the care scheduler uses it.
"""

from __future__ import annotations

from typing import Optional

from aiohttp import client_reqrep, http_writer, web_protocol
from multidict import CIMultiDict


class HeadWithBodyWriter(http_writer.StreamWriter):
    """aiohttp's writer, holding a message's serialized head until its first body bytes."""

    _held: Optional[bytes] = None

    async def write_headers(self, status_line: str, headers: CIMultiDict[str]) -> None:
        if self._on_headers_sent is not None:
            await self._on_headers_sent(headers)
        self._held = http_writer._serialize_headers(status_line, headers)

    def _write(self, chunk: bytes) -> None:
        held = self._held
        if held is not None:
            self._held = None
            chunk = held + chunk
        super()._write(chunk)

    async def drain(self) -> None:
        if self._held is not None:
            self._write(b"")
        await super().drain()


def _already_built_in() -> bool:
    """aiohttp 3.12 and later hold the head themselves (their writer has ``send_headers``)."""
    return hasattr(http_writer.StreamWriter, "send_headers")


def install_client() -> None:
    """Every aiohttp client request made in this process goes out in one write when small."""
    if not _already_built_in():
        client_reqrep.StreamWriter = HeadWithBodyWriter  # type: ignore[misc]


def install_server() -> None:
    """Every response of an aiohttp server in this process, likewise: not for ``FileResponse``."""
    if not _already_built_in():
        web_protocol.StreamWriter = HeadWithBodyWriter  # type: ignore[misc]
