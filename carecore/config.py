"""Settings read from the environment, in one place.

Secrets (Twilio credentials, admin tokens) only ever come from the environment;
the repository holds no values for them. With no Twilio credentials the product
talks to the local Twilio emulator, so a fresh clone runs offline.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

from cryptography.fernet import Fernet
from pydantic import BaseSettings, Field, IPvAnyNetwork, validator

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Signed, never "none": a portal token must be verifiable with the configured key.
PORTAL_ALGORITHMS = ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "ES256", "ES384", "PS256")
# Campaign schedules (crontab, business timezone): greetings and usage inside the send window.
DEFAULT_SCHEDULES = {
    "birthday": "0 9 * * *",
    "holiday": "0 9 * * *",
    "usage": "0 10 * * *",
    "compensation": "*/15 * * * *",
    "sla_watch": "*/5 * * * *",
    "brief": "30 8 * * *",
    "survey": "*/10 * * * *",
    "maintenance": "*/5 * * * *",
    "kpi_brief": "0 9 * * *",  # sends only on the first working day of a month
    "arrears": "30 10 * * *",
    "broadcast": "*/5 * * * *",  # queued broadcasts, in the send window
}


# The fault deadline settings: each names every tier, or every SLA class, of the model.
_FAULT_HOURS_BY = {"fault_sla_hours": ("FAULT_SLA_HOURS", "tiers", {"diamond", "gold", "silver", "vip"}),
                   "circuit_sla_hours": ("CIRCUIT_SLA_HOURS", "SLA classes", {"premium", "standard", "basic"})}


class Settings(BaseSettings):
    """Every knob of the product; the README's configuration table mirrors this class."""

    # --- MongoDB -----------------------------------------------------------------
    mongodb_uri: Optional[str] = Field(
        None, description="Use this MongoDB server; when unset the embedded mongod is started."
    )
    mongodb_db: str = Field("keycare", description="Database name.")
    var_dir: Path = Field(PROJECT_ROOT / "var", description="Runtime data (mongod files, logs).")
    embedded_mongo_port: int = Field(27027, description="Port of the embedded mongod.")

    # --- Time ----------------------------------------------------------------------
    timezone: str = Field("Asia/Shanghai", description="Business timezone of every schedule.")

    # --- Twilio / SMS ---------------------------------------------------------------
    twilio_account_sid: Optional[str] = None
    twilio_auth_token: Optional[str] = None
    twilio_from_number: Optional[str] = Field(None, description="Sender number (E.164).")
    twilio_messaging_service_sid: Optional[str] = Field(
        None, description="Send through a Messaging Service instead of a number."
    )
    twilio_api_base_url: Optional[str] = Field(
        None, description="Point the real Twilio client at another server (the emulator)."
    )
    twilio_timeout_s: float = Field(10.0, description="HTTP timeout of one Twilio request.")
    sms_lease_s: float = Field(
        60.0, gt=0, description="How long a message being sent stays reserved by its sender (at least 2 x the timeout)."
    )
    twilio_max_429_retries: int = Field(5, description="Retries of a 429 before giving up.")
    public_base_url: str = Field(
        "http://127.0.0.1:8080",
        description="Public URL of the care service; status callbacks are signed against it.",
    )
    sms_signature: str = Field("【中国电信】", description="Signature that starts every zh SMS.")
    hotline: str = Field("10000", regex=r"^\+?[0-9][0-9 -]{1,18}[0-9]$",
                         description="The key-account hotline customers are told to call.")
    operator_name: str = Field("中国电信", min_length=1, max_length=20,
                               description="The operator's name in Chinese greetings and replies.")
    operator_name_en: str = Field("China Telecom", min_length=1, max_length=40,
                                  description="The operator's name in English greetings.")
    emulator_port: int = Field(8099, description="Port of the local Twilio emulator.")
    emulator_auth_token: Optional[str] = Field(
        None, description="Auth token `make run` gives the emulator; random per run when unset."
    )
    sms_outbox: str = Field(
        "emulator", description="'emulator' or 'console' when no Twilio credentials are set."
    )

    # --- Assistant -------------------------------------------------------------------
    rasa_port: int = Field(5005, description="Port of the Rasa server (REST, socket.io, Twilio SMS).")
    rasa_interface: str = Field("127.0.0.1", description="Interface the Rasa server listens on.")
    bot_public_url: str = Field(
        "http://127.0.0.1:5005",
        description="Public URL of the Rasa server; Twilio signs <it>/webhooks/twilio_sms/webhook.",
    )
    action_server_port: int = Field(5055, description="Port of the Rasa action server.")
    sender_id_secret: Optional[str] = Field(
        None, description="HMAC key that binds SMS conversation ids to the phone Twilio vouched for."
    )
    fault_sla_hours: Dict[str, Tuple[float, float]] = Field(
        {"diamond": (2, 4), "gold": (4, 8), "silver": (8, 24), "vip": (24, 48)},
        description="Fault response / restore deadlines in hours, by tier (JSON).",
    )
    circuit_sla_hours: Dict[str, Tuple[float, float]] = Field(
        {"premium": (2, 4), "standard": (4, 8), "basic": (8, 24)},
        description="Fault response / restore deadlines in hours, by the circuit's SLA class (JSON); a fault gets the "
                    "faster of these and its contact's tier.",
    )
    complaint_reply_hours: Dict[str, float] = Field(
        {"diamond": 4, "gold": 8, "silver": 24, "vip": 48},
        description="Deadline to answer a complaint in hours, by tier (JSON; a number: the same for every tier); "
                    "important and group customers get at most the gold hours.",
    )
    business_hours: Tuple[int, int] = Field((9, 18), description="Account managers' working hours.")
    escalation_contact_hours: float = Field(2, description="Within business hours, managers call back within this.")
    bill_delivery_days: int = Field(
        7, ge=1, description="Stated time for bill documents to reach the customer, in days after the bill day."
    )
    bill_claim_credit_minutes: int = Field(
        5, ge=1, description="Bill not received in time: credit of this many minutes of basic call fee."
    )
    basic_call_fee_yuan_per_minute: float = Field(0.2, gt=0, description="Basic call fee the bill credit is priced at.")
    sla_credit_yuan: Dict[str, float] = Field(
        {"premium": 500.0, "standard": 200.0, "basic": 50.0},
        description="Credit for a fault restored after its deadline, by the circuit's SLA class (JSON).",
    )
    otp_ttl_s: int = Field(300, description="Validity of a one-time code.")
    otp_max_attempts: int = Field(3, description="Wrong codes allowed before the challenge is void.")
    otp_max_per_hour: int = Field(5, description="Codes sent to one mobile per hour at most.")

    # --- Care scheduler ------------------------------------------------------------------
    care_port: int = Field(8080, description="Port of the care service (status callbacks, health, metrics, admin).")
    care_interface: str = Field("127.0.0.1", description="Interface the care service listens on.")
    care_admin_token: Optional[str] = Field(
        None, description="Bearer token of the admin API; unset: the admin API refuses every call (401)."
    )
    care_schedules: Dict[str, str] = Field(
        dict(DEFAULT_SCHEDULES), description="Crontab line per campaign in TIMEZONE (JSON); missing kinds keep the default."
    )
    care_extra_festivals: Dict[date, str] = Field(
        {}, description='Extra greeting days besides the `holidays` ones, e.g. {"2026-12-25": "company_day"} (JSON).'
    )
    metrics_recount_s: float = Field(
        60.0, ge=0, description="`/metrics` recounts the sends log at most this often; scrapes between show the last count."
    )
    care_promo: Dict[str, str] = Field(
        {}, description='Promotional line per language in greetings, e.g. {"zh": "…", "en": "…"} (JSON).'
    )
    campaign_mps: float = Field(30.0, gt=0, description="Segments per second the sender may send (its MPS).")
    campaign_concurrency: int = Field(8, ge=1, le=256, description="Messages in flight at once per campaign.")
    sms_price_per_segment: float = Field(0.05, ge=0, description="Price of one segment for preview estimates.")
    high_value_threshold_yuan: float = Field(
        50000.0, gt=0, description="High value (高值客户): the last three months' average billed amount reaches this."
    )
    high_value_schedule: str = Field("0 6 3 * *", description="Crontab line of the monthly high-value job (TIMEZONE).")
    visit_every_days: Dict[str, int] = Field(
        {"important": 30, "strategic": 30, "group": 60, "high_value": 60, "other": 90},
        description="Customer visits (客户拜访): days between visits by class (the shortest that applies; "
                    "`other` for the rest) (JSON).",
    )
    payment_due_days: int = Field(
        20, ge=0, le=90, description="A month's bill is due this many days after the bill day; unpaid after it, "
                                     "the account is in arrears (欠费)."
    )
    churn_drop_percent: int = Field(
        30, ge=1, le=100, description="Churn watch (离网分析): the last three months' average bill this much below "
                                      "the three before."
    )
    import_max_bytes: int = Field(
        512 * 1024 * 1024, ge=1024, description="Largest file `POST /admin/import/{kind}` takes (413 beyond)."
    )

    sla_warn_before_minutes: int = Field(
        30,
        ge=1,
        description="Warn the account manager this long before a ticket's response, restore or reply deadline.",
    )
    sla_escalate_after_minutes: Tuple[int, int, int] = Field(
        (0, 60, 240),
        description="Minutes past a breached deadline at which the city manager, the province and group are alerted.",
    )
    survey_delay_minutes: int = Field(
        120, ge=0, description="A resolved ticket's satisfaction survey goes out this long after, inside the send window."
    )
    survey_reply_hours: int = Field(72, ge=1, description="A survey may be answered by SMS or chat this long after it was sent.")
    conversation_retention_days: int = Field(
        365, ge=0, description="Conversations idle this long are deleted, with their archived events as old "
                               "(a paused one waits for its manager); 0 keeps them.")
    followup_hours: float = Field(
        48, gt=0, description="A low score's follow-up (回访) not done within this escalates to the province manager."
    )
    link_secret: Optional[str] = Field(
        None, description="HMAC key of survey and opt-out links; unset: random per start (old links stop working)."
    )
    lock_store_url: Optional[str] = Field(
        None, description="Redis of the Rasa servers' lock store (`make cluster`); the care service reports whether it answers."
    )
    scheduler_lease_s: float = Field(
        15, ge=3, description="Scheduler leader's lease: another care service takes over this long after it stops renewing."
    )
    console_url: str = Field("http://127.0.0.1:8080/console", description="Link to the managers' console in SMS.")
    console_secret: Optional[str] = Field(
        None, description="Fernet key signing and encrypting console session cookies; unset: random per start."
    )
    console_session_hours: float = Field(8, gt=0, description="A console login lasts this long.")
    console_max_failed_logins: int = Field(5, ge=1, description="Failed logins per account or address per 15 minutes.")
    trusted_proxies: List[IPvAnyNetwork] = Field(
        [], description="Balancers in front of the care service and the Rasa servers (JSON list of addresses or "
                        "networks): a request from one is counted for the last address in its X-Forwarded-For "
                        "that is none of them."
    )
    rasa_url: str = Field("http://127.0.0.1:5005", description="Rasa server as the care service reaches it (hand-back).")
    rasa_api_token: Optional[str] = Field(None, description="Token of Rasa's HTTP API (`make run` sets one per run).")
    chat_token_secret: Optional[str] = Field(
        None, description="Key signing chat session tokens (HS256); the Rasa server needs it (`make run` sets one per run)."
    )
    chat_session_minutes: int = Field(60, ge=1, description="A web chat session's token is valid this long.")
    chat_sessions_per_address: int = Field(
        30, ge=1, description="Anonymous chat sessions one client address may open per hour (portal sign-ins aside)."
    )
    portal_jwt_key: Optional[str] = Field(
        None, description="The enterprise portal's shared secret or PEM public key; unset: no portal sign-in."
    )
    portal_jwt_algorithm: str = Field("HS256", description="Algorithm the portal signs its tokens with.")
    portal_jwt_issuer: Optional[str] = Field(None, description="`iss` of the portal's tokens (required with its key).")

    # --- Misc ------------------------------------------------------------------------
    log_level: str = "INFO"

    class Config:
        env_prefix = ""
        case_sensitive = False

    @validator("portal_jwt_algorithm")
    def _signing_algorithm(cls, value: str) -> str:  # noqa: N805 - pydantic signature
        if value not in PORTAL_ALGORITHMS:
            raise ValueError(f"PORTAL_JWT_ALGORITHM must be one of {', '.join(PORTAL_ALGORITHMS)}")
        return value

    @validator("portal_jwt_issuer", always=True)
    def _issuer_with_key(cls, value: Optional[str], values: Dict[str, Any]) -> Optional[str]:  # noqa: N805
        if values.get("portal_jwt_key") and not value:
            raise ValueError("PORTAL_JWT_ISSUER must be set with PORTAL_JWT_KEY: tokens of any other issuer are refused")
        return value

    @validator("sms_outbox")
    def _known_outbox(cls, value: str) -> str:  # noqa: N805 - pydantic signature
        if value not in {"emulator", "console"}:
            raise ValueError("SMS_OUTBOX must be 'emulator' or 'console'")
        return value

    @validator("fault_sla_hours", "circuit_sla_hours")
    def _fault_hours(cls, value: Dict[str, Tuple[float, float]],  # noqa: N805
                     field: Any) -> Dict[str, Tuple[float, float]]:
        name, what, keys = _FAULT_HOURS_BY[field.name]
        missing = keys - set(value)
        if missing:
            raise ValueError(f"{name} lacks {what}: {sorted(missing)}")
        for key, (response, restore) in value.items():
            if not 0 < response <= restore:
                raise ValueError(f"{name}[{key}]: need 0 < response <= restore")
        return value

    @validator("complaint_reply_hours", pre=True)
    def _reply_hours(cls, value: Any) -> Any:  # noqa: N805
        if isinstance(value, (int, float, str)) and not str(value).lstrip().startswith("{"):
            value = {tier: float(value) for tier in ("diamond", "gold", "silver", "vip")}
        return value

    @validator("complaint_reply_hours")
    def _reply_tiers(cls, value: Dict[str, float]) -> Dict[str, float]:  # noqa: N805
        missing = {"diamond", "gold", "silver", "vip"} - set(value)
        if missing or any(hours <= 0 for hours in value.values()):
            raise ValueError(f"COMPLAINT_REPLY_HOURS needs positive hours for every tier (missing {sorted(missing)})")
        return value

    @validator("visit_every_days")
    def _visit_classes(cls, value: Dict[str, int]) -> Dict[str, int]:  # noqa: N805
        """Classes left out keep their default, as ``CARE_SCHEDULES`` kinds do."""
        defaults = cls.__fields__["visit_every_days"].default
        if set(value) - set(defaults) or any(not 1 <= days <= 366 for days in value.values()):
            raise ValueError(f"VISIT_EVERY_DAYS: days from 1 to 366 for classes among {sorted(defaults)}")
        return {**defaults, **value}

    @validator("care_schedules")
    def _cron_lines(cls, value: Dict[str, str]) -> Dict[str, str]:  # noqa: N805
        unknown = set(value) - set(DEFAULT_SCHEDULES)
        if unknown:
            raise ValueError(f"CARE_SCHEDULES: unknown campaigns {sorted(unknown)}")
        given = {kind: line for kind, line in value.items() if line != DEFAULT_SCHEDULES[kind]}
        if given:
            # Imported only for lines of the operator's own: APScheduler pulls in pkg_resources, 0.16 s
            # of every process's start. The default lines are checked by a test.
            from apscheduler.triggers.cron import CronTrigger
        for kind, line in given.items():
            try:
                CronTrigger.from_crontab(line)
            except ValueError as exc:
                raise ValueError(f"CARE_SCHEDULES[{kind}]: {exc}") from None
        return {**DEFAULT_SCHEDULES, **value}

    @validator("high_value_schedule")
    def _high_value_cron(cls, value: str) -> str:  # noqa: N805
        if value != "0 6 3 * *":
            from apscheduler.triggers.cron import CronTrigger

            try:
                CronTrigger.from_crontab(value)
            except ValueError as exc:
                raise ValueError(f"HIGH_VALUE_SCHEDULE: {exc}") from None
        return value

    @validator("console_secret")
    def _fernet_key(cls, value: Optional[str]) -> Optional[str]:  # noqa: N805
        if value is not None:
            try:
                Fernet(value)
            except (ValueError, TypeError):
                raise ValueError("CONSOLE_SECRET must be a Fernet key (32 url-safe base64-encoded bytes)") from None
        return value

    @validator("sla_escalate_after_minutes")
    def _rising_levels(cls, value: Tuple[int, int, int]) -> Tuple[int, int, int]:  # noqa: N805
        if not 0 <= value[0] <= value[1] <= value[2]:
            raise ValueError("SLA_ESCALATE_AFTER_MINUTES must rise from level 1 to 3, starting at 0 or later")
        return value

    @validator("care_promo")
    def _promo_languages(cls, value: Dict[str, str]) -> Dict[str, str]:  # noqa: N805
        unknown = set(value) - {"zh", "en"}
        if unknown:
            raise ValueError(f"CARE_PROMO: unknown languages {sorted(unknown)}")
        return value

    @validator("sla_credit_yuan")
    def _every_sla_class(cls, value: Dict[str, float]) -> Dict[str, float]:  # noqa: N805
        missing = {"premium", "standard", "basic"} - set(value)
        if missing:
            raise ValueError(f"SLA_CREDIT_YUAN lacks SLA classes: {sorted(missing)}")
        if any(amount <= 0 for amount in value.values()):
            raise ValueError("SLA_CREDIT_YUAN amounts must be positive")
        return value

    def operator(self, lang: str) -> str:
        """The operator's name as a message in ``lang`` (zh/en) writes it."""
        return self.operator_name_en if lang == "en" else self.operator_name

    @property
    def bill_claim_credit_fen(self) -> int:
        return round(self.bill_claim_credit_minutes * self.basic_call_fee_yuan_per_minute * 100)

    def sla_credit_fen(self, sla_class: str) -> int:
        return round(self.sla_credit_yuan[sla_class] * 100)

    @property
    def twilio_configured(self) -> bool:
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    @property
    def behind_https(self) -> bool:
        """The care service's public URLs are HTTPS: its cookies carry ``Secure`` and it sends HSTS."""
        return self.public_base_url.startswith("https://") or self.console_url.startswith("https://")

    @property
    def status_callback_url(self) -> str:
        return self.public_base_url.rstrip("/") + "/twilio/status"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings; tests build their own ``Settings`` instead of using this."""
    return Settings()
