"""Key accounts, their contacts and circuits, and their account managers."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional

from lunardate import LunarDate
from pydantic import Field, root_validator, validator

from carecore.model.base import E164_PATTERN, ID_PATTERN, Language, Model, _mobile


class CustomerClass(str, Enum):
    """重要客户 / 战略客户 / 集团客户, from the CRM or a manager; 高值客户 is a flag beside it (``high_value``)."""

    important = "important"
    strategic = "strategic"
    group = "group"  # the account spans several regions


class Tier(str, Enum):
    """钻石卡 / 金卡 / 银卡 / 贵宾卡, highest first."""

    diamond = "diamond"
    gold = "gold"
    silver = "silver"
    vip = "vip"


# The green channel: these tiers' faults are urgent and page the manager, and their manager greets them in person.
TOP_TIERS = (Tier.diamond.value, Tier.gold.value)


class Calendar(str, Enum):
    solar = "solar"
    lunar = "lunar"


class ManagerLevel(str, Enum):
    """The three levels: city (地市) -> province (省) -> group HQ (集团)."""

    city = "city"
    province = "province"
    group = "group"


class CircuitType(str, Enum):
    digital_2m = "digital_2m"  # 国内数字电路 2M
    digital_155m = "digital_155m"  # 国内数字电路 155M
    ddn = "ddn"
    leased_line = "leased_line"  # 专线
    internet_access = "internet_access"  # 互联网专线 / DIA
    ne_rental = "ne_rental"  # 网元出租
    voice = "voice"
    mobile = "mobile"
    data = "data"


class CircuitStatus(str, Enum):
    active = "active"
    degraded = "degraded"
    down = "down"
    maintenance = "maintenance"
    suspended = "suspended"


class SlaClass(str, Enum):
    premium = "premium"
    standard = "standard"
    basic = "basic"


class BillDelivery(str, Enum):
    sms = "sms"
    email = "email"
    paper = "paper"


class Region(Model):
    province: str = Field(..., min_length=1, max_length=32)
    city: Optional[str] = Field(None, min_length=1, max_length=32)


class Birthday(Model):
    """A birthday in the calendar the contact keeps it in.

    The year is optional (many contacts give only month and day). Lunar birthdays
    keep month and day of the Chinese calendar; ``leap_month`` marks a 闰月 birth.
    """

    calendar: Calendar = Calendar.solar
    month: int = Field(..., ge=1, le=12)
    day: int = Field(..., ge=1, le=31)
    year: Optional[int] = Field(None, ge=1900, le=2100)
    leap_month: bool = False

    @root_validator(skip_on_failure=True)
    def _date_exists(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        calendar, month, day, year = (
            values.get("calendar"),
            values["month"],
            values["day"],
            values.get("year"),
        )
        if calendar == Calendar.solar.value:
            if values.get("leap_month"):
                raise ValueError("leap_month applies to lunar birthdays only")
            try:
                date(year if year is not None else 2000, month, day)  # 2000: Feb 29 exists
            except ValueError:
                raise ValueError(f"impossible date: {year or '----'}-{month:02d}-{day:02d}") from None
        else:
            if day > 30:
                raise ValueError(f"impossible lunar date: month {month} day {day}")
            if year is not None:
                try:
                    LunarDate(year, month, day, values.get("leap_month", False)).to_solar_date()
                except ValueError:
                    raise ValueError(
                        f"impossible lunar date: {year}-{month:02d}-{day:02d}"
                        + (" (leap month)" if values.get("leap_month") else "")
                    ) from None
        return values


class Contact(Model):
    contact_id: str = Field(..., regex=ID_PATTERN)
    name: str = Field(..., min_length=1, max_length=64)
    role: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., regex=E164_PATTERN)
    email: Optional[str] = Field(None, max_length=254)
    birthday: Optional[Birthday] = None  # unknown: no birthday greeting
    language: Language = Language.zh
    tier: Tier
    billing_contact: bool = False
    sms_opt_out: bool = False
    opt_out_changed_at: Optional[datetime] = None
    opt_out_source: Optional[str] = Field(None, max_length=32)
    # when whoever holds the mobile said it no longer reaches this contact (they left, the number passed on): nothing
    # more goes to it and it verifies nobody, until a manager or an import gives the contact another mobile
    number_disowned_at: Optional[datetime] = None

    _normalise_mobile = validator("mobile", pre=True, allow_reuse=True)(_mobile)

    @property
    def reachable(self) -> bool:
        return self.number_disowned_at is None


class Circuit(Model):
    circuit_id: str = Field(..., regex=ID_PATTERN)
    type: CircuitType
    bandwidth: str = Field(..., min_length=1, max_length=16)
    status: CircuitStatus = CircuitStatus.active
    sla_class: SlaClass
    a_end: Optional[str] = Field(None, max_length=128)
    z_end: Optional[str] = Field(None, max_length=128)


class Billing(Model):
    bill_day: int = Field(..., ge=1, le=31)
    delivery: BillDelivery
    email: Optional[str] = Field(None, max_length=254)


class Customer(Model):
    id: str = Field(..., alias="_id", regex=ID_PATTERN)
    company_name: str = Field(..., min_length=2, max_length=128)
    customer_class: Optional[CustomerClass] = None
    high_value: bool = False  # set each month from billed revenue (care_scheduler.high_value), never by hand
    region: Region
    account_manager_id: str = Field(..., regex=ID_PATTERN)
    contacts: List[Contact] = Field(default_factory=list, max_items=200)  # none yet: no SMS at all
    services: List[Circuit] = Field(default_factory=list, max_items=500)
    billing: Billing
    created_at: Optional[datetime] = None
    updated_at: Optional[datetime] = None

    @validator("contacts")
    def _unique_contacts(cls, contacts: List[Contact]) -> List[Contact]:  # noqa: N805
        ids = [c.contact_id for c in contacts]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate contact_id")
        mobiles = [c.mobile for c in contacts]
        if len(set(mobiles)) != len(mobiles):
            raise ValueError("duplicate mobile among contacts")
        return contacts

    @validator("services")
    def _unique_circuits(cls, services: List[Circuit]) -> List[Circuit]:  # noqa: N805
        ids = [c.circuit_id for c in services]
        if len(set(ids)) != len(ids):
            raise ValueError("duplicate circuit_id")
        return services

    def contact(self, contact_id: str) -> Optional[Contact]:
        return next((c for c in self.contacts if c.contact_id == contact_id), None)

    def circuit(self, circuit_id: str) -> Optional[Circuit]:
        wanted = circuit_id.upper()
        return next((c for c in self.services if c.circuit_id.upper() == wanted), None)

    def credit_class(self, circuit_id: str) -> str:
        """The SLA class a late restore on ``circuit_id`` is credited at: basic once the circuit has left the
        account, since the fault was still reported on it."""
        circuit = self.circuit(circuit_id)
        return str(circuit.sla_class) if circuit else "basic"

    def billing_contact(self) -> Optional[Contact]:
        """The contact bills and customer-wide notices go to; None while the customer has no contact to reach."""
        reachable = [c for c in self.contacts if c.reachable]
        return next((c for c in reachable if c.billing_contact), reachable[0] if reachable else None)


class AccountManager(Model):
    id: str = Field(..., alias="_id", regex=ID_PATTERN)
    name: str = Field(..., min_length=1, max_length=64)
    mobile: str = Field(..., regex=E164_PATTERN)
    email: str = Field(..., regex=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)
    region: Region
    level: ManagerLevel
    supervisor_id: Optional[str] = Field(None, regex=ID_PATTERN)
    password_hash: Optional[str] = Field(None, max_length=512)
    active: bool = True  # a leaver is deactivated: no login, no session
    reset_token_hash: Optional[str] = Field(None, regex=r"^[0-9a-f]{64}$")  # a one-time set-password link's
    reset_expires_at: Optional[datetime] = None

    _normalise_mobile = validator("mobile", pre=True, allow_reuse=True)(_mobile)

    @root_validator(skip_on_failure=True)
    def _hierarchy(cls, values: Dict[str, Any]) -> Dict[str, Any]:  # noqa: N805
        level, supervisor = values["level"], values.get("supervisor_id")
        if level != ManagerLevel.group.value and not supervisor:
            raise ValueError(f"a {level} manager needs a supervisor_id")
        if level == ManagerLevel.city.value and not values["region"].city:
            raise ValueError("a city manager needs region.city")
        return values


def acting_manager(manager_id: str, managers: Mapping[str, AccountManager]) -> Optional[AccountManager]:
    """Who answers for a manager's accounts: the manager, or while they are deactivated (a leaver whose
    accounts are not reassigned yet) the nearest active supervisor, so that no escalation, page, brief
    or customer's SMS goes to a leaver's phone; None when nobody above is active either."""
    current = managers.get(manager_id)
    for _ in range(5):  # city, province, group: a longer chain is a loop in the data
        if current is None or current.active:
            return current
        current = managers.get(current.supervisor_id) if current.supervisor_id else None
    return None


def supervisor_above(manager_id: str, managers: Mapping[str, AccountManager]) -> Optional[AccountManager]:
    """The nearest active supervisor above the manager: who answers a complaint about them (``Ticket.about_manager``)."""
    current = managers.get(manager_id)
    for _ in range(4):  # above a city manager: province and group; a longer chain is a loop in the data
        current = managers.get(current.supervisor_id) if current is not None and current.supervisor_id else None
        if current is None or current.active:
            return current
    return None


def answering_manager(manager_id: str, about: Optional[str],
                      managers: Mapping[str, AccountManager]) -> Optional[AccountManager]:
    """Who answers a case on ``manager_id``'s accounts: the acting manager; for a complaint about a manager
    (``about``), the nearest active supervisor above them, when there is one."""
    return (supervisor_above(about, managers) if about else None) or acting_manager(manager_id, managers)
