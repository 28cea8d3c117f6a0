"""One SMS as every sender hands it to the gateway: normalised once, its record built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Dict, Optional

from carecore.model import Language, SendStatus
from carecore.phones import to_e164
from carecore.sms.segments import segment_info


@dataclass(frozen=True)
class Sms:
    """What the gateway sends (or records as kept back, with ``suppressed_reason``) under ``key``."""

    key: str
    kind: str
    to: str  # E.164
    body: str
    customer_id: Optional[str] = None
    contact_id: Optional[str] = None
    language: Optional[str] = None
    meta: Dict[str, Any] = field(default_factory=dict)
    suppressed_reason: Optional[str] = None

    @classmethod
    def of(cls, *, key: str, kind: str, to: str, body: str, customer_id: Optional[str] = None,
           contact_id: Optional[str] = None, language: Optional[Language | str] = None,
           meta: Optional[Dict[str, Any]] = None, suppressed_reason: Optional[str] = None) -> Sms:
        """The message with its recipient in E.164; raises ``InvalidPhoneNumber`` before anything is written."""
        lang = language.value if isinstance(language, Language) else language
        return cls(key, kind, to_e164(to, mobile_only=False), body, customer_id, contact_id, lang, dict(meta or {}),
                   suppressed_reason)

    def record(self, *, now: datetime, lease_until: datetime) -> Dict[str, Any]:
        """Its ``sends`` document: pending under the sender's lease (its first attempt counted, as it
        follows at once), or suppressed with its reason."""
        info = segment_info(self.body)
        doc: Dict[str, Any] = {
            "_id": self.key, "kind": self.kind, "to": self.to, "body": self.body, "customer_id": self.customer_id,
            "contact_id": self.contact_id, "language": self.language, "encoding": info.encoding,
            "segments": info.segments, "created_at": now, "updated_at": now, "meta": self.meta,
        }
        if self.suppressed_reason is not None:
            status = SendStatus.suppressed
            doc["suppressed_reason"] = self.suppressed_reason
        else:
            status = SendStatus.pending
            doc["attempts"] = 1
            doc["lease_until"] = lease_until
        doc["status"] = status.value
        doc["history"] = [{"status": status.value, "at": now}]
        return {k: v for k, v in doc.items() if v is not None}
