"""deploy/ against the code: no container engine runs here, so what can be checked is checked.

Every variable the files name is one the product reads; every variable endpoints.yml needs is given;
commands, ports and probe paths are the ones the code serves; every metric an alert names exists.
"""

from __future__ import annotations

import inspect
import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Set

import aiohttp
import pytest
import rasa.core.lock_store
import yaml

from care_scheduler.service import create_app
from carecore.config import Settings
from carecore.model import ImportStatus, SendStatus
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway
from localrun import supervisor
from localrun.mongod import free_port
from localrun.redis import EmbeddedRedis
from tests.conftest import start_app

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SHARED_SECRETS = {"SENDER_ID_SECRET", "RASA_API_TOKEN", "CONSOLE_SECRET", "CHAT_TOKEN_SECRET", "CARE_ADMIN_TOKEN",
                  "LINK_SECRET"}
SETTINGS = Settings()


def compose() -> Dict[str, Any]:
    return yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())


def k8s() -> List[Dict[str, Any]]:
    return [doc for path in sorted((DEPLOY / "k8s").glob("*.yaml")) for doc in yaml.safe_load_all(path.read_text())
            if doc]


def endpoint_variables() -> Set[str]:
    return set(re.findall(r"\$\{([A-Z_]+)\}", (ROOT / "endpoints.yml").read_text()))


def known_variables() -> Set[str]:
    rasa_own = {"TICKET_LOCK_LIFETIME"}
    assert all(name in inspect.getsource(rasa.core.lock_store) for name in rasa_own)
    return {name.upper() for name in Settings.__fields__} | endpoint_variables() | rasa_own


def k8s_variables() -> Set[str]:
    config = next(d for d in k8s() if d["kind"] == "ConfigMap")
    secret = set(re.findall(r"--from-literal=([A-Z_]+)=", (DEPLOY / "k8s" / "config.yaml").read_text()))
    return set(config["data"]) | secret


def local(argv: List[str]) -> List[str]:
    """A supervisor command as a container runs it: from the image's working directory."""
    out = ["python" if arg == sys.executable else arg for arg in argv]
    out = ["rasa" if arg == supervisor.rasa_cli() else arg for arg in out]
    return [str(Path(arg).relative_to(ROOT)) if arg.startswith(str(ROOT)) else arg for arg in out]


def test_every_variable_named_is_one_the_product_reads() -> None:
    named = set(compose()["x-keycare-env"]) | {"CARE_PORT"} | k8s_variables()
    assert named - known_variables() == set()


def test_endpoints_and_shared_secrets_are_given_everywhere() -> None:
    needed = endpoint_variables() | SHARED_SECRETS
    assert needed - set(compose()["x-keycare-env"]) == set()
    assert needed - k8s_variables() == set()


def test_commands_and_ports_are_the_supervisors() -> None:
    services = compose()["services"]
    rasa_cmd = local(supervisor.rasa_server(SETTINGS.rasa_port, "TOKEN", "0.0.0.0").argv)
    actions_cmd = local(supervisor.action_server(SETTINGS.action_server_port).argv)
    care_cmd = local(supervisor.care_service(SETTINGS.care_port).argv)
    assert [a.replace("${RASA_API_TOKEN:?}", "TOKEN") for a in services["rasa"]["command"]] == rasa_cmd
    assert services["actions"]["command"] == actions_cmd and services["care"]["command"] == care_cmd
    containers = {c["name"]: c for d in k8s() if d["kind"] == "Deployment"
                  for c in d["spec"]["template"]["spec"]["containers"]}
    assert [a.replace("$(RASA_API_TOKEN)", "TOKEN") for a in containers["rasa"]["command"]] == rasa_cmd
    assert containers["actions"]["command"] == actions_cmd and containers["care"]["command"] == care_cmd
    ports = {"rasa": SETTINGS.rasa_port, "actions": SETTINGS.action_server_port, "care": SETTINGS.care_port}
    assert {name: c["ports"][0]["containerPort"] for name, c in containers.items()} == ports
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    assert re.search(r"^EXPOSE (.+)$", dockerfile, re.M).group(1).split() == [str(p) for p in ports.values()]
    assert f'CMD {care_cmd}'.replace("'", '"') in dockerfile
    assert compose()["services"]["care"]["environment"]["CARE_PORT"] == str(SETTINGS.care_port)
    config = next(d for d in k8s() if d["kind"] == "ConfigMap")["data"]
    for url in (compose()["x-keycare-env"]["ACTION_SERVER_URL"], config["ACTION_SERVER_URL"]):
        assert url.endswith(f":{SETTINGS.action_server_port}/webhook")


def test_probe_paths_are_served(db: Database, gateway: SmsGateway) -> None:
    care_routes = {r.resource.canonical for r in create_app(Settings(), db=db, gateway=gateway).router.routes()
                   if r.resource is not None}
    import rasa_sdk.endpoint

    served = {"rasa": {"/"}, "actions": {"/health"} if '"/health"' in inspect.getsource(rasa_sdk.endpoint) else set(),
              "care": care_routes}
    for deployment in (d for d in k8s() if d["kind"] == "Deployment"):
        for container in deployment["spec"]["template"]["spec"]["containers"]:
            for probe in ("readinessProbe", "livenessProbe"):
                path = container[probe].get("httpGet", {}).get("path")
                assert path is None or path in served[container["name"]], (container["name"], probe, path)


def test_the_compose_balancer_is_valid_haproxy() -> None:
    check = subprocess.run(["haproxy", "-c", "-f", str(DEPLOY / "haproxy.cfg")], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr


async def test_every_metric_and_status_an_alert_names_exists(db: Database, gateway: SmsGateway,
                                                             tmp_path: Path) -> None:
    rules = yaml.safe_load((DEPLOY / "prometheus" / "alerts.yml").read_text())["groups"][0]["rules"]
    exprs = " ".join(rule["expr"] for rule in rules)
    redis = EmbeddedRedis(tmp_path, free_port())
    settings = Settings(lock_store_url=redis.start())
    runner, url = await start_app(create_app(settings, db=db, gateway=gateway, start_scheduler=False))
    try:
        async with aiohttp.ClientSession() as http:
            async with http.get(url + "/metrics") as resp:
                exported = set(re.findall(r"^# TYPE (\w+) ", await resp.text(), re.M))
    finally:
        await runner.cleanup()
        redis.stop()
    assert set(re.findall(r"\b(care_\w+)", exprs)) - exported == set()
    statuses = {s for group in re.findall(r'status=~?"([^"]+)"', exprs) for s in group.split("|")}
    assert statuses - {s.value for s in SendStatus} - {s.value for s in ImportStatus} == set()
    assert {"NoSchedulerLeader", "CampaignJobFailing", "TwilioErrorsRising", "UnfinishedSendsPilingUp",
            "ImportFailed", "MongoDBDown", "RedisDown"} <= {rule["alert"] for rule in rules}


@pytest.mark.parametrize("path", sorted(p.name for p in (DEPLOY / "k8s").glob("*.yaml")))
def test_kubernetes_objects_say_what_they_are(path: str) -> None:
    for doc in yaml.safe_load_all((DEPLOY / "k8s" / path).read_text()):
        assert doc["apiVersion"] and doc["kind"] and doc["metadata"]["name"].startswith("keycare")
        if doc["kind"] == "Deployment":
            for container in doc["spec"]["template"]["spec"]["containers"]:
                assert container["resources"]["requests"]["cpu"] and container["resources"]["requests"]["memory"]
                assert {"readinessProbe", "livenessProbe"} <= set(container)


def test_the_care_service_learns_the_client_from_the_balancer() -> None:
    """The console counts failed logins per client: the balancer names it, the care service trusts the balancer."""
    compose_default = re.fullmatch(r"\$\{TRUSTED_PROXIES:-(.+)\}", compose()["x-keycare-env"]["TRUSTED_PROXIES"])
    config = next(d for d in k8s() if d["kind"] == "ConfigMap")["data"]
    for value in (compose_default.group(1), config["TRUSTED_PROXIES"]):
        assert Settings(trusted_proxies=json.loads(value)).trusted_proxies
    assert re.search(r"^defaults\n(    .+\n)*    option forwardfor\n", (DEPLOY / "haproxy.cfg").read_text(), re.M)
