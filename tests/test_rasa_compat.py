"""The one place Rasa is patched: version and signature checks, and installing nothing by import."""

from __future__ import annotations

import subprocess
import sys
from typing import Iterator

import pytest
import rasa
from rasa.core.actions.action import RemoteAction

from bot import policies, rasa_compat
from tests.stack import ROOT


@pytest.fixture(autouse=True)
def restored() -> Iterator[None]:
    yield
    rasa_compat.uninstall()


def test_the_installed_rasa_is_what_every_patch_and_subclass_was_written_for() -> None:
    rasa_compat.check()
    for target in [t for p in rasa_compat.PATCHES for t in p.targets] + rasa_compat.SUBCLASSED:
        assert target.problem() is None, target


@pytest.mark.parametrize("patch", [p for p in rasa_compat.PATCHES if p.targets], ids=lambda p: p.name)
def test_a_changed_signature_stops_the_install(patch: rasa_compat.Patch, monkeypatch: pytest.MonkeyPatch) -> None:
    target = patch.targets[0]
    original = target.owner.__dict__[target.name]

    def changed(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003 - a stand-in with another signature
        return original(self, *args, **kwargs)

    monkeypatch.setattr(target.owner, target.name, changed)
    with pytest.raises(rasa_compat.IncompatibleRasa, match=target.name):
        rasa_compat.install()


def test_another_rasa_version_stops_the_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rasa, "__version__", "3.7.0")
    with pytest.raises(rasa_compat.IncompatibleRasa, match="3.6.x; Rasa 3.7.0"):
        rasa_compat.install()
    assert RemoteAction._validate_action_result is rasa_compat.action_validation.ORIGINAL


def test_speed_patches_are_chosen_by_name_and_put_back() -> None:
    assert rasa_compat.install("none") == []
    assert RemoteAction._validate_action_result is rasa_compat.action_validation.ORIGINAL
    assert rasa_compat.install("ted_skip, action_validation") == ["action_validation", "ted_skip"]
    assert RemoteAction._validate_action_result is rasa_compat.action_validation.validate_action_result
    assert policies._skipping
    rasa_compat.uninstall()
    assert RemoteAction._validate_action_result is rasa_compat.action_validation.ORIGINAL and not policies._skipping
    assert rasa_compat.install(environ={}, server=True) == [p.name for p in rasa_compat.PATCHES]  # all by default
    rasa_compat.uninstall()
    assert "action_sessions" not in rasa_compat.install(environ={})  # only a server closes what it opens
    with pytest.raises(ValueError, match="unknown patches"):
        rasa_compat.install("turbo")


def test_importing_the_bot_patches_nothing() -> None:
    code = ("import bot.rasa_compat, bot.policies, bot.tracker_store, bot.rest_channel, bot.twilio_channel, "
            "bot.socketio_channel\n"
            "from rasa.core.actions.action import RemoteAction\n"
            "assert RemoteAction._validate_action_result is bot.action_validation.ORIGINAL\n"
            "from rasa.utils.endpoints import EndpointConfig\n"
            "assert EndpointConfig.session is bot.endpoint_sessions.ORIGINAL and not bot.tracker_store._fast\n"
            "assert not bot.policies._skipping\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)


def test_the_bot_command_refuses_an_unknown_patch_before_rasa_starts() -> None:
    out = subprocess.run([sys.executable, "-m", "bot", "--version"], cwd=ROOT, capture_output=True, text=True,
                         env={**__import__("os").environ, rasa_compat.SWITCH: "turbo"})
    assert out.returncode == 1 and "unknown patches ['turbo']" in out.stderr


def test_the_heap_is_frozen_once_when_the_server_has_started() -> None:
    import gc

    assert "heap_freeze" in rasa_compat.install("heap_freeze", server=True)
    try:
        rasa_compat.server_started()
        frozen = gc.get_freeze_count()
        assert frozen > 10_000  # the imported modules, Rasa's included
        young = [[] for _ in range(1_000)]  # what a second freeze would move into the permanent generation
        rasa_compat.server_started()  # a second channel's call changes nothing
        # Frozen objects that lost their last reference leave the count (two did in one CI run); none join it.
        assert gc.get_freeze_count() <= frozen and young
    finally:
        rasa_compat.uninstall()
    assert gc.get_freeze_count() == 0
