"""MongoDB ``$jsonSchema`` validators and indexes, derived from the typed models.

Deriving them keeps one definition of each collection: a field added to a model is validated by the
database too. The conversion covers what MongoDB's draft-4 dialect lacks and maps JSON to BSON types.
"""

from __future__ import annotations

from typing import Any, Dict, List, Tuple, Type

from pydantic import BaseModel

from carecore.model import (
    AWAITING_OUTCOME_VALUES,
    UNFINISHED_VALUES,
    AccountManager,
    AssistantSession,
    Attempt,
    AuditEntry,
    BillDeliveryRecord,
    Broadcast,
    CompensationClaim,
    Compliment,
    Credit,
    Customer,
    Escalation,
    ImportJob,
    ImportRowError,
    MaintenanceWindow,
    OtpChallenge,
    ParkedCallback,
    SendRecord,
    Ticket,
    UsageMonth,
    Visit,
)
from carecore.repository.transcripts import ARCHIVE, CONVERSATIONS
from carecore.texts import LABELS

_BSON_TYPES: Dict[str, Any] = {
    "string": "string",
    "integer": ["int", "long"],
    "number": ["double", "int", "long", "decimal"],
    "boolean": "bool",
    "array": "array",
    "object": "object",
}
_DROPPED = {"title", "default", "format", "examples", "description"}


def _as_list(bson_type: Any) -> List[str]:
    return list(bson_type) if isinstance(bson_type, list) else [bson_type]


def _convert(node: Dict[str, Any], definitions: Dict[str, Any], nullable: bool) -> Dict[str, Any]:
    if "$ref" in node:
        name = node["$ref"].rsplit("/", 1)[-1]
        return _convert(definitions[name], definitions, nullable)
    if "allOf" in node and len(node["allOf"]) == 1:
        merged = {**{k: v for k, v in node.items() if k != "allOf"}, **node["allOf"][0]}
        return _convert(merged, definitions, nullable)
    out: Dict[str, Any] = {}
    for key, value in node.items():
        if key in _DROPPED or key == "type":
            continue
        if key == "properties":
            required = set(node.get("required", []))
            out["properties"] = {
                name: _convert(sub, definitions, nullable=name not in required)
                for name, sub in value.items()
            }
        elif key == "items":
            out["items"] = _convert(value, definitions, nullable=False)
        elif key == "additionalProperties" and isinstance(value, dict):
            out[key] = _convert(value, definitions, nullable=False) if value else True
        elif key == "exclusiveMinimum":
            out["minimum"], out["exclusiveMinimum"] = value, True
        elif key == "exclusiveMaximum":
            out["maximum"], out["exclusiveMaximum"] = value, True
        elif key == "anyOf":
            out["anyOf"] = [_convert(sub, definitions, nullable=False) for sub in value]
        else:
            out[key] = value
    json_type = node.get("type")
    if json_type is not None:
        bson = (
            "date"
            if json_type == "string" and node.get("format") == "date-time"
            else _BSON_TYPES[json_type]
        )
        if nullable:
            bson = _as_list(bson) + ["null"]
        out["bsonType"] = bson
    if "enum" in out and nullable:
        out["enum"] = list(out["enum"]) + [None]
    return out


def json_schema_for(model: Type[BaseModel]) -> Dict[str, Any]:
    schema = model.schema(by_alias=True)
    converted = _convert(schema, schema.get("definitions", {}), nullable=False)
    converted.pop("definitions", None)
    return converted


IndexSpec = Tuple[List[Tuple[str, int]], Dict[str, Any]]

# name -> (model, indexes). Each index serves a query named beside it.
COLLECTIONS: Dict[str, Tuple[Type[BaseModel], List[IndexSpec]]] = {
    "customers": (
        Customer,
        [
            # identify an SMS sender / a chat user by registered mobile. Sparse, since a customer may
            # have no contacts yet, and two customers without would otherwise share the key null.
            ([("contacts.mobile", 1)], {"unique": True, "sparse": True, "name": "contact_mobile"}),
            ([("contacts.contact_id", 1)], {"unique": True, "sparse": True, "name": "contact_id"}),
            # an account manager's book of customers
            ([("account_manager_id", 1)], {"name": "by_manager"}),
            ([("services.circuit_id", 1)], {"unique": True, "sparse": True, "name": "circuit"}),
            ([("region.province", 1), ("region.city", 1)], {"name": "region"}),
            # whose birthday is today (solar or lunar): one $elemMatch per calendar
            ([("contacts.birthday.calendar", 1), ("contacts.birthday.month", 1), ("contacts.birthday.day", 1)],
             {"name": "birthday"}),
            # whose bill day is today: the ids come from the index alone
            ([("billing.bill_day", 1), ("_id", 1)], {"name": "bill_day"}),
        ],
    ),
    "account_managers": (
        AccountManager,
        [
            ([("supervisor_id", 1)], {"name": "by_supervisor"}),
            ([("level", 1), ("region.province", 1)], {"name": "by_level_region"}),
            ([("mobile", 1)], {"unique": True, "name": "mobile"}),
        ],
    ),
    "usage_monthly": (
        UsageMonth,
        [
            ([("customer_id", 1), ("month", -1)], {"unique": True, "name": "customer_month"}),
            # months billing says are not fully paid: the arrears watch reads only these
            ([("owed_fen", 1), ("month", 1)], {"name": "owed", "partialFilterExpression": {"owed_fen": {"$gt": 0}}}),
        ],
    ),
    "tickets": (
        Ticket,
        [
            ([("customer_id", 1), ("created_at", -1)], {"name": "by_customer"}),
            ([("created_at", 1)], {"name": "by_created"}),  # a month's register, at group level
            ([("status", 1), ("sla.restore_due", 1)], {"name": "open_by_deadline"}),
            ([("kind", 1), ("status", 1)], {"name": "by_kind_status"}),
            # resolved faults whose SLA compensation is not settled yet
            ([("kind", 1), ("compensation.notified_at", 1), ("status", 1)], {"name": "compensation"}),
            # resolved tickets whose customer is not told yet
            ([("status", 1), ("customer_notified_at", 1)], {"name": "resolution_notice"}),
            # resolved tickets waiting for their survey; surveys a contact may answer; open follow-ups
            ([("resolved_at", 1)], {"sparse": True, "name": "survey_due"}),
            ([("survey.contact_id", 1), ("survey.sent_at", -1)], {"sparse": True, "name": "survey_by_contact"}),
            ([("followup.done_at", 1), ("followup.due", 1)], {"sparse": True, "name": "followups"}),
        ],
    ),
    "sends": (
        SendRecord,
        [
            # One index per query the product asks of it, since every message writes to each:
            # status callbacks by sid, a campaign's unfinished messages, a customer's messages
            # (newest first), and the reports (since a date). The unfinished ones are the only
            # records that query looks for, so its index holds nothing else: a message enters it
            # at its reservation and leaves it when finished, one index write fewer than moving
            # it from key to key, and the index stays small.
            ([("sid", 1)], {"unique": True, "sparse": True, "name": "sid"}),
            ([("meta.campaign", 1), ("status", 1)],
             {"name": "unfinished", "partialFilterExpression": {"status": {"$in": UNFINISHED_VALUES}}}),
            ([("customer_id", 1), ("created_at", -1)], {"name": "by_customer"}),
            ([("created_at", 1)], {"name": "by_created"}),
            # taken by the provider, the final status not come: the status lookup's (a message leaves it at delivery)
            ([("status_checks", 1), ("updated_at", 1)],
             {"name": "awaiting_outcome", "partialFilterExpression": {"status": {"$in": AWAITING_OUTCOME_VALUES}}}),
        ],
    ),
    "parked_callbacks": (
        ParkedCallback,
        [([("expires_at", 1)], {"expireAfterSeconds": 0, "name": "ttl"})],
    ),
    "escalations": (
        Escalation,
        [
            ([("manager_id", 1), ("status", 1), ("created_at", -1)], {"name": "manager_inbox"}),
            ([("sender_id", 1), ("status", 1)], {"name": "by_sender"}),
            ([("reason", 1), ("created_at", -1)], {"name": "by_reason"}),  # who said they will leave
        ],
    ),
    "otp_challenges": (
        OtpChallenge,
        # expired challenges disappear by themselves
        [([("expires_at", 1)], {"expireAfterSeconds": 0, "name": "ttl"}),
         ([("mobile", 1), ("created_at", -1)], {"name": "by_mobile"})],
    ),
    "attempts": (
        Attempt,
        # a key's attempts in the window (the limiter's question); gone by themselves after it
        [([("key", 1), ("at", 1)], {"name": "by_key"}),
         ([("expires_at", 1)], {"expireAfterSeconds": 0, "name": "ttl"})],
    ),
    "compensation_claims": (
        CompensationClaim,
        [
            ([("customer_id", 1), ("kind", 1), ("month", 1)], {"unique": True, "name": "one_claim_per_month"}),
            ([("status", 1), ("created_at", 1)], {"name": "by_status"}),
            # claims whose decision or notice is still open
            ([("settlement.notified_at", 1), ("created_at", 1)], {"name": "unsettled"}),
        ],
    ),
    "bill_deliveries": (
        BillDeliveryRecord,
        [
            ([("customer_id", 1), ("month", -1)], {"unique": True, "name": "customer_month"}),
            # months billing says are not fully paid: the arrears watch reads only these
            ([("owed_fen", 1), ("month", 1)], {"name": "owed", "partialFilterExpression": {"owed_fen": {"$gt": 0}}}),
        ],
    ),
    "credits": (
        Credit,
        [([("customer_id", 1), ("apply_to_month", 1)], {"name": "by_customer_bill"})],
    ),
    "audit_log": (
        AuditEntry,
        [
            ([("customer_id", 1), ("at", -1)], {"name": "by_customer"}),  # customer 360's history
            ([("entity", 1), ("entity_id", 1), ("at", -1)], {"name": "by_entity"}),
            ([("job_id", 1)], {"name": "by_job", "sparse": True}),
        ],
    ),
    "import_jobs": (
        ImportJob,
        [
            # the lock: one running import per kind
            ([("kind", 1)], {"unique": True, "name": "one_running_per_kind",
                             "partialFilterExpression": {"status": "running"}}),
            ([("started_at", -1)], {"name": "recent"}),
        ],
    ),
    "import_errors": (
        ImportRowError,
        [([("job_id", 1), ("row", 1)], {"name": "by_job"}),
         ([("created_at", 1)], {"expireAfterSeconds": 90 * 86400, "name": "ttl"})],  # kept 90 days
    ),
    "assistant_sessions": (
        AssistantSession,
        [([("sender_id", 1), ("started_at", -1)], {"name": "by_sender"}),
         # kept 400 days: a year of trend and the month being counted, then gone by themselves
         ([("started_at", 1)], {"name": "by_started", "expireAfterSeconds": 400 * 86400})],
    ),
    "maintenance_windows": (
        MaintenanceWindow,
        [([("circuit_ids", 1), ("end", 1)], {"name": "by_circuit"}),  # which circuits are in maintenance now
         ([("end", 1)], {"name": "watched"}),
         ([("start", -1)], {"name": "recent"})],
    ),
    "broadcasts": (
        Broadcast,
        [([("status", 1), ("created_at", 1)], {"name": "by_status"}),  # the queued ones, oldest first
         ([("created_at", -1)], {"name": "recent"})],
    ),
    "visits": (
        Visit,
        [([("customer_id", 1), ("visited_on", -1)], {"name": "by_customer"}),  # a customer's last visit
         ([("manager_id", 1), ("visited_on", -1)], {"name": "by_manager"})],
    ),
    "compliments": (
        Compliment,
        [([("customer_id", 1), ("created_at", -1)], {"name": "by_customer"}),
         ([("manager_id", 1), ("created_at", -1)], {"name": "by_manager"}),  # a team's counts
         ([("created_at", -1)], {"name": "recent"})],
    ),
}

# Collections with no model of their own: id sequences for ticket numbers, the KPI counts per month.
# Rasa's conversations and their archive (written by ``bot.tracker_store``) are indexed for the retention job.
AUXILIARY_COLLECTIONS: Dict[str, List[IndexSpec]] = {
    "counters": [], "kpi_months": [], "leases": [],
    CONVERSATIONS: [([("latest_event_time", 1)], {"name": "by_latest_event"})],
    ARCHIVE: [([("last_timestamp", 1)], {"name": "by_last_event"})],
}

# Collections earlier versions kept, dropped on start: they derived "whose birthday / bill day
# is today" from the customers, which the customers' own indexes now answer.
RETIRED_COLLECTIONS = ("customer_birthdays", "bill_day_members")

# Collections earlier versions named otherwise, renamed on start with what they hold.
RENAMED_COLLECTIONS: Dict[str, str] = {"early_callbacks": "parked_callbacks", "login_failures": "attempts"}

# Documents earlier versions wrote otherwise, rewritten on start before the validators change:
# (collection, filter, update, what it does). High value became a flag beside the class.
DATA_MIGRATIONS: List[Tuple[str, Dict[str, Any], Dict[str, Any], str]] = [
    ("customers", {"customer_class": "high_value"},
     {"$set": {"high_value": True}, "$unset": {"customer_class": ""}}, "high_value class -> high_value flag"),
    # Complaints kept their category's label ("账单费用", "billing") before it was stored by key.
    *[("tickets", {"kind": "complaint", "category": {"$in": [name for name in names if name != key]}},
       {"$set": {"category": key}}, f"complaint category label -> {key}")
      for key, names in LABELS["complaint_category"].items()],
]

# Indexes earlier versions declared, dropped on start (an unused index costs every write).
RETIRED_INDEXES: Dict[str, List[str]] = {
    # No query read the first four, and each cost every message two index writes; by_campaign
    # held every message of a campaign, where "unfinished" holds only those still unsettled.
    "sends": ["by_status", "by_kind", "by_recipient", "by_contact", "by_campaign"],
}
