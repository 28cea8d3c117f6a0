"""HAProxy (Debian's ``haproxy``) in front of the cluster's Rasa servers, action servers and care services.

REST, the Twilio webhooks, the action calls and the care service go round robin. socket.io keeps one
connection's polling requests and its upgrade on one Rasa server (it holds the session in memory), so
``/socket.io/`` is pinned by a cookie HAProxy inserts: every test client here comes from 127.0.0.1, so
pinning by source address would prove nothing. A connection refused by a dead server is retried on
another at once; health checks take a dead server out within about two seconds.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence

from jinja2 import Environment, StrictUndefined

from localrun.processes import stop_process

HOST = "127.0.0.1"
STICKY_COOKIE = "KEYCARE_RASA"

CONFIG = Environment(undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True).from_string("""\
# Written by localrun.cluster for this run; deploy/ describes a real deployment's balancer.
global
    maxconn 4096
    hard-stop-after 5s

defaults
    mode http
    timeout connect 1s
    timeout client 120s
    timeout server 120s
    timeout tunnel 1h
    timeout http-request 10s
    retries 2
    option redispatch 1
    option forwardfor
    default-server inter 1s fall 2 rise 1

frontend bot
    bind {{ host }}:{{ bot_port }}
    use_backend rasa_socketio if { path_beg /socket.io/ }
    default_backend rasa

backend rasa
    balance roundrobin
    option httpchk GET /
{% for port in rasa %}
    server rasa{{ loop.index }} {{ host }}:{{ port }} check
{% endfor %}

backend rasa_socketio
    balance roundrobin
    cookie {{ cookie }} insert indirect nocache httponly
    option httpchk GET /
{% for port in rasa %}
    server rasa{{ loop.index }} {{ host }}:{{ port }} check cookie rasa{{ loop.index }}
{% endfor %}

frontend actions
    bind {{ host }}:{{ actions_port }}
    default_backend actions

backend actions
    balance roundrobin
    option httpchk GET /health
{% for port in actions %}
    server actions{{ loop.index }} {{ host }}:{{ port }} check
{% endfor %}

frontend care
    bind {{ host }}:{{ care_port }}
    default_backend care

# A TCP check: /healthz reports MongoDB too, and during an election every instance would be taken out.
backend care
    balance roundrobin
{% for port in care %}
    server care{{ loop.index }} {{ host }}:{{ port }} check
{% endfor %}
""")


def haproxy_binary() -> str:
    found = shutil.which("haproxy") or next((p for p in ("/usr/sbin/haproxy",) if Path(p).exists()), None)
    if not found:
        raise RuntimeError("haproxy is not installed; run `make system-deps` (Debian package haproxy)")
    return found


@dataclass(frozen=True)
class Balancer:
    bot_port: int
    actions_port: int
    care_port: int
    rasa: Sequence[int]
    actions: Sequence[int]
    care: Sequence[int]

    def config(self) -> str:
        return CONFIG.render(host=HOST, cookie=STICKY_COOKIE, bot_port=self.bot_port, actions_port=self.actions_port,
                             care_port=self.care_port, rasa=self.rasa, actions=self.actions, care=self.care)


def listening(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


class HAProxy:
    def __init__(self, balancer: Balancer, config_path: Path) -> None:
        self.balancer, self.config_path = balancer, config_path
        self.process: Optional[subprocess.Popen[bytes]] = None

    def command(self) -> List[str]:
        return [haproxy_binary(), "-db", "-f", str(self.config_path)]  # -db: in the foreground, ours to stop

    def start(self, timeout_s: float = 10.0) -> None:
        self.config_path.parent.mkdir(parents=True, exist_ok=True)
        self.config_path.write_text(self.balancer.config())
        check = subprocess.run([haproxy_binary(), "-c", "-q", "-f", str(self.config_path)], capture_output=True, text=True)
        if check.returncode != 0:
            raise RuntimeError(f"haproxy refused its configuration {self.config_path}:\n{check.stdout}{check.stderr}")
        log_file = open(self.config_path.with_suffix(".log"), "ab")
        self.process = subprocess.Popen(self.command(), stdout=log_file, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log_file.close()
        deadline = time.monotonic() + timeout_s
        while not all(listening(p) for p in (self.balancer.bot_port, self.balancer.actions_port,
                                             self.balancer.care_port)):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"haproxy did not start; see {self.config_path.with_suffix('.log')}")
            time.sleep(0.05)

    def stop(self) -> None:
        stop_process(self.process, signal.SIGUSR1)  # soft stop: finish what is in flight
        self.process = None
