"""Planned maintenance windows (割接/维护) on circuits, announced to the affected customers' contacts."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any, Dict, List, Optional

from pydantic import Field, constr, root_validator, validator

from carecore.model.base import ID_PATTERN, Model, no_signature_marks
from carecore.model.customers import CircuitType

MAINTENANCE_ID_PATTERN = r"^MW-[0-9]{8}-[0-9]{4,6}$"
RecordId = constr(regex=ID_PATTERN)


class MaintenanceImpact(str, Enum):
    interrupted = "interrupted"  # 业务中断
    degraded = "degraded"  # 业务受影响（质量下降）


class CircuitSelection(Model):
    """The circuits a window covers: a list of ids, or every circuit of a type in a province (or city)."""

    circuit_ids: List[RecordId] = Field(default_factory=list, max_items=10000)  # type: ignore[valid-type]
    type: Optional[CircuitType] = None
    province: Optional[str] = Field(None, min_length=1, max_length=32)
    city: Optional[str] = Field(None, min_length=1, max_length=32)

    @root_validator(skip_on_failure=True)
    def _one_way(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        by_ids, by_area = bool(values["circuit_ids"]), bool(values.get("type") or values.get("province"))
        if by_ids == by_area:
            raise ValueError("name circuits either by circuit_ids or by type and province (and city)")
        if by_area and not (values.get("type") and values.get("province")):
            raise ValueError("a selection by area needs both type and province")
        return values


class MaintenanceWindow(Model):
    id: str = Field(..., alias="_id", regex=MAINTENANCE_ID_PATTERN)
    selection: CircuitSelection
    # What the selection covered when it was last saved: who is told and which circuits show `maintenance`.
    circuit_ids: List[RecordId] = Field(default_factory=list)  # type: ignore[valid-type]
    customer_ids: List[RecordId] = Field(default_factory=list)  # type: ignore[valid-type]
    start: datetime
    end: datetime
    impact: MaintenanceImpact
    description_zh: str = Field(..., min_length=1, max_length=200)
    description_en: str = Field(..., min_length=1, max_length=300)
    announced_by: str = Field(..., min_length=1, max_length=64)
    version: int = Field(1, ge=1)  # raised by every change: each change is announced once
    cancelled_at: Optional[datetime] = None
    created_at: datetime
    updated_at: datetime

    _plain_text = validator("description_zh", "description_en", allow_reuse=True)(no_signature_marks)

    @root_validator(skip_on_failure=True)
    def _ends_after_start(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        if values["end"] <= values["start"]:
            raise ValueError("a maintenance window must end after it starts")
        return values
