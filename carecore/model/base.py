"""What every model shares: the pydantic base, the stored forms of ids, months and mobiles."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Any, Dict, Mapping, Optional, Type, TypeVar

from pydantic import BaseModel
from pydantic.fields import SHAPE_LIST

from carecore.phones import InvalidPhoneNumber, to_e164


class Language(str, Enum):
    zh = "zh"
    en = "en"


class Model(BaseModel):
    class Config:
        allow_population_by_field_name = True
        use_enum_values = True
        validate_assignment = True
        anystr_strip_whitespace = True

    def to_mongo(self) -> Dict[str, Any]:
        return self.dict(by_alias=True, exclude_none=True)

    @classmethod
    def from_stored(cls: Type[ModelT], doc: Mapping[str, Any]) -> ModelT:
        """The model of a document read back from its own collection, without validating it again.

        Every write went through this model or the validator made from it, so bulk reads (campaigns) need
        not re-check every mobile. ``construct`` leaves nested models as dicts, so they are built here.
        """
        values: Dict[str, Any] = {}
        for name, model_field in cls.__fields__.items():
            if model_field.alias not in doc:
                continue
            value = doc[model_field.alias]
            nested = model_field.type_
            if value is not None and isinstance(nested, type) and issubclass(nested, Model):
                value = [nested.from_stored(v) for v in value] if model_field.shape == SHAPE_LIST \
                    else nested.from_stored(value)
            values[name] = value
        return cls.construct(**values)


ModelT = TypeVar("ModelT", bound=Model)


def _mobile(value: str) -> str:
    try:
        return to_e164(value)
    except InvalidPhoneNumber as exc:
        raise ValueError(str(exc)) from None


def no_signature_marks(text: Optional[str]) -> Optional[str]:
    """Text a person writes for an SMS: 【】 opens the message with the operator's signature, and nowhere else."""
    if text is not None and ("【" in text or "】" in text):
        raise ValueError("【】 is for the signature only, which is added at the start")
    return text


E164_PATTERN = r"^\+[1-9][0-9]{6,14}$"

# Customer, contact, circuit and manager ids are the operator's own (its CRM's): any stable string of these.
ID_PATTERN = r"^[A-Za-z0-9_-]{1,40}$"


MESSAGE_SID_PATTERN = r"^(SM|MM)[0-9a-fA-F]{32}$"  # a Twilio message sid


MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"


def month_key(d: date | datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"
