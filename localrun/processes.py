"""What every local supervisor does with its processes: stop one politely, and run until Ctrl-C."""

from __future__ import annotations

import logging
import signal
import subprocess
from typing import Callable, Optional, Protocol

log = logging.getLogger("keycare.run")


def stop_process(proc: Optional[subprocess.Popen[bytes]], sig: int = signal.SIGTERM, timeout_s: float = 10) -> None:
    """Ask it to stop with ``sig``; kill it if it has not within ``timeout_s``."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Supervised(Protocol):
    stopping: bool

    def start(self) -> None: ...

    def stop(self) -> None: ...


def run_until_stopped(target: Supervised, run: Callable[[], int], what: str) -> int:
    """Start ``target``, ``run`` until it returns or Ctrl-C / SIGTERM asks to stop, then stop everything."""

    def request_stop(signum: int, _frame: object) -> None:
        target.stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    code = 0
    try:
        target.start()
        code = run()
    except Exception:
        log.exception("%s start-up failed", what)
        code = 1
    finally:
        target.stop()
    log.info("%s stopped", what)
    return code
