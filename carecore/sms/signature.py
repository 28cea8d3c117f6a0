"""X-Twilio-Signature: one place that signs and checks Twilio webhooks.

Twilio signs the exact public URL it called plus every POST parameter. Behind a
proxy the URL the app sees differs from the public one, so callers pass the
configured public URL, never ``request.url``.
"""

from __future__ import annotations

from typing import Mapping

from twilio.request_validator import RequestValidator

HEADER = "X-Twilio-Signature"


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def is_valid(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> bool:
    if not signature or not auth_token:
        return False
    return bool(RequestValidator(auth_token).validate(url, dict(params), signature))
