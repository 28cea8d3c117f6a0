"""Valid documents to start from; tests override one field to make them invalid."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any, Dict

MANAGERS = [
    {"_id": "AM-G001", "name": "钱建国", "mobile": "+8613900000001", "email": "g@kam.example.cn",
     "region": {"province": "集团公司"}, "level": "group"},
    {"_id": "AM-PZJ", "name": "周敏", "mobile": "+8613910000001", "email": "pzj@kam.example.cn",
     "region": {"province": "浙江省"}, "level": "province", "supervisor_id": "AM-G001"},
    {"_id": "AM-CZJ01", "name": "林海燕", "mobile": "+8613920000001", "email": "czj1@kam.example.cn",
     "region": {"province": "浙江省", "city": "杭州"}, "level": "city", "supervisor_id": "AM-PZJ"},
]

_CUSTOMER: Dict[str, Any] = {
    "_id": "KA0000001",
    "company_name": "杭州华信物流有限公司",
    "customer_class": "important",
    "high_value": True,
    "region": {"province": "浙江省", "city": "杭州"},
    "account_manager_id": "AM-CZJ01",
    "contacts": [
        {"contact_id": "0000001-01", "name": "王伟", "role": "信息中心主任", "mobile": "138 0013 8000",
         "birthday": {"calendar": "solar", "month": 2, "day": 29, "year": 1988},
         "language": "zh", "tier": "diamond", "billing_contact": True},
        {"contact_id": "0000001-02", "name": "David Chen", "role": "CIO", "mobile": "+86 139 0013 9000",
         "birthday": {"calendar": "lunar", "month": 8, "day": 15},
         "language": "en", "tier": "gold"},
    ],
    "services": [
        {"circuit_id": "ZJ-2M-0000001-1", "type": "digital_2m", "bandwidth": "2M", "status": "active",
         "sla_class": "premium"},
    ],
    "billing": {"bill_day": 31, "delivery": "email", "email": "finance@example.cn"},
}


def customer(**overrides: Any) -> Dict[str, Any]:
    doc = copy.deepcopy(_CUSTOMER)
    doc.update(overrides)
    return doc


def customer_with_two_circuits(second_status: str = "active") -> Dict[str, Any]:
    """KA0000001 with a 100M leased line beside its 2M circuit: which one is meant must be read or asked."""
    two = customer()
    two["services"].append({"circuit_id": "ZJ-LL-0000001-2", "type": "leased_line", "bandwidth": "100M",
                            "status": second_status, "sla_class": "standard"})
    return two


def other_customer() -> Dict[str, Any]:
    """A second key account, whose data the first must never see."""
    return customer(
        _id="KA0000002",
        company_name="上海东方证券股份有限公司",
        customer_class="strategic",
        region={"province": "浙江省", "city": "杭州"},
        contacts=[
            {"contact_id": "0000002-01", "name": "赵磊", "role": "IT运维工程师", "mobile": "+8613600136000",
             "birthday": {"calendar": "solar", "month": 5, "day": 1}, "language": "zh", "tier": "gold",
             "billing_contact": True},
        ],
        services=[
            {"circuit_id": "SH-155M-0000002-1", "type": "digital_155m", "bandwidth": "155M", "status": "down",
             "sla_class": "standard"},
        ],
    )


def usage(customer_id: str = "KA0000001", month: str = "2026-10", **overrides: Any) -> Dict[str, Any]:
    doc = {"customer_id": customer_id, "month": month, "voice_minutes": 3200, "data_mb": 204800,
           "sms_count": 812, "amount_fen": 1288800}
    doc.update(overrides)
    return doc


def ticket(**overrides: Any) -> Dict[str, Any]:
    now = datetime(2026, 11, 23, 2, 0, tzinfo=timezone.utc)
    doc = {
        "_id": "FT-20261123-0001", "kind": "fault", "customer_id": "KA0000001", "contact_id": "0000001-01",
        "circuit_id": "ZJ-2M-0000001-1", "text": "专线中断", "priority": "high",
        "sla": {"response_due": now + timedelta(hours=2), "restore_due": now + timedelta(hours=4)},
        "created_at": now, "updated_at": now,
    }
    doc.update(overrides)
    return doc


def escalation(escalation_id: str, at: datetime, **overrides: Any) -> Dict[str, Any]:
    """An escalation of KA0000001's first contact to AM-CZJ01, made and due at ``at``."""
    doc = {"_id": escalation_id, "customer_id": "KA0000001", "contact_id": "0000001-01", "manager_id": "AM-CZJ01",
           "sender_id": "chat-1", "reason": "request_human", "summary": "转人工", "contact_by": at, "created_at": at,
           "updated_at": at}
    doc.update(overrides)
    return doc


def send_record(key: str, *, now: datetime, **overrides: Any) -> Dict[str, Any]:
    """A ``sends`` record as the gateway reserves it, before the provider is called."""
    doc = {"_id": key, "kind": "notice", "to": "+8613800138000", "body": "【中国电信】您的专线已恢复。",
           "encoding": "UCS-2", "segments": 1, "status": "pending", "attempts": 1,
           "lease_until": now + timedelta(seconds=60), "created_at": now, "updated_at": now,
           "history": [{"status": "pending", "at": now}]}
    doc.update(overrides)
    return doc
