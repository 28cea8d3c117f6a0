"""Check action-server responses against one compiled schema validator.

Rasa 3.6's ``RemoteAction._validate_action_result`` calls ``jsonschema.validate``
for every custom action it runs, and that first checks the response *schema*
against the Draft 2020-12 meta-schema, then builds a new validator. The schema
never changes, yet in ``make bench-bot`` this was about three quarters of the
Rasa server's CPU per message (py-spy), and this assistant runs a custom action
on every turn (the ``language`` slot mapping). Here the schema is checked once and
the same validator is reused: the same schema, the same error chosen
(``best_match``) and the same message as Rasa's.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Dict

from jsonschema import ValidationError
from jsonschema.exceptions import best_match
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@lru_cache(maxsize=1)
def response_validator() -> Validator:
    schema = RemoteAction.action_response_format_spec()
    cls = validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
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


def install() -> None:
    RemoteAction._validate_action_result = validate_action_result  # type: ignore[method-assign]


__all__ = ["ValidationError", "install", "response_validator", "validate_action_result"]
