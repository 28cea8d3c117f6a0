"""Who changed the key-account records and how, and the imports that load them."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Dict, List, Optional

from pydantic import Field

from carecore.model.base import ID_PATTERN, Model


class ChangeSource(str, Enum):
    """Where a change came from; the audit log is read by it."""

    console = "console"
    import_ = "import"
    api = "api"
    assistant = "assistant"
    twilio = "twilio"  # 21610: the recipient unsubscribed at the provider
    job = "job"  # the product's own scheduled jobs
    cli = "cli"
    link = "link"  # the contact's own choice through a signed link in an SMS


class AuditEntry(Model):
    """One change to a customer, contact, circuit or manager, with the fields' values before and after.

    An import writes one entry per record it changed or removed and one for the job with its counts;
    records it created are counted in the job's entry only, so a first load is one entry, not millions.
    """

    at: datetime
    source: ChangeSource
    actor: str = Field(..., min_length=1, max_length=64)
    entity: str = Field(..., regex=r"^[a-z_]{3,32}$")  # customer, contact, circuit, manager, usage, import_job …
    entity_id: str = Field(..., min_length=1, max_length=100)
    customer_id: Optional[str] = Field(None, regex=ID_PATTERN)
    action: str = Field(..., regex=r"^[a-z_]{3,32}$")  # created, updated, removed, opted_out, opted_in, erased …
    changes: Dict[str, List[Any]] = Field(default_factory=dict)  # field -> [before, after]
    note: Optional[str] = Field(None, max_length=500)
    job_id: Optional[str] = Field(None, max_length=40)
    counts: Optional[Dict[str, int]] = None


class ImportStatus(str, Enum):
    running = "running"
    done = "done"
    failed = "failed"  # the file as a whole was unusable, or the import stopped on an error
    abandoned = "abandoned"  # its process stopped answering; another import of the kind took over


IMPORT_COUNTS = ("rows", "created", "updated", "unchanged", "failed", "pruned")


class ImportJob(Model):
    """One import of one file, kept in MongoDB so any care service can report on it and only one runs per kind."""

    id: str = Field(..., alias="_id", regex=r"^IMP-[0-9]{8}-[0-9]{4,6}$")
    kind: str = Field(..., regex=r"^[a-z-]{3,20}$")
    source: ChangeSource
    actor: str = Field(..., min_length=1, max_length=64)
    file_name: str = Field(..., min_length=1, max_length=200)
    headers: List[str] = Field(default_factory=list, max_items=200)  # the file's, for its error report
    dry_run: bool = False
    strict: bool = False
    prune: bool = False
    status: ImportStatus = ImportStatus.running
    counts: Dict[str, int] = Field(default_factory=dict)
    error: Optional[str] = Field(None, max_length=2000)
    owner: str = Field(..., max_length=200)  # host:pid of the process running it
    started_at: datetime
    heartbeat_at: datetime
    finished_at: Optional[datetime] = None


class ImportRowError(Model):
    """A row an import could not take: its number, the column at fault, why, and the row as it was."""

    job_id: str = Field(..., max_length=40)
    row: int = Field(..., ge=1)
    column: str = Field(..., max_length=64)
    reason: str = Field(..., max_length=1000)
    cells: Dict[str, str] = Field(default_factory=dict)
    created_at: datetime


class AssistantSession(Model):
    """One conversation session with the assistant, as the KPIs count it: who (once known), whether it ended
    with a person (escalated), misunderstandings, and one-time-code verifications."""

    id: str = Field(..., alias="_id", max_length=300)
    sender_id: str = Field(..., max_length=200)
    channel: Optional[str] = Field(None, max_length=40)
    started_at: datetime
    customer_id: Optional[str] = Field(None, max_length=40)
    manager_id: Optional[str] = Field(None, max_length=40)  # None: an unverified chat (group figures only)
    escalated: bool = False
    fallbacks: int = Field(0, ge=0)
    verifications_started: int = Field(0, ge=0)
    verified: bool = False
