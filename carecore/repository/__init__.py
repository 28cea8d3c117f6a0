"""Every MongoDB call of the product, and the only package that imports a driver.

Motor is deprecated in favour of PyMongo's async API, which rasa 3.6's pymongo pin rules out for now;
behind this one package the swap touches nothing else. One module per aggregate; writes are checked
by the typed models and again by each collection's ``$jsonSchema`` validator made from them.
"""

from carecore.repository.customers import BirthdaySelection
from carecore.repository.database import (
    Database,
    ensure_replica_set,
    fsync_lock,
    fsync_unlock,
    inspection_handle,
    is_primary,
    server_answers,
    shutdown_server,
    wait_caught_up,
)
from carecore.repository.errors import DatabaseError, DuplicateRecordError, RecordValidationError
from carecore.repository.identity import AttemptRepository
from carecore.repository.sends import awaiting_outcome_query, statuses_below, unfinished_query
