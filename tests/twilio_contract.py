"""Twilio's published schemas (tests/contracts/twilio-oai, from twilio-oai) as JSON Schema validators.

The schemas are OpenAPI 3.0: ``nullable`` becomes JSON Schema's null type, ``$ref``s to
the Message resource and its enums are resolved, and ``date-time-rfc-2822`` gets a
format checker, or a date written ``GMT`` would pass unseen. Twilio returns every
field of a Message, so the Message schema here also requires all of them and no other.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any, Dict

from jsonschema import Draft7Validator, FormatChecker

REFERENCE = Path(__file__).resolve().parent / "contracts" / "twilio-oai"
MESSAGE_REF = "#/components/schemas/api.v2010.account.message"
RFC_2822 = re.compile(r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
                      r"\d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}")


def load(name: str) -> Dict[str, Any]:
    return json.loads((REFERENCE / name).read_text(encoding="utf-8"))


def _json_schema(node: Any, definitions: Dict[str, Any]) -> Any:
    """OpenAPI 3.0 to JSON Schema: refs inlined, ``nullable`` as a null type."""
    if isinstance(node, list):
        return [_json_schema(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _json_schema(definitions[node["$ref"].rsplit("/", 1)[-1]], definitions)
    out = {key: _json_schema(value, definitions) for key, value in node.items()
           if key not in ("nullable", "description", "x-twilio")}
    if node.get("nullable"):
        out["type"] = [node["type"], "null"] if "type" in node else None
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@cache
def _definitions() -> Dict[str, Any]:
    message = load("message_schema.json")
    definitions: Dict[str, Any] = dict(message["enums"])
    strict = dict(message["schema"])
    strict["required"] = sorted(strict["properties"])
    strict["additionalProperties"] = False
    definitions["api.v2010.account.message"] = strict
    return definitions


def _format_checker() -> FormatChecker:
    checker = FormatChecker()

    @checker.checks("date-time-rfc-2822")
    def rfc_2822(value: object) -> bool:
        return not isinstance(value, str) or RFC_2822.fullmatch(value) is not None

    return checker


def validator(schema: Dict[str, Any]) -> Draft7Validator:
    return Draft7Validator(_json_schema(schema, _definitions()), format_checker=_format_checker())


def message_validator() -> Draft7Validator:
    return validator({"$ref": MESSAGE_REF})


def list_validator() -> Draft7Validator:
    schema = dict(load("list_messages.json")["response_200_schema"])
    schema["required"] = sorted(schema["properties"])
    return validator(schema)


def error_validator() -> Draft7Validator:
    schema = dict(load("error_schema.json")["schema"])
    schema["required"] = ["code", "message", "more_info", "status"]
    return validator(schema)
