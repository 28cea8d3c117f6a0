"""Action-server responses checked against Rasa's schema, compiled once instead of on every call.

Rasa 3.6 re-checks the schema against its meta-schema for every custom action, which costs more than
the rest of a turn. Valid events take a quick path through the one ``oneOf`` branch their ``event``
name selects; anything else goes through the full validator, which reports exactly as Rasa's does.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict, Optional, Tuple

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL

QuickPath = Tuple[Validator, Validator, Dict[str, Validator]]
ORIGINAL = RemoteAction._validate_action_result


@lru_cache(maxsize=1)
def response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


@lru_cache(maxsize=1)
def quick_path() -> Optional[QuickPath]:
    """Validators for the response without its events' ``oneOf``, and one per event name.

    ``None`` when the schema is not shaped as expected (a later Rasa), and then
    every response takes the full validator.
    """
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    try:
        events = schema["properties"]["events"]
        items = events["items"]
        branches = items["oneOf"]
        by_name = {branch["properties"]["event"]["const"]: cls(branch) for branch in branches}
    except (KeyError, TypeError):
        return None
    if len(by_name) != len(branches) or "event" not in items.get("required", []):
        return None
    outer = cls({**schema, "properties": {**schema["properties"], "events": {k: v for k, v in events.items()
                                                                            if k != "items"}}})
    item = cls({k: v for k, v in items.items() if k != "oneOf"})
    return outer, item, by_name


def quickly_valid(result: Any) -> bool:
    """True only if Rasa's schema accepts ``result``; False means "ask the full validator"."""
    path = quick_path()
    if path is None:
        return False
    outer, item, by_name = path
    if not outer.is_valid(result):
        return False
    for event in result.get("events") or []:
        branch = by_name.get(event.get("event")) if isinstance(event, dict) else None
        if branch is None or not item.is_valid(event) or not branch.is_valid(event):
            return False
    return True


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    if quickly_valid(result):
        return True
    error = best_match(response_validator().iter_errors(result))
    if error is None:
        return True
    error.message += (
        ". Failed to validate Action server response from API, "
        "make sure your response from the Action endpoint is valid. "
        "For more information about the format visit "
        f"{DOCS_BASE_URL}/custom-actions"
    )
    raise error


__all__ = ["ORIGINAL", "ValidationError", "quickly_valid", "response_validator", "validate_action_result"]
