"""`make run`: embedded mongod from the wheel, seeded once, reused, stopped cleanly on Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from carecore import repository
from localrun.mongod import free_port

ROOT = Path(__file__).resolve().parent.parent


READERS: dict[int, threading.Thread] = {}  # each supervisor's output reader, read to the end by stop()


def run_until_ready(env: dict, timeout_s: float = 120) -> tuple[subprocess.Popen, list[str]]:
    proc = subprocess.Popen([sys.executable, "-m", "localrun.supervisor", "--no-bot"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    ready = threading.Event()

    def pump() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if "ready:" in line:
                ready.set()

    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    READERS[proc.pid] = reader
    if not ready.wait(timeout_s):
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        raise AssertionError("supervisor never became ready:\n" + "".join(lines))
    return proc, lines


def stop(proc: subprocess.Popen, lines: list[str]) -> int:
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    READERS.pop(proc.pid).join(timeout=10)  # the last lines, up to the end of its output
    return code


def test_run_starts_seeds_reuses_and_stops(tmp_path: Path) -> None:
    mongo_port, emulator_port, care_port = free_port(), free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TWILIO_", "MONGODB_", "CARE_", "PUBLIC_"))}
    env.update(VAR_DIR=str(tmp_path / "var"), EMBEDDED_MONGO_PORT=str(mongo_port),
               EMULATOR_PORT=str(emulator_port), CARE_PORT=str(care_port), DEMO_CUSTOMERS="25")
    direct = f"mongodb://127.0.0.1:{mongo_port}/"
    try:
        _run_twice(env, direct, tmp_path)
    finally:  # never leave a mongod behind, whatever failed
        repository.shutdown_server("127.0.0.1", mongo_port)


def _run_twice(env: dict, direct: str, tmp_path: Path) -> None:
    proc, lines = run_until_ready(env)
    assert repository.server_answers(direct)
    care = f"http://127.0.0.1:{env['CARE_PORT']}"
    with urllib.request.urlopen(care + "/healthz", timeout=10) as resp:
        health = json.load(resp)
    assert health["status"] == "ok" and health["jobs"]["birthday"]["next_run"]
    password_file = tmp_path / "var" / "demo-manager-password"
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600 and len(password_file.read_text().strip()) >= 16
    with urllib.request.urlopen(care + "/console/login", timeout=10) as resp:
        assert resp.status == 200 and "客户经理工作台" in resp.read().decode()
    token_file = tmp_path / "var" / "care-admin-token"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    request = urllib.request.Request(care + "/admin/report",
                                     headers={"Authorization": f"Bearer {token_file.read_text().strip()}"})
    with urllib.request.urlopen(request, timeout=10) as resp:
        assert resp.status == 200
    assert stop(proc, lines) == 0, "".join(lines)
    log = "".join(lines)
    assert "seeding 25 demo key accounts" in log and "25 customers" in log
    assert "SMS via Twilio emulator" in log
    assert not repository.server_answers(direct), "mongod must be stopped with the product"
    assert (tmp_path / "var" / "mongo").is_dir()

    proc, lines = run_until_ready(env)
    assert stop(proc, lines) == 0
    log = "".join(lines)
    assert "reusing it" in log and "seeding" not in log and "(25 customers)" in log


def test_what_signs_links_sessions_and_logins_outlives_a_restart(tmp_path: Path, monkeypatch) -> None:
    from cryptography.fernet import Fernet

    from carecore.config import Settings
    from localrun.supervisor import Supervisor

    for name in ("LINK_SECRET", "SENDER_ID_SECRET", "CONSOLE_SECRET", "RASA_API_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(var_dir=tmp_path / "var", mongodb_uri="unused")
    first, second = Supervisor(settings).child_env(), Supervisor(settings).child_env()
    for name in ("LINK_SECRET", "SENDER_ID_SECRET", "CONSOLE_SECRET"):
        assert first[name] == second[name]
    assert first["RASA_API_TOKEN"] != second["RASA_API_TOKEN"]  # kept nowhere
    Fernet(first["CONSOLE_SECRET"])
    for file in ("link-secret", "sender-id-secret", "console-secret"):
        assert stat.S_IMODE((tmp_path / "var" / file).stat().st_mode) == 0o600
    monkeypatch.setenv("CONSOLE_SECRET", Fernet.generate_key().decode())  # configured: used, nothing read
    assert Supervisor(settings).child_env()["CONSOLE_SECRET"] == os.environ["CONSOLE_SECRET"]
