"""One chat channel's blueprint on a throwaway Sanic server, with a stand-in for the assistant.

The stand-in answers "好的" to every message and records it, says nothing as the assistant does in a
paused conversation, or raises as it does when MongoDB is away, so channel tests see exactly what reached it.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import AsyncIterator, List, Optional

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Sanic

from localrun.mongod import free_port


@dataclass
class StandInBot:
    base_url: str
    received: List[UserMessage] = field(default_factory=list)
    failing: bool = False
    paused: bool = False

    async def on_new_message(self, message: UserMessage) -> None:
        if self.failing:
            raise ConnectionError("MongoDB is away")
        self.received.append(message)
        if not self.paused:
            await message.output_channel.send_text_message(message.sender_id, "好的")


@asynccontextmanager
async def serve_channel(channel: InputChannel, url_prefix: Optional[str] = None) -> AsyncIterator[StandInBot]:
    port = free_port()
    bot = StandInBot(f"http://127.0.0.1:{port}")
    Sanic.test_mode = True
    app = Sanic(f"channel_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(bot.on_new_message), url_prefix=url_prefix)
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        yield bot
    finally:
        await server.close()
