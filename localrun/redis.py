"""A Redis of the cluster's own (Debian's ``redis-server``), on a port and directory of its choosing.

Debian starts its own Redis on 6379; the cluster and the tests never share it. Nothing is persisted:
the lock store holds only seconds-long ticket locks.
"""

from __future__ import annotations

import logging
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import List, Optional

from localrun.processes import stop_process

log = logging.getLogger(__name__)

HOST = "127.0.0.1"


def redis_binary() -> str:
    found = shutil.which("redis-server") or ("/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None)
    if not found:
        raise RuntimeError("redis-server is not installed; run `make system-deps` (Debian package redis-server)")
    return found


def answers(port: int, timeout_s: float = 0.5) -> bool:
    """True when a Redis on this port answers PING."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = Path(data_dir)
        self.port = port
        self.process: Optional[subprocess.Popen[bytes]] = None

    @property
    def url(self) -> str:
        return f"redis://{HOST}:{self.port}/1"

    def command(self) -> List[str]:
        return [redis_binary(), "--port", str(self.port), "--bind", HOST, "--dir", str(self.data_dir),
                "--save", "", "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes",
                "--logfile", str(self.data_dir / "redis.log")]

    def start(self, timeout_s: float = 15.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout_s
        while not answers(self.port):
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with code {self.process.returncode}; see {self.data_dir}")
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(f"redis-server did not answer on port {self.port} within {timeout_s}s")
            time.sleep(0.05)
        return self.url

    def kill(self) -> None:
        """SIGKILL, as the drills do."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None
