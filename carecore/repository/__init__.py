"""Every MongoDB call of the product, and the only package that imports a driver.

Motor is deprecated upstream in favour of PyMongo's async API, which rasa 3.6's
pymongo pin rules out for now. Keeping the driver behind this one package means
the swap later touches it alone. (Rasa's own tracker store talks to MongoDB itself.)
One module per aggregate: customers and their selections, managers, tickets,
escalations, sends and their status callbacks, identity, billing; ``database``
holds the connection and ``schema`` the validators and indexes.

Writes are validated twice: by the typed models, with errors that name the
field, and by the collection's ``$jsonSchema`` validator (made from the same
models), which also guards writes that bypass this code.
"""

from carecore.repository.customers import BirthdaySelection
from carecore.repository.database import (
    Database,
    ensure_replica_set,
    inspection_handle,
    server_answers,
    shutdown_server,
)
from carecore.repository.errors import DatabaseError, DuplicateRecordError, RecordValidationError
from carecore.repository.identity import LoginFailureRepository
from carecore.repository.sends import statuses_below, unfinished_query
