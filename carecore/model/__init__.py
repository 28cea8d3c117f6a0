"""Typed models of the key-account data (pydantic 1.x, as rasa 3.6 pins it), one module per aggregate.

The single definition of every collection: the repository validates writes with them, and the
database's ``$jsonSchema`` validators are derived from them.
"""

from carecore.model.base import (
    E164_PATTERN,
    ID_PATTERN,
    MESSAGE_SID_PATTERN,
    MONTH_PATTERN,
    Language,
    Model,
    ModelT,
    month_key,
)
from carecore.model.billing import (
    BillDeliveryRecord,
    ClaimStatus,
    CompensationClaim,
    Credit,
    CreditReason,
    Settlement,
    UsageMonth,
)
from carecore.model.broadcasts import BROADCAST_ID_PATTERN, Audience, Broadcast, BroadcastPurpose, BroadcastStatus
from carecore.model.compliments import COMPLIMENT_ID_PATTERN, Compliment
from carecore.model.customers import (
    TOP_TIERS,
    AccountManager,
    BillDelivery,
    Billing,
    Birthday,
    Calendar,
    Circuit,
    CircuitStatus,
    CircuitType,
    Contact,
    Customer,
    CustomerClass,
    ManagerLevel,
    Region,
    SlaClass,
    Tier,
    acting_manager,
    answering_manager,
    supervisor_above,
)
from carecore.model.identity import Attempt, OtpChallenge
from carecore.model.maintenance import MAINTENANCE_ID_PATTERN, CircuitSelection, MaintenanceImpact, MaintenanceWindow
from carecore.model.records import (
    IMPORT_COUNTS,
    AssistantSession,
    AuditEntry,
    ChangeSource,
    ImportJob,
    ImportRowError,
    ImportStatus,
)
from carecore.model.sends import (
    AWAITING_OUTCOME_VALUES,
    UNFINISHED,
    UNFINISHED_VALUES,
    ParkedCallback,
    SendRecord,
    SendStatus,
    StatusEvent,
)
from carecore.model.tickets import (
    ANSWERED_ABOVE,
    OPEN_ESCALATION_STATUSES,
    OPEN_TICKET_STATUSES,
    TICKET_ID_PATTERN,
    Escalation,
    EscalationReason,
    EscalationStatus,
    FollowUp,
    Priority,
    SlaDeadlines,
    Survey,
    SurveyChannel,
    Ticket,
    TicketEvent,
    TicketKind,
    TicketStatus,
)
from carecore.model.visits import VISIT_ID_PATTERN, Visit, visit_id
