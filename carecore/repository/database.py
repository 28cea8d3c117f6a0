"""One connection, the repositories over it, and the schema kept up to date on it."""

from __future__ import annotations

import logging
import time
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence, Tuple

import pymongo
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorClientSession, AsyncIOMotorDatabase
from pymongo.errors import CollectionInvalid, OperationFailure, PyMongoError

from carecore.repository.audit import AuditRepository
from carecore.repository.base import DURABLE
from carecore.repository.billing import BillDeliveryRepository, ClaimRepository, CreditRepository, UsageRepository
from carecore.repository.broadcasts import BroadcastRepository
from carecore.repository.compliments import ComplimentRepository
from carecore.repository.conversations import AssistantSessionRepository
from carecore.repository.customers import CustomerRepository
from carecore.repository.erasure import erase_contact
from carecore.repository.errors import write_errors
from carecore.repository.escalations import EscalationRepository
from carecore.repository.identity import AttemptRepository, OtpRepository
from carecore.repository.imports import ImportErrorRepository, ImportJobRepository
from carecore.repository.kpis import KpiRepository
from carecore.repository.leases import LeaseRepository
from carecore.repository.maintenance import MaintenanceRepository
from carecore.repository.managers import ManagerRepository
from carecore.repository.records import RecordStore
from carecore.repository.schema import (
    AUXILIARY_COLLECTIONS,
    COLLECTIONS,
    DATA_MIGRATIONS,
    RENAMED_COLLECTIONS,
    RETIRED_COLLECTIONS,
    RETIRED_INDEXES,
    json_schema_for,
)
from carecore.repository.sends import ParkedCallbackRepository, SendRepository
from carecore.repository.tickets import TicketRepository
from carecore.repository.transcripts import TranscriptRepository
from carecore.repository.visits import VisitRepository

log = logging.getLogger(__name__)


class Database:
    """One connection and the repositories over it."""

    def __init__(self, client: AsyncIOMotorClient, name: str) -> None:
        self.client = client
        self.name = name
        self._db: AsyncIOMotorDatabase = client[name]
        self.customers = CustomerRepository(self._db)
        self.managers = ManagerRepository(self._db)
        self.usage = UsageRepository(self._db)
        self.tickets = TicketRepository(self._db)
        self.sends = SendRepository(self._db)
        self.parked_callbacks = ParkedCallbackRepository(self._db)
        self.escalations = EscalationRepository(self._db)
        self.transcripts = TranscriptRepository(self._db)
        self.otp = OtpRepository(self._db)
        self.attempts = AttemptRepository(self._db)
        self.claims = ClaimRepository(self._db)
        self.bill_deliveries = BillDeliveryRepository(self._db)
        self.credits = CreditRepository(self._db)
        self.audit = AuditRepository(self._db)
        self.import_jobs = ImportJobRepository(self._db)
        self.import_errors = ImportErrorRepository(self._db)
        self.maintenance = MaintenanceRepository(self._db)
        self.visits = VisitRepository(self._db)
        self.compliments = ComplimentRepository(self._db)
        self.broadcasts = BroadcastRepository(self._db)
        self.assistant_sessions = AssistantSessionRepository(self._db)
        self.kpis = KpiRepository(self._db)
        self.leases = LeaseRepository(self._db)

    async def erase_contact(self, contact_id: str, *, at: datetime, source: str, actor: str,
                            reason: Optional[str]) -> Optional[Dict[str, int]]:
        """Erase a contact everywhere (``carecore.repository.erasure``); None when there is no such contact."""
        return await erase_contact(self._db, contact_id, at=at, source=source, actor=actor, reason=reason)

    def records(self, collection: str) -> RecordStore:
        """Whole documents of a collection, a batch at a time (import and export)."""
        return RecordStore(self._db, self.client, collection)

    @classmethod
    def connect(cls, uri: str, name: str, *, server_selection_timeout_ms: int = 5000) -> Database:
        client = AsyncIOMotorClient(
            uri,
            tz_aware=True,
            tzinfo=timezone.utc,
            serverSelectionTimeoutMS=server_selection_timeout_ms,
            retryWrites=True,
        )
        return cls(client, name)

    def close(self) -> None:
        self.client.close()

    async def ping(self) -> bool:
        try:
            await self._db.command("ping")
            return True
        except PyMongoError:
            return False

    async def ensure_schema(self) -> None:
        """Create collections with validators and indexes; safe to run on every start."""
        existing = set(await self._db.list_collection_names())
        for old, new in RENAMED_COLLECTIONS.items():
            if old in existing and new not in existing:
                log.info("renaming collection %s to %s", old, new)
                await self._db[old].rename(new)
                existing = (existing - {old}) | {new}
        for name, query, update, what in DATA_MIGRATIONS:
            if name in existing:
                # The old validator still holds until it is replaced below: the rewrite bypasses it.
                result = await self._db[name].update_many(query, update, bypass_document_validation=True)
                if result.modified_count:
                    log.info("%s: %s (%d documents)", name, what, result.modified_count)
        for name, index_names in RETIRED_INDEXES.items():
            present = await self._db[name].index_information() if name in existing else {}
            for index_name in index_names:
                if index_name in present:
                    log.info("dropping retired index %s.%s", name, index_name)
                    await self._db[name].drop_index(index_name)
        for name, (model, indexes) in COLLECTIONS.items():
            validator = {"$jsonSchema": json_schema_for(model)}
            if name in existing:
                await self._db.command("collMod", name, validator=validator, validationLevel="strict")
            else:
                try:
                    await self._db.create_collection(name, validator=validator, validationLevel="strict")
                except CollectionInvalid:  # created concurrently
                    await self._db.command("collMod", name, validator=validator)
            await _create_indexes(self._db[name], indexes)
        for name, indexes in AUXILIARY_COLLECTIONS.items():
            if name not in existing:
                try:
                    await self._db.create_collection(name)
                except CollectionInvalid:
                    pass
            await _create_indexes(self._db[name], indexes)
        for name in RETIRED_COLLECTIONS:
            if name in existing:
                log.info("dropping retired collection %s", name)
                await self._db.drop_collection(name)
        await self._db.counters.delete_many({"_id": {"$in": [f"schema:{name}" for name in RETIRED_COLLECTIONS]}})

    async def raw_insert(self, collection: str, doc: Dict[str, Any]) -> None:
        """Insert without model validation; only for proving the database validators work."""
        async with write_errors(collection):
            await self._db[collection].insert_one(doc)

    async def drop(self) -> None:
        await self.client.drop_database(self.name)

    async def collection_names(self) -> List[str]:
        return await self._db.list_collection_names()

    async def indexes(self, collection: str) -> Dict[str, Any]:
        return await self._db[collection].index_information()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncIOMotorClientSession]:
        """All-or-nothing across documents (needs the replica set the launcher sets up)."""
        async with await self.client.start_session() as session:
            async with session.start_transaction(write_concern=DURABLE):
                yield session


_INDEX_CHANGED = (85, 86)  # IndexOptionsConflict, IndexKeySpecsConflict


async def _create_indexes(col: Any, indexes: List[Tuple[List[Tuple[str, int]], Dict[str, Any]]]) -> None:
    """Create the declared indexes; one whose definition changed since it was built is rebuilt."""
    for keys, options in indexes:
        try:
            await col.create_index(keys, **options)
        except OperationFailure as exc:
            if exc.code not in _INDEX_CHANGED:
                raise
            log.warning("index %s.%s changed definition: rebuilding it", col.name, options["name"])
            await col.drop_index(options["name"])
            await col.create_index(keys, **options)


# --- Synchronous helpers for the embedded-mongod launcher (runs before any event loop) ---

def server_answers(uri: str, timeout_s: float = 1.0) -> bool:
    client: pymongo.MongoClient = pymongo.MongoClient(
        uri, directConnection=True, serverSelectionTimeoutMS=int(timeout_s * 1000)
    )
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False
    finally:
        client.close()


def ensure_replica_set(host: str, port: int, name: str, timeout_s: float = 30.0, *,
                       members: Sequence[int] = ()) -> None:
    """Initiate the replica set once (this server alone, or the ``members`` ports), then wait for a primary."""
    client: pymongo.MongoClient = pymongo.MongoClient(
        host, port, directConnection=True, serverSelectionTimeoutMS=5000
    )
    try:
        try:
            client.admin.command("replSetGetStatus")
        except OperationFailure as exc:
            if exc.code not in (94, 93):  # NotYetInitialized / InvalidReplicaSetConfig
                raise
            ports = list(members) or [port]
            client.admin.command(
                "replSetInitiate",
                {"_id": name, "members": [{"_id": i, "host": f"{host}:{p}"} for i, p in enumerate(ports)]},
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if client.admin.command("hello").get("primary"):
                return
            time.sleep(0.2)
        raise TimeoutError(f"replica set {name} on {host}:{port} has no primary after {timeout_s}s")
    finally:
        client.close()


def is_primary(host: str, port: int) -> bool:
    """Whether the mongod on this port is its replica set's primary now (False when it does not answer)."""
    client: pymongo.MongoClient = pymongo.MongoClient(host, port, directConnection=True, serverSelectionTimeoutMS=500)
    try:
        return bool(client.admin.command("hello").get("isWritablePrimary"))
    except PyMongoError:
        return False
    finally:
        client.close()


def fsync_lock(host: str, port: int) -> None:
    """Flush and block writes on this mongod, so its data files can be copied as a backup."""
    with pymongo.MongoClient(host, port, directConnection=True, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("fsync", lock=True)


def wait_caught_up(host: str, primary_port: int, secondary_port: int, timeout_s: float = 60.0) -> None:
    """Until the secondary has applied everything the primary had when this was called (a backup taken
    from a member still catching up, say one just restarted, would miss the latest writes)."""
    with pymongo.MongoClient(host, primary_port, directConnection=True, serverSelectionTimeoutMS=5000) as client:
        target = client.admin.command("replSetGetStatus")["optimes"]["appliedOpTime"]["ts"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            members = client.admin.command("replSetGetStatus")["members"]
            secondary = next(m for m in members if m["name"] == f"{host}:{secondary_port}")
            if secondary.get("stateStr") == "SECONDARY" and secondary["optime"]["ts"] >= target:
                return
            time.sleep(0.2)
    raise TimeoutError(f"the secondary on port {secondary_port} did not catch up within {timeout_s}s")


def fsync_unlock(host: str, port: int) -> None:
    with pymongo.MongoClient(host, port, directConnection=True, serverSelectionTimeoutMS=5000) as client:
        client.admin.command("fsyncUnlock")


def inspection_handle(host: str, port: int, name: str) -> Any:
    """A synchronous handle on one database, for tools that check the product from outside (drills).

    It bypasses the models and the repositories on purpose: a drill verifies what is really stored.
    """
    client: pymongo.MongoClient = pymongo.MongoClient(host, port, directConnection=True,
                                                      serverSelectionTimeoutMS=5000, tz_aware=True)
    return client[name]


def shutdown_server(host: str, port: int) -> None:
    client: pymongo.MongoClient = pymongo.MongoClient(
        host, port, directConnection=True, serverSelectionTimeoutMS=2000
    )
    try:
        client.admin.command("shutdown", force=True)
    except PyMongoError:
        pass  # the connection drops as the server goes down
    finally:
        client.close()
