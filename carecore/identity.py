"""Who is talking: conversation ids bound to a phone, and one-time codes for chat.

An SMS sender id is ``sms:<E.164>:<hmac>``; only the Twilio channel, after checking the signature,
holds the secret to mint one. A chat opened with the enterprise portal's sign-in gets
``portal:<E.164>.<nonce>:<hmac>``, a new one per chat, minted by the session endpoint once it has
checked the portal's token. Either id vouches for its phone; every other chat starts unverified.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Iterable, Iterator, Optional

from carecore.model import Contact, Customer
from carecore.phones import InvalidPhoneNumber, to_e164
from carecore.sms.message import Sms

SMS_PREFIX = "sms:"
PORTAL_PREFIX = "portal:"
CODE_FORMAT = re.compile(r"[0-9]{6}")  # what a one-time code looks like
_CODE_IN_TEXT = re.compile(rf"(?<![0-9\-]){CODE_FORMAT.pattern}(?![0-9\-])")


def hide_codes(text: str) -> str:
    """The text with any one-time code in it masked: a code is never shown, not even to an account manager."""
    return _CODE_IN_TEXT.sub("******", text)


def codes_hidden(events: Iterable[Any]) -> Iterator[Any]:
    """A conversation's events with the code the customer typed when asked for one masked, for any reader
    but the assistant: transcripts, escalation summaries."""
    asked = False
    for e in events:
        if isinstance(e, dict) and e.get("event") == "slot" and e.get("name") == "requested_slot":
            asked = e.get("value") == "otp_code"
        elif asked and isinstance(e, dict) and e.get("event") == "user" and isinstance(e.get("text"), str):
            e = {**e, "text": hide_codes(e["text"])}
        yield e


def _mac(secret: str, phone: str) -> str:
    return hmac.new(secret.encode(), phone.encode(), hashlib.sha256).hexdigest()[:24]


def sms_sender_id(phone_e164: str, secret: str) -> str:
    return f"{SMS_PREFIX}{phone_e164}:{_mac(secret, phone_e164)}"


def portal_sender_id(phone_e164: str, secret: str) -> str:
    body = f"{phone_e164}.{secrets.token_hex(8)}"
    return f"{PORTAL_PREFIX}{body}:{_mac(secret, PORTAL_PREFIX + body)}"


def phone_from_sender_id(sender_id: str, secret: Optional[str]) -> Optional[str]:
    """The phone an SMS or portal-chat sender id vouches for, or None if it is not a genuine one."""
    if not secret:
        return None
    for prefix, signed in ((SMS_PREFIX, ""), (PORTAL_PREFIX, PORTAL_PREFIX)):
        if sender_id.startswith(prefix):
            body, _, mac = sender_id[len(prefix):].rpartition(":")
            if body and hmac.compare_digest(mac, _mac(secret, signed + body)):
                return body.partition(".")[0]
    return None


def challenge_id(sender_id: str) -> str:
    return hashlib.sha256(sender_id.encode()).hexdigest()


def _code_hash(salt: str, code: str) -> str:
    return hmac.new(salt.encode(), code.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class Issued:
    status: str  # "sent" | "unregistered" | "rate_limited" | "invalid"
    mobile: Optional[str] = None


@dataclass(frozen=True)
class Checked:
    status: str  # "ok" | "wrong" | "expired" | "locked" | "none"
    attempts_left: int = 0
    customer: Optional[Customer] = None
    contact: Optional[Contact] = None


class OtpService:
    """6-digit codes, valid for a few minutes, a few attempts, stored only as salted hashes."""

    def __init__(self, db, gateway, *, ttl_s: int = 300, max_attempts: int = 3, max_per_hour: int = 5) -> None:
        self.db = db
        self.gateway = gateway
        self.ttl_s = ttl_s
        self.max_attempts = max_attempts
        self.max_per_hour = max_per_hour

    @property
    def valid_minutes(self) -> int:
        """The validity the SMS and the chat state, in whole minutes."""
        return max(1, self.ttl_s // 60)

    async def issue(self, sender_id: str, mobile_raw: str, now: datetime, *, language: str = "zh",
                    signature: str = "") -> Issued:
        """Send a code if the number is registered; the answer never says whether it is."""
        try:
            mobile = to_e164(mobile_raw)
        except InvalidPhoneNumber:
            return Issued("invalid")
        if await self.db.otp.issued_since(mobile, now - timedelta(hours=1)) >= self.max_per_hour:
            return Issued("rate_limited", mobile)
        found = await self.db.customers.find_by_mobile(mobile)
        code = f"{secrets.randbelow(10**6):06d}"  # CODE_FORMAT
        salt = secrets.token_hex(16)
        cid = challenge_id(sender_id)
        await self.db.otp.replace({
            "_id": cid, "contact_id": found[1].contact_id if found else None, "mobile": mobile,
            "code_hash": _code_hash(salt, code), "salt": salt, "attempts": 0,
            "expires_at": now + timedelta(seconds=self.ttl_s), "created_at": now,
        })
        if not found:
            return Issued("unregistered", mobile)
        minutes = self.valid_minutes
        body = (f"{signature}您的验证码为{code}，{minutes}分钟内有效。请勿告知他人。" if language == "zh"
                else f"Your verification code is {code}, valid for {minutes} minutes. Do not share it.")
        await self.gateway.send(Sms.of(key=f"otp:{cid[:16]}:{int(now.timestamp() * 1000)}", kind="otp", to=mobile,
                                       body=body, customer_id=found[0].id, contact_id=found[1].contact_id,
                                       language=language))
        return Issued("sent", mobile)

    async def check(self, sender_id: str, code: str, now: datetime) -> Checked:
        cid = challenge_id(sender_id)
        challenge = await self.db.otp.get(cid)
        if challenge is None:
            return Checked("none")
        if challenge.expires_at <= now:
            await self.db.otp.delete(cid)
            return Checked("expired")
        attempts = await self.db.otp.count_attempt(cid)
        good = challenge.contact_id is not None and hmac.compare_digest(
            _code_hash(challenge.salt, (code or "").strip()), challenge.code_hash)
        if good and attempts <= self.max_attempts:
            await self.db.otp.delete(cid)
            found = await self.db.customers.find_by_contact(challenge.contact_id)
            if found is None or not found[1].reachable:  # the contact was removed, or the number disowned, meanwhile
                return Checked("none")
            return Checked("ok", customer=found[0], contact=found[1])
        left = self.max_attempts - attempts
        if left <= 0:
            await self.db.otp.delete(cid)
            return Checked("locked")
        return Checked("wrong", attempts_left=left)
