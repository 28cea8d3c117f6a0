"""Action-server responses are checked once-compiled, with Rasa's own schema, errors and message."""

from __future__ import annotations

from typing import Any, Dict, Iterator

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.core.actions.action import RemoteAction

from bot import rasa_compat
from bot.action_validation import quick_path, quickly_valid, response_validator, validate_action_result

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


@pytest.fixture(autouse=True)
def patched() -> Iterator[None]:
    """The Rasa server's patches, as ``python -m bot`` installs them; Rasa's own code again afterwards."""
    rasa_compat.install("action_validation")
    yield
    rasa_compat.uninstall()


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


def test_the_quick_path_is_built_for_rasa_3_6s_schema() -> None:
    path = quick_path()
    assert path is not None and len(path[2]) == 23 and "slot" in path[2]
    assert all(quickly_valid(response) for response in VALID)
    assert not any(quickly_valid(response) for response in INVALID)


EVENT_NAMES = sorted(quick_path()[2]) + ["no_such_event"]  # type: ignore[index]
FIELDS = ["name", "value", "timestamp", "text", "intent", "entities", "policy", "confidence", "parse_data",
          "metadata", "action_text", "hide_rule_turn", "date_time", "kill_on_user_msg", "data", "input_channel"]
VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(FIELDS + ["start", "end"]), inner,
                                                                max_size=3),
    max_leaves=6,
)
PLAUSIBLE = {"name": st.text(max_size=8), "value": VALUES, "timestamp": st.none() | st.floats(0, 2e9),
             "text": st.none() | st.text(max_size=8), "policy": st.none() | st.text(max_size=5),
             "confidence": st.none() | st.floats(0, 1), "metadata": st.dictionaries(st.text(max_size=3), VALUES,
                                                                                       max_size=2)}
EVENTS = st.one_of(
    st.fixed_dictionaries({"event": st.sampled_from(EVENT_NAMES)}, optional=PLAUSIBLE),  # mostly valid
    st.fixed_dictionaries({"event": st.sampled_from(EVENT_NAMES)},
                          optional={field: VALUES for field in FIELDS}),
    st.dictionaries(st.sampled_from(FIELDS), VALUES, max_size=3),  # no "event" at all
    VALUES,  # not even an object
)
RESPONSES = st.fixed_dictionaries({}, optional={"events": st.lists(EVENTS, max_size=4) | VALUES,
                                                "responses": st.lists(st.dictionaries(st.sampled_from(["text", "response"]),
                                                                                      VALUES, max_size=2), max_size=2) | VALUES})


@settings(max_examples=400, deadline=None)
@given(RESPONSES)
def test_the_quick_path_accepts_exactly_what_rasas_schema_accepts(response: Dict[str, Any]) -> None:
    assert quickly_valid(response) == response_validator().is_valid(response)
