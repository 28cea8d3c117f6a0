"""Shared fixtures: a real, throwaway mongod for the session and the Twilio emulator.

No fake database anywhere: each test gets its own database on the session's
mongod (a single-node replica set, like production), dropped afterwards.
"""

from __future__ import annotations

import uuid
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, AsyncIterator, Dict, Iterator, List, Tuple

import aiohttp
import pytest
from aiohttp import web

from care_scheduler.service import create_app as care_app
from carecore.clock import FixedClock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import GatewayPolicy, SmsGateway
from carecore.sms.transports import TwilioTransport
from localrun.mongod import EmbeddedMongo, free_port
from localrun.twilio_emulator import TwilioEmulator, create_app
from tests.console_client import NOW, Browser

# The action tests' fixtures (real domain, fixed clock, services on the real mongod) for every test_action_* module.
pytest_plugins = ["tests.action_kit"]

TEST_ACCOUNT_SID = "AC" + "1" * 32
TEST_FROM = "+8610690000"
TEST_SERVICE = "MG" + "2" * 32

@pytest.fixture(scope="session")
def agent() -> Any:
    """The trained model (``make train``, which ``make test`` runs first), loaded once: it takes seconds."""
    from rasa.core.agent import Agent  # TensorFlow: imported only by the tests that need a model

    model = Path(__file__).resolve().parents[1] / "models" / "keycare.tar.gz"
    assert model.exists(), "no trained model: run `make train` (make test does)"
    return Agent.load(str(model))


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    mongo = EmbeddedMongo(tmp_path_factory.mktemp("mongod") / "data", free_port(), cache_size_gb=0.25,
                          close_idle_files_s=15)  # a database per test: dropped ones must not hold files
    uri = mongo.start()
    yield uri
    mongo.destroy()


@pytest.fixture
async def db(mongo_uri: str) -> AsyncIterator[Database]:
    database = Database.connect(mongo_uri, f"test_{uuid.uuid4().hex[:12]}")
    await database.ensure_schema()
    yield database
    await database.drop()
    database.close()


ENDPOINTS_ENV = {"ACTION_SERVER_URL": "http://127.0.0.1:5055/webhook", "MONGODB_URI": "mongodb://h", "MONGODB_DB": "d",
                 "LOCK_STORE_TYPE": "in_memory", "LOCK_STORE_URL": ""}


@pytest.fixture
def endpoints_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """Every variable endpoints.yml names, as the supervisors set them; a test overrides what it needs."""
    for name, value in ENDPOINTS_ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.fixture
def auth_token() -> str:
    return uuid.uuid4().hex


async def start_app(app: web.Application) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


ADMIN_TOKEN = "admin-" + "a" * 24


@asynccontextmanager
async def admin_api(db: Database, gateway: SmsGateway, at: datetime) -> AsyncIterator[Tuple[aiohttp.ClientSession, str]]:
    """The care service on a fixed clock, without its scheduler, and a client holding its admin token; and its URL."""
    app = care_app(Settings(care_admin_token=ADMIN_TOKEN), db=db, gateway=gateway, clock=FixedClock(at),
                   start_scheduler=False)
    runner, url = await start_app(app)
    try:
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}) as http:
            yield http, url
    finally:
        await runner.cleanup()


@pytest.fixture
async def emulator(auth_token: str, tmp_path: Path) -> AsyncIterator[tuple[TwilioEmulator, str]]:
    emu = TwilioEmulator(TEST_ACCOUNT_SID, auth_token, numbers=[TEST_FROM], services={TEST_SERVICE: [TEST_FROM]},
                         callback_delay_s=0.01, received_log=tmp_path / "received.jsonl")
    runner, url = await start_app(create_app(emu))
    yield emu, url
    await runner.cleanup()


@pytest.fixture
def fast_sleeps() -> list[float]:
    return []


@pytest.fixture
async def gateway(db: Database, emulator: tuple[TwilioEmulator, str], auth_token: str, fast_sleeps: list[float]) -> AsyncIterator[SmsGateway]:
    _, url = emulator
    transport = TwilioTransport(TEST_ACCOUNT_SID, auth_token, from_number=TEST_FROM, base_url=url, timeout_s=1.0)

    async def record_sleep(seconds: float) -> None:
        fast_sleeps.append(seconds)

    gw = SmsGateway(db, transport, policy=GatewayPolicy(max_429_retries=3, lease_s=5), sleep=record_sleep)
    yield gw
    await gw.close()


class RasaStub:
    """Rasa's tracker-events endpoint, recording what the care service asks of it; down when `up` is False."""

    def __init__(self) -> None:
        self.events: List[Tuple[str, Any, str]] = []
        self.paths: List[str] = []
        self.up = True

    async def handle(self, request: web.Request) -> web.Response:
        if not self.up:
            return web.Response(status=503)
        self.events.append((request.match_info["sender"], await request.json(), request.query.get("token", "")))
        self.paths.append(request.raw_path.split("?")[0])
        return web.json_response({"events": []})


@pytest.fixture
async def rasa() -> AsyncIterator[Tuple[RasaStub, str]]:
    stub = RasaStub()
    app = web.Application()
    app.router.add_post("/conversations/{sender}/tracker/events", stub.handle)
    runner, url = await start_app(app)
    yield stub, url
    await runner.cleanup()


@pytest.fixture
def console_settings() -> Dict[str, Any]:
    """What a test adds to the console's settings: parametrise a test by this name to change them."""
    return {}


@pytest.fixture
async def console(db: Database, gateway: SmsGateway, rasa: Tuple[RasaStub, str],
                  console_settings: Dict[str, Any]) -> AsyncIterator[str]:
    """The care service with its console, on the fixed clock the console's demo data is dated by."""
    from care_scheduler.service import create_app as care_service
    from carecore.clock import FixedClock
    from carecore.config import Settings

    _, rasa_url = rasa
    settings = Settings(rasa_url=rasa_url, rasa_api_token="rasa-token", console_max_failed_logins=3,
                        **console_settings)
    app = care_service(settings, db=db, gateway=gateway, clock=FixedClock(NOW), start_scheduler=False)
    runner, url = await start_app(app)
    yield url
    await runner.cleanup()


@pytest.fixture
async def browser(console: str) -> AsyncIterator[Browser]:
    """A logged-out browser on the console."""
    client = Browser(console)
    yield client
    await client.close()


