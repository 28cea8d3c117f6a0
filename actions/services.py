"""What the actions talk to: MongoDB, the SMS gateway, the clock and settings.

Built lazily on the action server's event loop (motor binds to the loop that
first uses it). Tests install their own with ``use_services``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

from carecore.clock import Clock, SystemClock
from carecore.config import Settings, get_settings
from carecore.identity import OtpService
from carecore.repository import Database
from carecore.runtime import build_gateway
from carecore.sms.gateway import SmsGateway


@dataclass
class Services:
    db: Database
    gateway: SmsGateway
    clock: Clock
    settings: Settings

    @property
    def otp(self) -> OtpService:
        s = self.settings
        return OtpService(self.db, self.gateway, ttl_s=s.otp_ttl_s, max_attempts=s.otp_max_attempts,
                          max_per_hour=s.otp_max_per_hour)


_services: Optional[Services] = None


async def services() -> Services:
    global _services
    if _services is None:
        settings = get_settings()
        if not settings.mongodb_uri:
            raise RuntimeError("MONGODB_URI is not set; start the action server through `make run`")
        # Only connects: the schema is brought up to date by `make run`, the care service's start
        # and `python -m care_scheduler migrate`, never on a customer's first message.
        db = Database.connect(settings.mongodb_uri, settings.mongodb_db, server_selection_timeout_ms=1000)
        _services = Services(db, build_gateway(db, settings), SystemClock(settings.timezone), settings)
    return _services


def use_services(value: Optional[Services]) -> None:
    global _services
    _services = value
