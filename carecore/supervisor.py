"""``make run``: start everything the product has on its embedded defaults.

1. MongoDB: ``MONGODB_URI`` if set, else the embedded mongod under ``var/``.
2. Demo data when the database has no customers yet.
3. SMS: with no Twilio credentials, the local Twilio emulator (or the console
   outbox with ``SMS_OUTBOX=console``); its credentials are made up per run and
   handed to the children through the environment.
4. The product's processes (see ``services``), supervised until Ctrl-C, then
   stopped in reverse order, mongod last and cleanly.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Dict, List, Optional

from carecore.config import PROJECT_ROOT, Settings, get_settings
from carecore.logging_setup import setup_logging
from carecore.mongod import EmbeddedMongo
from carecore.repository import Database
from carecore.runtime import embedded_mongo
from carecore.seed import seed

log = logging.getLogger("keycare.run")

EMULATOR_ACCOUNT_SID = "AC" + "e" * 32
EMULATOR_FROM_NUMBER = "+8610690000"
DEMO_CUSTOMERS = int(os.environ.get("DEMO_CUSTOMERS", "200"))


@dataclass
class Service:
    name: str
    argv: List[str]
    ready_url: Optional[str] = None


def services(settings: Settings, env: Dict[str, str]) -> List[Service]:
    """The long-running processes of the product, in start order."""
    py = sys.executable
    started: List[Service] = []
    if env.get("KEYCARE_EMULATOR") == "1":
        started.append(
            Service(
                "twilio-emulator",
                [py, "-m", "carecore.twilio_emulator", "--port", str(settings.emulator_port),
                 "--received-log", str(settings.var_dir / "emulator-received.jsonl")],
                ready_url=f"http://127.0.0.1:{settings.emulator_port}/_emulator",
            )
        )
    return started


async def _prepare_database(uri: str, settings: Settings) -> int:
    db = Database.connect(uri, settings.mongodb_db)
    try:
        await db.ensure_schema()
        if await db.customers.count() == 0:
            log.info("empty database: seeding %d demo key accounts", DEMO_CUSTOMERS)
            report = await seed(db, DEMO_CUSTOMERS, progress=sys.stderr.isatty())
            log.info("seeded %d customers, %d contacts, %d usage months",
                     report.customers, report.contacts, report.usage)
        else:
            log.info("database has data; reusing it")
        return await db.customers.count()
    finally:
        db.close()


def _wait_http(url: str, timeout_s: float = 30.0) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    return False


class Supervisor:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.mongo: Optional[EmbeddedMongo] = None
        self.children: List[tuple[Service, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def child_env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        if not self.settings.twilio_configured and self.settings.sms_outbox == "emulator":
            env.update(
                KEYCARE_EMULATOR="1",
                TWILIO_ACCOUNT_SID=EMULATOR_ACCOUNT_SID,
                TWILIO_AUTH_TOKEN=secrets.token_hex(16),  # per run; never stored
                TWILIO_FROM_NUMBER=EMULATOR_FROM_NUMBER,
                TWILIO_API_BASE_URL=f"http://127.0.0.1:{self.settings.emulator_port}",
            )
        return env

    def start(self) -> None:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        uri = self.settings.mongodb_uri
        if not uri:
            self.mongo = embedded_mongo(self.settings)
            uri = self.mongo.start()
            env["MONGODB_URI"] = uri
        customers = asyncio.run(_prepare_database(uri, self.settings))
        for service in services(self.settings, env):
            log.info("starting %s", service.name)
            proc = subprocess.Popen(service.argv, env=env, cwd=PROJECT_ROOT, start_new_session=True)
            self.children.append((service, proc))
            if service.ready_url and not _wait_http(service.ready_url):
                raise RuntimeError(f"{service.name} did not become ready at {service.ready_url}")
        sms = "Twilio" if self.settings.twilio_configured else (
            f"Twilio emulator on port {self.settings.emulator_port}" if env.get("KEYCARE_EMULATOR") else "console outbox")
        log.info("ready: MongoDB %s (%d customers), SMS via %s. Ctrl-C stops everything.",
                 "embedded" if self.mongo else "external", customers, sms)

    def wait(self) -> int:
        while not self.stopping:
            for service, proc in self.children:
                code = proc.poll()
                if code is not None:
                    log.error("%s exited with code %s; stopping everything", service.name, code)
                    return 1
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        for service, proc in reversed(self.children):
            if proc.poll() is None:
                log.info("stopping %s", service.name)
                proc.send_signal(signal.SIGTERM)
        for service, proc in reversed(self.children):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop; killing it", service.name)
                proc.kill()
                proc.wait()
        self.children.clear()
        if self.mongo is not None:
            log.info("stopping embedded mongod")
            self.mongo.stop()


def main() -> int:
    settings = get_settings()
    setup_logging(settings.log_level)
    supervisor = Supervisor(settings)

    def _request_stop(signum: int, _frame: object) -> None:
        supervisor.stopping = True

    signal.signal(signal.SIGINT, _request_stop)
    signal.signal(signal.SIGTERM, _request_stop)
    code = 0
    try:
        supervisor.start()
        code = supervisor.wait()
    except Exception:
        log.exception("start-up failed")
        code = 1
    finally:
        supervisor.stop()
    log.info("stopped")
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
