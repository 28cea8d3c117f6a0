"""``make run``: everything the product has, on its embedded defaults, supervised until Ctrl-C.

MongoDB (``MONGODB_URI`` or the embedded mongod), demo data for an empty database, SMS to the
emulator with per-run made-up credentials, then the care service and the assistant; stopped in
reverse order, mongod last.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

from cryptography.fernet import Fernet

from carecore.config import PROJECT_ROOT, Settings, get_settings
from carecore.logging_setup import setup_logging
from carecore.model import ManagerLevel
from carecore.passwords import hash_password
from carecore.repository import Database
from carecore.runtime import embedded_mongo
from localrun.mongod import EmbeddedMongo
from localrun.processes import run_until_stopped
from localrun.seed import seed

log = logging.getLogger("keycare.run")

EMULATOR_ACCOUNT_SID = "AC" + "e" * 32
EMULATOR_FROM_NUMBER = "+8610690000"
DEMO_CUSTOMERS = int(os.environ.get("DEMO_CUSTOMERS", "200"))
DEMO_MONTHS = 13  # a year and a month of bills: the latest has its year-earlier twin to be set beside ("同比")


@dataclass
class Service:
    name: str
    argv: List[str]
    ready_url: Optional[str] = None
    ready_timeout_s: float = 60


MODEL = PROJECT_ROOT / "models" / "keycare.tar.gz"


def rasa_cli() -> str:
    return str(Path(sys.executable).with_name("rasa"))


def bot_cli() -> List[str]:
    """Rasa's command line with the product's Rasa fixes installed first (``bot.rasa_compat``)."""
    return [sys.executable, "-m", "bot"]


def train_command() -> List[str]:
    """Train only when the data or config changed (Rasa compares fingerprints)."""
    return [rasa_cli(), "train", "--domain", "domain", "--data", "data", "--config", "config.yml",
            "--out", "models", "--fixed-model-name", "keycare"]


def emulator_service(port: int, received_log: Path) -> Service:
    return Service("twilio-emulator", [sys.executable, "-m", "localrun.twilio_emulator", "--port", str(port),
                                       "--received-log", str(received_log)],
                   ready_url=f"http://127.0.0.1:{port}/_emulator")


def care_service(port: int, name: str = "care-service") -> Service:
    """The care service on ``port`` (``CARE_PORT`` is set in its environment by the caller)."""
    return Service(name, [sys.executable, "-m", "care_scheduler", "serve"], ready_url=f"http://127.0.0.1:{port}/healthz")


def action_server(port: int, name: str = "action-server") -> Service:
    return Service(name, [rasa_cli(), "run", "actions", "--actions", "actions", "--port", str(port)],
                   ready_url=f"http://127.0.0.1:{port}/health")


def rasa_server(port: int, api_token: str, interface: str = "127.0.0.1", name: str = "rasa-server") -> Service:
    return Service(name, [*bot_cli(), "run", "--model", str(MODEL), "--endpoints", "endpoints.yml", "--credentials",
                          "credentials.yml", "--interface", interface, "--port", str(port), "--enable-api",
                          "--auth-token", api_token, "--cors", "*"],
                   ready_url=f"http://127.0.0.1:{port}/", ready_timeout_s=180)


def services(settings: Settings, env: Dict[str, str], *, bot: bool = True, shell: bool = False) -> List[Service]:
    """The long-running processes of the product, in start order."""
    started: List[Service] = []
    if env.get("KEYCARE_EMULATOR") == "1":
        started.append(emulator_service(settings.emulator_port, settings.var_dir / "emulator-received.jsonl"))
    started.append(care_service(settings.care_port))
    if not bot:
        return started
    started.append(action_server(settings.action_server_port))
    if not shell:
        started.append(rasa_server(settings.rasa_port, env["RASA_API_TOKEN"], settings.rasa_interface))
    return started


async def _prepare_database(uri: str, settings: Settings,
                            demo_customers: int = DEMO_CUSTOMERS) -> Tuple[int, Optional[str]]:
    """The schema brought up to date, demo data in an empty database, and demo console passwords; returns how many
    customers there are and a city manager one may sign in to the console as."""
    db = Database.connect(uri, settings.mongodb_db)
    try:
        await db.ensure_schema()
        if await db.customers.count() == 0:
            log.info("empty database: seeding %d demo key accounts", demo_customers)
            report = await seed(db, demo_customers, months=DEMO_MONTHS, progress=sys.stderr.isatty())
            log.info("seeded %d customers, %d contacts, %d usage months",
                     report.customers, report.contacts, report.usage)
        else:
            log.info("database has data; reusing it")
        await _demo_passwords(db, settings)
        managers = [m for m in await db.managers.all() if m.active and m.level == ManagerLevel.city]
        return await db.customers.count(), managers[0].id if managers else None
    finally:
        db.close()


async def _demo_passwords(db: Database, settings: Settings) -> None:
    """Give managers without a console password the demo one (DEMO_MANAGER_PASSWORD, or made up once
    and kept in var/demo-manager-password, readable only by this user)."""
    missing = [m for m in await db.managers.all() if not m.password_hash]
    if not missing:
        return
    password = os.environ.get("DEMO_MANAGER_PASSWORD") or _secret_file(settings.var_dir / "demo-manager-password")
    for manager in missing:
        await db.managers.set_password_hash(manager.id, hash_password(password), only_if_unset=True)
    log.info("console passwords set for %d managers (see var/demo-manager-password)", len(missing))


def fernet_key() -> str:
    """A key for the console's cookies."""
    return Fernet.generate_key().decode()


def _token() -> str:
    return secrets.token_urlsafe(18)


def _secret_file(path: Path, make: Callable[[], str] = _token) -> str:
    """A secret kept in a file only this user can read; made up on first use."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _wait_http(url: str, timeout_s: float, proc: subprocess.Popen[bytes]) -> bool:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1):
                return True
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    return False


class Supervisor:
    def __init__(self, settings: Settings, *, bot: bool = True, shell: bool = False) -> None:
        self.settings = settings
        self.bot = bot
        self.shell = shell
        self.env: Dict[str, str] = {}
        self.mongo: Optional[EmbeddedMongo] = None
        self.children: List[tuple[Service, subprocess.Popen[bytes]]] = []
        self.stopping = False

    def child_env(self) -> Dict[str, str]:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
        env.setdefault("MONGODB_DB", self.settings.mongodb_db)
        env.setdefault("ACTION_SERVER_URL", f"http://127.0.0.1:{self.settings.action_server_port}/webhook")
        env.setdefault("LOCK_STORE_TYPE", "in_memory")  # one Rasa server; endpoints.yml names both
        env.setdefault("LOCK_STORE_URL", "")
        # Per-run secrets unless configured: never written anywhere.
        env.setdefault("RASA_API_TOKEN", secrets.token_hex(24))
        env.setdefault("CHAT_TOKEN_SECRET", secrets.token_hex(32))  # chat sessions end with the run
        env.setdefault("RASA_URL", f"http://127.0.0.1:{self.settings.rasa_port}")
        # Twilio posts delivery statuses to the care service; it checks them against this URL.
        env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{self.settings.care_port}")
        if not env.get("CARE_ADMIN_TOKEN"):
            env["CARE_ADMIN_TOKEN"] = self._admin_token()
        # Kept in var/ unless configured, since what they sign must outlive a restart: survey and opt-out links
        # sent yesterday, an SMS contact's conversation, managers' console logins.
        var = self.settings.var_dir
        kept = (("LINK_SECRET", "link-secret", _token), ("CONSOLE_SECRET", "console-secret", fernet_key),
                ("SENDER_ID_SECRET", "sender-id-secret", lambda: secrets.token_hex(32)))
        for name, file, make in kept:
            if not env.get(name):
                env[name] = _secret_file(var / file, make)
        if not self.settings.twilio_configured and self.settings.sms_outbox == "emulator":
            env.update(
                KEYCARE_EMULATOR="1",
                TWILIO_ACCOUNT_SID=EMULATOR_ACCOUNT_SID,
                TWILIO_AUTH_TOKEN=self.settings.emulator_auth_token or secrets.token_hex(16),  # never stored
                TWILIO_FROM_NUMBER=EMULATOR_FROM_NUMBER,
                TWILIO_API_BASE_URL=f"http://127.0.0.1:{self.settings.emulator_port}",
            )
        return env

    def _admin_token(self) -> str:
        """A per-run admin API token, readable only by this user, for operators on this machine."""
        path = self.settings.var_dir / "care-admin-token"
        path.unlink(missing_ok=True)
        log.info("admin API token for this run: %s (Authorization: Bearer <token>)", path)
        return _secret_file(path)

    def start(self) -> None:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        env = self.child_env()
        uri = self.settings.mongodb_uri
        if not uri:
            self.mongo = embedded_mongo(self.settings)
            uri = self.mongo.start()
            env["MONGODB_URI"] = uri
        customers, manager = asyncio.run(_prepare_database(uri, self.settings))
        if self.bot:
            log.info("training the assistant if its data changed (a first training takes a few minutes)")
            subprocess.run(train_command(), env=env, cwd=PROJECT_ROOT, check=True)
        self.env = env
        for service in services(self.settings, env, bot=self.bot, shell=self.shell):
            log.info("starting %s", service.name)
            proc = subprocess.Popen(service.argv, env=env, cwd=PROJECT_ROOT, start_new_session=True)
            self.children.append((service, proc))
            if service.ready_url and not _wait_http(service.ready_url, service.ready_timeout_s, proc):
                raise RuntimeError(f"{service.name} did not become ready at {service.ready_url}")
        sms = "Twilio" if self.settings.twilio_configured else (
            f"Twilio emulator on port {self.settings.emulator_port}" if env.get("KEYCARE_EMULATOR") else "console outbox")
        # "ready:" comes last: whoever waits for it (a person, or tests/stack.py) has the addresses above it.
        if self.bot and not self.shell:
            log.info("chat: http://127.0.0.1:%d/chat", self.settings.rasa_port)
        if manager:
            log.info("console: %s, signed in as a manager (%s, for one) with DEMO_MANAGER_PASSWORD or the password in "
                     "var/demo-manager-password", self.settings.console_url, manager)
        log.info("ready: MongoDB %s (%d customers), SMS via %s, care service on port %d. Ctrl-C stops everything.",
                 "embedded" if self.mongo else "external", customers, sms, self.settings.care_port)

    def run_shell(self) -> int:
        """``make shell``: a terminal chat against the running action server."""
        argv = [*bot_cli(), "shell", "--model", str(MODEL), "--endpoints", "endpoints.yml"]
        return subprocess.call(argv, env=self.env, cwd=PROJECT_ROOT)

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


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the key-account care product on embedded defaults")
    parser.add_argument("--no-bot", action="store_true", help="without the Rasa assistant (no training)")
    parser.add_argument("--shell", action="store_true", help="chat with the assistant in this terminal")
    args = parser.parse_args(argv)
    settings = get_settings()
    setup_logging(settings.log_level)
    supervisor = Supervisor(settings, bot=not args.no_bot, shell=args.shell)

    return run_until_stopped(supervisor, supervisor.run_shell if args.shell else supervisor.wait, "product")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
