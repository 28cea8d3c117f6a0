"""Wiring from settings to live objects: the database, the embedded mongod, the gateway.

Each process entry point (seed CLI, care scheduler, action server) opens what it
needs here, so "no MONGODB_URI means the embedded mongod" and "no Twilio
credentials means the offline outbox" are decided in one place.
"""

from __future__ import annotations

import logging
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, AsyncIterator, Optional

from carecore.config import Settings, get_settings
from carecore.repository import Database
from carecore.sms.gateway import GatewayPolicy, SmsGateway
from carecore.sms.transports import ConsoleOutbox, SmsTransport, TwilioTransport

if TYPE_CHECKING:
    from localrun.mongod import EmbeddedMongo

log = logging.getLogger(__name__)


def embedded_mongo(settings: Settings) -> EmbeddedMongo:
    """The embedded mongod of one-machine runs (``localrun``): the default when no ``MONGODB_URI`` is set."""
    from localrun.mongod import EmbeddedMongo

    return EmbeddedMongo(settings.var_dir / "mongo", settings.embedded_mongo_port, cache_size_gb=1.0)


@asynccontextmanager
async def open_database(settings: Optional[Settings] = None, *, migrate: bool = False) -> AsyncIterator[Database]:
    """The configured database (the embedded mongod when no ``MONGODB_URI``, stopped on exit if started here).

    ``migrate`` is for the entry points that own the schema: the care service's start, ``care_scheduler
    migrate`` and demo seeding; a campaign run or a report only connects.
    """
    settings = settings or get_settings()
    mongo: Optional[EmbeddedMongo] = None
    uri = settings.mongodb_uri
    if not uri:
        mongo = embedded_mongo(settings)
        uri = mongo.start()
    # Patient: a campaign or the scheduler waits out a MongoDB restart instead of failing every message
    # meanwhile (the care service's health check bounds its own ping). The bot fails fast instead.
    db = Database.connect(uri, settings.mongodb_db, server_selection_timeout_ms=30_000)
    try:
        if migrate:
            await db.ensure_schema()
        yield db
    finally:
        db.close()
        if mongo is not None:
            mongo.stop()


def build_transport(settings: Settings) -> SmsTransport:
    if settings.twilio_configured:
        return TwilioTransport(
            settings.twilio_account_sid or "",
            settings.twilio_auth_token or "",
            from_number=settings.twilio_from_number,
            messaging_service_sid=settings.twilio_messaging_service_sid,
            base_url=settings.twilio_api_base_url,
            timeout_s=settings.twilio_timeout_s,
        )
    log.warning("no Twilio credentials: SMS go to the console outbox in %s", settings.var_dir)
    return ConsoleOutbox(settings.var_dir / "outbox.jsonl")


def build_gateway(db: Database, settings: Optional[Settings] = None) -> SmsGateway:
    settings = settings or get_settings()
    return SmsGateway(
        db,
        build_transport(settings),
        status_callback_url=settings.status_callback_url if settings.twilio_configured else None,
        policy=GatewayPolicy(
            max_429_retries=settings.twilio_max_429_retries,
            # Another sender may take a message over only once its sender surely gave up waiting.
            lease_s=max(settings.sms_lease_s, settings.twilio_timeout_s * 2),
        ),
    )
