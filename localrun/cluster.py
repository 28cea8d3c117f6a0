"""``make cluster``: the product past one machine's processes, every part a real process on this machine.

A 3-member MongoDB replica set (three mongod from the wheel), a Redis of its own as Rasa's lock store,
Rasa servers and action servers, care services electing one scheduler leader, and HAProxy in front.
The secrets every replica must share (sender ids, API tokens, the console's cookie key, chat tokens)
are made once here and passed to all. A process that dies is reported, not followed by the rest: the
cluster is meant to survive it (``make cluster-drills``). Ctrl-C stops everything, MongoDB last.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

from carecore import repository
from carecore.config import PROJECT_ROOT, Settings, get_settings
from carecore.logging_setup import setup_logging
from localrun.haproxy import Balancer, HAProxy
from localrun.mongod import HOST, EmbeddedMongo, free_port
from localrun.processes import run_until_stopped
from localrun.redis import EmbeddedRedis
from localrun.supervisor import (
    DEMO_CUSTOMERS,
    Service,
    Supervisor,
    _prepare_database,
    _wait_http,
    action_server,
    care_service,
    emulator_service,
    rasa_server,
    train_command,
)

log = logging.getLogger("keycare.cluster")

REPLICA_SET = "keycare"
TICKET_LOCK_LIFETIME_S = 15  # a turn of a Rasa server killed mid-turn holds its conversation this long at most


@dataclass
class Ports:
    """Where each part listens: from a base port (``make cluster``) or any free ports (tests)."""

    mongo: List[int]
    redis: int
    emulator: int
    bot: int  # HAProxy: Rasa (REST, socket.io, Twilio webhooks)
    actions: int  # HAProxy: the action servers
    care: int  # HAProxy: the care services
    rasa_servers: List[int]
    action_servers: List[int]
    care_services: List[int]

    @classmethod
    def from_base(cls, base: int, rasa: int, actions: int, care: int) -> Ports:
        return cls(mongo=[base, base + 1, base + 2], redis=base + 10, emulator=base + 11, bot=base + 20,
                   actions=base + 21, care=base + 22, rasa_servers=[base + 30 + i for i in range(rasa)],
                   action_servers=[base + 40 + i for i in range(actions)],
                   care_services=[base + 50 + i for i in range(care)])

    @classmethod
    def free(cls, rasa: int, actions: int, care: int) -> Ports:
        return cls(mongo=[free_port() for _ in range(3)], redis=free_port(), emulator=free_port(), bot=free_port(),
                   actions=free_port(), care=free_port(), rasa_servers=[free_port() for _ in range(rasa)],
                   action_servers=[free_port() for _ in range(actions)],
                   care_services=[free_port() for _ in range(care)])

    def url(self, port: int) -> str:
        return f"http://{HOST}:{port}"


@dataclass
class Cluster:
    settings: Settings
    ports: Ports
    var: Path
    bot: bool = True
    demo_customers: int = DEMO_CUSTOMERS
    extra_env: Dict[str, str] = field(default_factory=dict)  # for every process (drills: timezone, short leases)
    mongo: List[EmbeddedMongo] = field(default_factory=list)
    redis: Optional[EmbeddedRedis] = None
    haproxy: Optional[HAProxy] = None
    procs: Dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    services: Dict[str, Service] = field(default_factory=dict)
    env: Dict[str, str] = field(default_factory=dict)
    own_env: Dict[str, Dict[str, str]] = field(default_factory=dict)  # a process's own settings (its port)
    stopping: bool = False

    @property
    def mongodb_uri(self) -> str:
        members = ",".join(f"{HOST}:{p}" for p in self.ports.mongo)
        return f"mongodb://{members}/?replicaSet={REPLICA_SET}"

    @property
    def emulator_log(self) -> Path:
        return self.var / "emulator-received.jsonl"

    def shared_env(self) -> Dict[str, str]:
        """One environment for every replica: the same database, lock store, secrets and public URLs."""
        own = self.settings.copy(update={"emulator_port": self.ports.emulator, "care_port": self.ports.care,
                                         "rasa_port": self.ports.bot, "action_server_port": self.ports.actions})
        env = Supervisor(own).child_env()
        configured = os.environ
        env.update(MONGODB_URI=self.mongodb_uri, LOCK_STORE_TYPE="bot.lock_store.AtomicRedisLockStore",
                   LOCK_STORE_URL=f"redis://{HOST}:{self.ports.redis}/1")
        env.setdefault("TICKET_LOCK_LIFETIME", str(TICKET_LOCK_LIFETIME_S))
        env.setdefault("TRUSTED_PROXIES", f'["{HOST}"]')  # HAProxy: every client here is local too
        if "BOT_PUBLIC_URL" not in configured:
            env["BOT_PUBLIC_URL"] = self.ports.url(self.ports.bot)
        if "CONSOLE_URL" not in configured:
            env["CONSOLE_URL"] = self.ports.url(self.ports.care) + "/console"
        return env

    def _replica_set(self) -> None:
        self.mongo = [EmbeddedMongo(self.var / f"mongo-{i + 1}", port, cache_size_gb=0.25, replica_set=REPLICA_SET)
                      for i, port in enumerate(self.ports.mongo)]
        for member in self.mongo:
            member.start(initiate=False)
        repository.ensure_replica_set(HOST, self.ports.mongo[0], REPLICA_SET, members=self.ports.mongo, timeout_s=60)

    def _balancer(self) -> Balancer:
        return Balancer(self.ports.bot, self.ports.actions, self.ports.care, self.ports.rasa_servers,
                        self.ports.action_servers, self.ports.care_services)

    def start(self) -> None:
        self.start_database()
        self.start_services()

    def start_database(self) -> None:
        """The replica set, its schema, and the demo data when it is empty."""
        self.var.mkdir(parents=True, exist_ok=True)
        log.info("starting a 3-member replica set on ports %s", self.ports.mongo)
        self._replica_set()
        self.env = {**self.shared_env(), **self.extra_env}
        asyncio.run(_prepare_database(self.mongodb_uri, self.settings, self.demo_customers))

    def start_services(self) -> None:
        if self.bot:
            log.info("training the assistant if its data changed")
            subprocess.run(train_command(), env=self.env, cwd=PROJECT_ROOT, check=True)
        self.redis = EmbeddedRedis(self.var / "redis", self.ports.redis)
        self.redis.start()
        self.haproxy = HAProxy(self._balancer(), self.var / "haproxy.cfg")
        self.haproxy.start()
        wanted = [emulator_service(self.ports.emulator, self.emulator_log)] \
            if self.env.get("KEYCARE_EMULATOR") == "1" else []
        wanted += [care_service(port, f"care-{i + 1}") for i, port in enumerate(self.ports.care_services)]
        self.own_env.update({f"care-{i + 1}": {"CARE_PORT": str(port)} for i, port in enumerate(self.ports.care_services)})
        if self.bot:
            wanted += [action_server(port, f"actions-{i + 1}") for i, port in enumerate(self.ports.action_servers)]
            wanted += [rasa_server(port, self.env["RASA_API_TOKEN"], name=f"rasa-{i + 1}")
                       for i, port in enumerate(self.ports.rasa_servers)]
        for service in wanted:  # all at once: the Rasa servers load their models side by side
            self.launch(service)
        for service in wanted:
            self.wait_ready(service.name)
        self.wait_balanced()
        log.info("cluster ready: assistant %s, care service %s (MongoDB %s, Redis %s). Ctrl-C stops everything.",
                 self.ports.url(self.ports.bot), self.ports.url(self.ports.care), self.ports.mongo, self.ports.redis)

    def launch(self, service: Service) -> None:
        env = {**self.env, **self.own_env.get(service.name, {})}
        log.info("starting %s", service.name)
        self.services[service.name] = service
        self.procs[service.name] = subprocess.Popen(service.argv, env=env, cwd=PROJECT_ROOT, start_new_session=True)

    def wait_ready(self, name: str) -> None:
        service, proc = self.services[name], self.procs[name]
        if service.ready_url and not _wait_http(service.ready_url, service.ready_timeout_s, proc):
            raise RuntimeError(f"{name} did not become ready at {service.ready_url}")

    def wait_balanced(self, timeout_s: float = 15) -> None:
        """Until HAProxy's health checks have seen a server of each backend up (they mark them down while
        the servers start)."""
        assert self.haproxy is not None and self.haproxy.process is not None
        urls = [self.ports.url(self.ports.care) + "/metrics"]
        if self.bot:
            urls += [self.ports.url(self.ports.bot) + "/", self.ports.url(self.ports.actions) + "/health"]
        for url in urls:
            if not _wait_http(url, timeout_s, self.haproxy.process):
                raise RuntimeError(f"HAProxy has no server up behind {url}")

    def kill(self, name: str) -> None:
        """SIGKILL one process (``rasa-1``, ``care-2``, ``redis``, ``mongo-<port>``), as a drill does."""
        if name == "redis" and self.redis is not None:
            self.redis.kill()
        elif name.startswith("mongo-"):
            next(m for m in self.mongo if m.port == int(name.split("-")[1])).kill()
        else:
            proc = self.procs[name]
            proc.kill()
            proc.wait()

    def restart(self, name: str) -> None:
        """Start a killed process again, on its old port and data."""
        if name == "redis" and self.redis is not None:
            self.redis.start()
        elif name.startswith("mongo-"):
            next(m for m in self.mongo if m.port == int(name.split("-")[1])).start(initiate=False)
        else:
            self.launch(self.services[name])
            self.wait_ready(name)

    def primary_port(self, timeout_s: float = 30) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for port in self.ports.mongo:
                if repository.is_primary(HOST, port):
                    return port
            time.sleep(0.2)
        raise TimeoutError("the replica set has no primary")

    def wait(self) -> int:
        reported: set[str] = set()
        while not self.stopping:
            for name, proc in self.procs.items():
                if proc.poll() is not None and name not in reported:
                    reported.add(name)  # the others carry on: surviving this is the cluster's point
                    log.error("%s exited with code %s; the other replicas carry on", name, proc.returncode)
            time.sleep(0.5)
        return 0

    def stop(self) -> None:
        for name, proc in reversed(list(self.procs.items())):
            if proc.poll() is None:
                log.info("stopping %s", name)
                proc.send_signal(signal.SIGTERM)
        for name, proc in reversed(list(self.procs.items())):
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop; killing it", name)
                proc.kill()
                proc.wait()
        self.procs.clear()
        if self.haproxy is not None:
            self.haproxy.stop()
        if self.redis is not None:
            self.redis.stop()
        # Together: a primary shutting down waits for its secondaries, which must still be there.
        with ThreadPoolExecutor(max_workers=len(self.mongo) or 1) as pool:
            list(pool.map(lambda member: member.stop(), self.mongo))


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Run the product as a cluster on this machine")
    parser.add_argument("--base-port", type=int, default=int(os.environ.get("CLUSTER_BASE_PORT", "27200")),
                        help="ports from here: mongod +0..2, Redis +10, emulator +11, HAProxy +20..22, "
                             "Rasa +30.., actions +40.., care +50..")
    parser.add_argument("--rasa", type=int, default=2, help="Rasa servers")
    parser.add_argument("--actions", type=int, default=2, help="action servers")
    parser.add_argument("--care", type=int, default=2, help="care services")
    args = parser.parse_args(argv)
    settings = get_settings()
    setup_logging(settings.log_level)
    cluster = Cluster(settings, Ports.from_base(args.base_port, args.rasa, args.actions, args.care),
                      settings.var_dir / "cluster")

    return run_until_stopped(cluster, cluster.wait, "cluster")

if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
