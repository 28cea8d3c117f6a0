"""Signed links in SMS: the satisfaction survey of a ticket and one-click opt-out of a contact.

A +86 contact cannot reply to a Twilio sender, so a link is the answer channel that always works.
The token carries what it is for, its subject (a ticket or contact id) and its expiry, under an
HMAC of ``LINK_SECRET``: nothing is stored per link, and a token for one purpose opens nothing else.
Tokens stay short (about 40 characters) because every character costs SMS space.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Literal

from carecore.config import Settings

log = logging.getLogger(__name__)

Purpose = Literal["survey", "opt_out"]
SURVEY_LINK_DAYS = 7
# A greeting or usage SMS is read weeks later; the opt-out link must still work then.
OPT_OUT_LINK_DAYS = 60
PATHS = {"survey": "s", "opt_out": "u"}
MAC_BYTES = 12
# Without LINK_SECRET, links made by this process open only in this process (and until it restarts).
_PROCESS_SECRET = secrets.token_bytes(32)
_warned = False
_TOKEN = re.compile(r"^([A-Za-z0-9_-]{1,40})\.([0-9a-z]{1,10})\.([A-Za-z0-9_-]{16})$")


class LinkRefused(Exception):
    """The token is malformed, forged, for another purpose, or expired (``expired`` says which)."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


@dataclass(frozen=True)
class LinkSigner:
    secret: bytes
    base_url: str

    def token(self, purpose: Purpose, subject: str, expires: datetime) -> str:
        stamp = _base36(int(expires.timestamp()))
        return f"{subject}.{stamp}.{self._mac(purpose, subject, stamp)}"

    def url(self, purpose: Purpose, subject: str, now: datetime) -> str:
        days = SURVEY_LINK_DAYS if purpose == "survey" else OPT_OUT_LINK_DAYS
        token = self.token(purpose, subject, now + timedelta(days=days))
        return f"{self.base_url.rstrip('/')}/{PATHS[purpose]}/{token}"

    def subject(self, purpose: Purpose, token: str, now: datetime) -> str:
        """The ticket or contact id the token was made for; raises ``LinkRefused``."""
        match = _TOKEN.match(token)
        if match is None:
            raise LinkRefused("malformed link")
        subject, stamp, mac = match.groups()
        if not hmac.compare_digest(mac, self._mac(purpose, subject, stamp)):
            raise LinkRefused("link signature does not match")
        if datetime.fromtimestamp(int(stamp, 36), timezone.utc) <= now:
            raise LinkRefused("link expired", expired=True)
        return subject

    def _mac(self, purpose: str, subject: str, stamp: str) -> str:
        digest = hmac.new(self.secret, f"{purpose}:{subject}:{stamp}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest[:MAC_BYTES]).decode()


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if number == 0:
            return out


def signer_for(settings: Settings) -> LinkSigner:
    """The signer of the care service's links (``PUBLIC_BASE_URL``)."""
    global _warned
    if settings.link_secret:
        secret = settings.link_secret.encode()
    else:
        if not _warned:
            log.warning("LINK_SECRET is not set: survey and opt-out links stop working when this process restarts")
            _warned = True
        secret = _PROCESS_SECRET
    return LinkSigner(secret, settings.public_base_url)
