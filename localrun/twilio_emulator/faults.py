"""What the emulator does wrong, and how often; and what it counts."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Set


@dataclass
class FaultPlan:
    """What the emulator does wrong, and how often.

    Rates are probabilities per create request; ``script`` forces the outcome of
    the next requests in order ("429", "500", "503", "timeout", "ok"), which
    makes single-fault tests deterministic.
    """

    rate_429: float = 0.0
    rate_500: float = 0.0
    rate_503: float = 0.0
    rate_timeout: float = 0.0
    latency_ms: float = 0.0
    ack_delay_ms: float = 0.0  # after storing, before answering: a sender killed then never learns the sid
    timeout_hang_s: float = 30.0
    retry_after_s: int = 1
    store_on_500: bool = True
    invalid_numbers: Set[str] = field(default_factory=set)  # 21211
    landline_numbers: Set[str] = field(default_factory=set)  # 21614
    unsubscribed_numbers: Set[str] = field(default_factory=set)  # 21610
    undelivered_numbers: Set[str] = field(default_factory=set)  # callback: undelivered 30003
    script: List[str] = field(default_factory=list)
    seed: Optional[int] = None

    @classmethod
    def from_json(cls, raw: str | Dict[str, Any]) -> FaultPlan:
        data = json.loads(raw) if isinstance(raw, str) else dict(raw)
        for key in ("invalid_numbers", "landline_numbers", "unsubscribed_numbers", "undelivered_numbers"):
            if key in data:
                data[key] = set(data[key])
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault settings: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> Dict[str, Any]:
        out = asdict(self)
        for key, value in out.items():
            if isinstance(value, set):
                out[key] = sorted(value)
        return out


@dataclass
class EmulatorStats:
    create_requests: int = 0
    created: int = 0
    list_requests: int = 0
    callbacks_sent: int = 0
    callbacks_failed: int = 0
    faults: Dict[str, int] = field(default_factory=dict)
