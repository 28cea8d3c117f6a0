"""Action-server responses are checked once-compiled, with Rasa's own schema, errors and message."""

from __future__ import annotations

from typing import Any, Dict

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction

import bot  # noqa: F401  (installs the validator, as the Rasa server's imports do)
from bot.action_validation import validate_action_result

VALID: list[Dict[str, Any]] = [
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "language", "value": "zh", "timestamp": None}],
     "responses": [{"text": "您好", "buttons": []}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "followup", "name": "utter_greet"}]},
    {},
]
INVALID: list[Dict[str, Any]] = [
    {"events": {"event": "slot"}},
    {"events": [{"event": "slot"}]},
    {"events": [{"event": "no_such_event"}]},
    {"events": [], "responses": ["hello"]},
    {"responses": "您好"},
]


def test_the_rasa_server_uses_the_compiled_validator() -> None:
    assert RemoteAction._validate_action_result is validate_action_result


@pytest.mark.parametrize("response", VALID)
def test_valid_responses_pass(response: Dict[str, Any]) -> None:
    assert RemoteAction("action_x", None)._validate_action_result(response) is True


@pytest.mark.parametrize("response", INVALID)
def test_invalid_responses_fail_as_rasa_would(response: Dict[str, Any]) -> None:
    with pytest.raises(jsonschema.ValidationError) as rasa_would:
        jsonschema.validate(response, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError) as ours:
        RemoteAction("action_x", None)._validate_action_result(response)
    assert ours.value.message.startswith(rasa_would.value.message)
    assert ours.value.message.endswith("/custom-actions")
    assert list(ours.value.path) == list(rasa_would.value.path)
