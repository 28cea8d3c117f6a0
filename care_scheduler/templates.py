"""SMS templates: one Jinja2 file per campaign kind and language, rendered strictly.

A missing variable is an error, not an empty string: a greeting with a blank
name must never go out. Chinese messages start with the configured 【signature】
and never carry 【】 elsewhere in the body (the SMS convention in China).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, List

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from carecore.sms.segments import segment_info

TEMPLATE_DIR = Path(__file__).resolve().parent / "templates"
WARN_SEGMENTS = 3

# Templates ship with the code: no per-render mtime check (a campaign renders thousands a second).
_env = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), undefined=StrictUndefined, autoescape=False,
                   keep_trailing_newline=False, trim_blocks=True, auto_reload=False)


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Rendered:
    text: str
    encoding: str
    segments: int
    warnings: List[str]


def render(kind: str, language: str, *, signature: str, **values: Any) -> Rendered:
    """Render ``kind`` in ``language`` (zh/en); raises TemplateError on any problem."""
    if language not in ("zh", "en"):
        raise TemplateError(f"unknown language {language!r}")
    try:
        template = _env.get_template(f"{kind}.{language}.j2")
        text = template.render(signature=signature, **values).strip()
    except Exception as exc:  # jinja2 raises several types; all mean the message cannot go out
        raise TemplateError(f"{kind}.{language}: {exc}") from exc
    body = text[len(signature):] if language == "zh" and text.startswith(signature) else text
    if language == "zh" and not text.startswith(signature):
        raise TemplateError(f"{kind}.zh must start with the signature {signature}")
    if "【" in body or "】" in body:
        raise TemplateError(f"{kind}.{language}: 【】 is reserved for the signature")
    info = segment_info(text)
    warnings = [f"{info.segments} segments (over {WARN_SEGMENTS})"] if info.segments > WARN_SEGMENTS else []
    return Rendered(text, info.encoding, info.segments, warnings)
