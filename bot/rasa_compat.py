"""Every change this product makes to Rasa's own code, installed by one call when a Rasa process starts.

``install()`` stops start-up unless Rasa is 3.6.x and each replaced attribute still has the signature
its patch was written for; importing changes nothing (``python -m bot`` calls it). All are speed
patches, chosen by ``KEYCARE_RASA_SPEED_PATCHES``. Each one's worth, ``make bench-bot`` p95 ratio
ours/baseline with it off against 1.22 and 1.39 with all on (goal 1.3; runs spread ±0.15; all off 6.6):

* ``action_validation`` (responses checked against Rasa's schema compiled once): 3.08 without it.
* ``ted_skip`` (TED not run when a rule or memorised story has decided the turn): 1.62 without it.
* ``tracker_saves`` (store calls off the event loop, saves appended by stored length): 1.48 without it.
* ``action_sessions`` (kept-alive connections to the action server; ``run`` only): 1.47 without it.
* ``heap_freeze`` (start-up heap frozen once the model is loaded; ``run`` only): 1.51 and 1.36 without it, 1.00 and 1.24 with it.

Measured and not kept: the reply-language slot mapping answered in process (1.12 without it).
Private-API subclasses named in the configuration are checked the same way (``SUBCLASSED``).
"""

from __future__ import annotations

import gc
import inspect
import logging
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import rasa
from rasa.core.actions.action import RemoteAction
from rasa.core.lock_store import LockStore, RedisLockStore
from rasa.core.policies.memoization import MemoizationPolicy
from rasa.core.policies.rule_policy import RulePolicy
from rasa.core.policies.ted_policy import TEDPolicy
from rasa.core.tracker_store import MongoTrackerStore
from rasa.utils.endpoints import EndpointConfig

from bot import action_validation, endpoint_sessions, policies, tracker_store
from carecore.logging_setup import install_product_logging

log = logging.getLogger(__name__)

SUPPORTED = (3, 6)
SWITCH = "KEYCARE_RASA_SPEED_PATCHES"


class IncompatibleRasa(RuntimeError):
    """The installed Rasa is not the one these patches were written for."""


@dataclass(frozen=True)
class Target:
    """An attribute of Rasa's code this product relies on, with the parameters it was written against."""

    owner: type
    name: str
    parameters: Tuple[str, ...]

    def problem(self) -> Optional[str]:
        try:
            found = inspect.getattr_static(self.owner, self.name)
        except AttributeError:
            return f"{self.owner.__qualname__}.{self.name} is gone"
        actual = tuple(inspect.signature(found).parameters)
        if actual != self.parameters:
            return f"{self.owner.__qualname__}.{self.name} takes {actual}, not {self.parameters}"
        return None


@dataclass(frozen=True)
class Patch:
    name: str
    targets: Tuple[Target, ...]
    install: Callable[[], None]
    uninstall: Callable[[], None]
    server_only: bool = False  # only for ``run``: what it opens is closed when the server stops


def _replace(owner: type, name: str, value: Any) -> Callable[[], None]:
    return lambda: setattr(owner, name, value)


_freezing = False


def _freeze_when_started() -> None:
    global _freezing
    _freezing = True


def server_started() -> None:
    """Called by the channels once the Rasa server has loaded its model and started.

    With ``heap_freeze``, start-up's millions of lifelong objects leave the collector's reach, so a
    full collection stops walking them; cycles made later are still collected.
    """
    global _freezing
    if _freezing:
        _freezing = False  # once: every channel calls this
        gc.collect()
        gc.freeze()


PATCHES: List[Patch] = [
    Patch("action_validation",
          (Target(RemoteAction, "_validate_action_result", ("self", "result")),),
          _replace(RemoteAction, "_validate_action_result", action_validation.validate_action_result),
          _replace(RemoteAction, "_validate_action_result", action_validation.ORIGINAL)),
    Patch("ted_skip",
          (Target(TEDPolicy, "predict_action_probabilities",
                  ("self", "tracker", "domain", "rule_only_data", "precomputations", "kwargs")),),
          lambda: policies.skipping(True), lambda: policies.skipping(False)),
    Patch("tracker_saves",
          (Target(MongoTrackerStore, "_retrieve", ("self", "sender_id", "fetch_events_from_all_sessions")),
           Target(MongoTrackerStore, "_events_from_serialized_tracker", ("serialised",)),
           Target(MongoTrackerStore, "_events_since_last_session_start", ("events",)),
           Target(MongoTrackerStore, "stream_events", ("self", "tracker"))),
          lambda: tracker_store.fast_saves(True), lambda: tracker_store.fast_saves(False)),
    Patch("heap_freeze", (), _freeze_when_started, gc.unfreeze, server_only=True),
    Patch("action_sessions",
          (Target(EndpointConfig, "session", ("self",)),),
          _replace(EndpointConfig, "session", endpoint_sessions.shared_session),
          _replace(EndpointConfig, "session", endpoint_sessions.ORIGINAL), server_only=True),
]

# Rasa methods overridden by the product's own subclasses, which the configuration names.
SUBCLASSED: List[Target] = [
    Target(MemoizationPolicy, "predict_action_probabilities", ("self", "tracker", "domain", "rule_only_data", "kwargs")),
    Target(RulePolicy, "predict_action_probabilities", ("self", "tracker", "domain", "rule_only_data", "kwargs")),
    Target(MongoTrackerStore, "save", ("self", "tracker")),
    # bot.lock_store.AtomicRedisLockStore: the lock's read-modify-writes as Redis transactions
    Target(RedisLockStore, "__init__", ("self", "host", "port", "db", "username", "password", "use_ssl", "ssl_certfile",
                                        "ssl_keyfile", "ssl_ca_certs", "key_prefix", "socket_timeout")),
    Target(LockStore, "issue_ticket", ("self", "conversation_id", "lock_lifetime")),
    Target(LockStore, "update_lock", ("self", "conversation_id")),
    Target(LockStore, "finish_serving", ("self", "conversation_id", "ticket_number")),
    Target(LockStore, "cleanup", ("self", "conversation_id", "ticket_number")),
]


def rasa_version() -> Tuple[int, ...]:
    return tuple(int(part) for part in rasa.__version__.split(".")[:2] if part.isdigit())


def check() -> None:
    """Raise ``IncompatibleRasa`` unless Rasa is 3.6.x and every patched or subclassed attribute is as expected."""
    if rasa_version() != SUPPORTED:
        raise IncompatibleRasa(f"this assistant's Rasa patches are written for Rasa 3.6.x; Rasa {rasa.__version__} "
                               "is installed (requirements.txt pins rasa==3.6.21)")
    problems = [problem for target in [t for p in PATCHES for t in p.targets] + SUBCLASSED
                if (problem := target.problem()) is not None]
    if problems:
        raise IncompatibleRasa("Rasa's code is not what the patches expect: " + "; ".join(problems))


def chosen(setting: Optional[str]) -> List[Patch]:
    """The speed patches a ``KEYCARE_RASA_SPEED_PATCHES`` value keeps: all (unset, ``all``), none, or those named."""
    value = (setting or "all").strip()
    if value == "all":
        return list(PATCHES)
    if value == "none":
        return []
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = set(names) - {p.name for p in PATCHES}
    if unknown:
        raise ValueError(f"{SWITCH}: unknown patches {sorted(unknown)}; known: {[p.name for p in PATCHES]}")
    return [p for p in PATCHES if p.name in names]


_installed: Dict[str, Patch] = {}


def install(setting: Optional[str] = None, environ: Optional[Dict[str, str]] = None, *,
            server: bool = False) -> Sequence[str]:
    """Check Rasa, then install the product's logging and the chosen speed patches; returns their names.

    ``server``: the process is ``rasa run``, whose channels close what server-only patches open.
    """
    check()
    install_product_logging()
    wanted = [p for p in chosen(setting if setting is not None else (environ or os.environ).get(SWITCH))
              if server or not p.server_only]
    for patch in wanted:
        patch.install()
        _installed[patch.name] = patch
    log.info("Rasa %s: speed patches %s", rasa.__version__, [p.name for p in wanted] or "none")
    return [p.name for p in wanted]


def uninstall() -> None:
    """Put Rasa's own code back (tests)."""
    for name in list(_installed):
        _installed.pop(name).uninstall()
