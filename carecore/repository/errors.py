"""What a refused write raises, and the driver's errors under one name.

A record the product refuses, by its model, the collection's validator or a unique
index, raises ``RecordValidationError`` naming the fields; a taken unique value is
its subclass ``DuplicateRecordError``, for the callers that treat it apart.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, List, Sequence, Tuple, Type, TypeVar

from pydantic import BaseModel, ValidationError
from pymongo.errors import DuplicateKeyError, PyMongoError, WriteError

# The driver's errors, for callers that must tell "MongoDB is away" from other failures without importing it.
DatabaseError = PyMongoError


class RecordValidationError(ValueError):
    """A write was refused because of its content; ``errors`` names each bad field."""

    def __init__(self, collection: str, errors: Sequence[Tuple[str, str]]) -> None:
        self.collection = collection
        self.errors = list(errors)
        detail = "; ".join(f"{field}: {message}" for field, message in self.errors)
        super().__init__(f"invalid {collection} record: {detail}")

    @property
    def fields(self) -> List[str]:
        return [field for field, _ in self.errors]


class DuplicateRecordError(RecordValidationError):
    """A unique field (a mobile, a contact id, a customer id) is already taken."""

    def __init__(self, collection: str, field: str) -> None:
        self.field = field
        super().__init__(collection, [(field, "already exists")])


def validated(model: Type[M], collection: str, data: Any) -> M:
    if isinstance(data, model):
        data = data.dict(by_alias=True)
    try:
        return model.parse_obj(data)
    except ValidationError as exc:
        errors = [
            (".".join(str(part) for part in err["loc"] if part != "__root__") or "record", err["msg"])
            for err in exc.errors()
        ]
        raise RecordValidationError(collection, errors) from None


def _duplicate_field(exc: Exception) -> str:
    details = getattr(exc, "details", None) or {}
    key_pattern = details.get("keyPattern") or {}
    return ",".join(key_pattern) or "_id"


def _schema_failure(collection: str, exc: WriteError) -> RecordValidationError:
    details = (exc.details or {}).get("errInfo", {}).get("details", {})
    errors: List[Tuple[str, str]] = []
    for rule in details.get("schemaRulesNotSatisfied", []):
        for prop in rule.get("propertiesNotSatisfied", []):
            errors.append((prop.get("propertyName", "?"), str(prop.get("details", "invalid"))[:200]))
        for missing in rule.get("missingProperties", []):
            errors.append((missing, "field required"))
    return RecordValidationError(collection, errors or [("record", "document failed validation")])


@asynccontextmanager
async def write_errors(collection: str) -> AsyncIterator[None]:
    try:
        yield
    except DuplicateKeyError as exc:
        raise DuplicateRecordError(collection, _duplicate_field(exc)) from None
    except WriteError as exc:
        if exc.code == 121:
            raise _schema_failure(collection, exc) from None
        raise


T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
