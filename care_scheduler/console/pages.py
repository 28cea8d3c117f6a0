"""What every console page shares: the logged-in viewer and scope, CSRF-checked forms, rendering, redirects.

Every page and action first loads the logged-in manager's scope; anything outside
it is a 404. Every POST carries the session's CSRF token. Pages are Chinese by
default, English with ``?lang=en``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, NoReturn, Optional, Sequence, Tuple, TypeVar, Union
from zoneinfo import ZoneInfo

import aiohttp_session
from aiohttp import web
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from care_scheduler.app_keys import DB, SETTINGS
from care_scheduler.console.auth import csrf_ok, new_csrf_token
from care_scheduler.console.i18n import PUNCTUATION, translator
from care_scheduler.dataio.tables import table_bytes
from care_scheduler.scope import Scope
from carecore.model import AccountManager, Customer, Escalation, Ticket
from carecore.phones import readable
from carecore.repository import Database
from carecore.texts import circuit_ends, circuit_line, customer_classes, label, yuan

PREFIX = "/console"
Case = TypeVar("Case", Ticket, Escalation)

_templates = Environment(loader=FileSystemLoader(str(Path(__file__).parent / "templates")),
                         autoescape=select_autoescape(["html"]), undefined=StrictUndefined, trim_blocks=True,
                         lstrip_blocks=True)


@dataclass
class Viewer:
    manager: AccountManager
    scope: Scope
    session: aiohttp_session.Session
    lang: str


def db_of(request: web.Request) -> Database:
    return request.app[DB]


def not_found() -> NoReturn:
    raise web.HTTPNotFound(text="not found")


async def viewer(request: web.Request) -> Viewer:
    """The logged-in manager with their scope; a redirect to the login page otherwise."""
    session = await aiohttp_session.get_session(request)
    db = db_of(request)
    manager_id = session.get("manager_id")
    manager = await db.managers.get(manager_id) if isinstance(manager_id, str) else None
    if manager is None or not manager.active:  # a deactivated manager's sessions end here
        session.invalidate()
        raise web.HTTPSeeOther(f"{PREFIX}/login")
    return Viewer(manager, await Scope.of(db, manager), session, language(request, session))


async def operator(request: web.Request) -> Viewer:
    """A viewer at group level (campaigns reach every customer); 404 for anyone else."""
    seen = await viewer(request)
    if seen.scope.manager_ids is not None:
        not_found()
    return seen


async def above_city(request: web.Request) -> Viewer:
    """A viewer at province or group level (maintenance, broadcasts); 404 for a city manager."""
    seen = await viewer(request)
    if seen.manager.level == "city":
        not_found()
    return seen


async def in_scope(request: web.Request, seen: Viewer, record: Optional[Case]) -> Tuple[Case, Customer]:
    """A ticket or escalation and its customer, if they are in the viewer's scope; 404 otherwise."""
    customer = await db_of(request).customers.get(record.customer_id) if record else None
    if record is None or customer is None or not seen.scope.covers(customer):
        not_found()
    return record, customer


async def customer_in_scope(request: web.Request, seen: Viewer) -> Customer:
    """The customer the path names, if in the viewer's scope; 404 otherwise."""
    customer = await db_of(request).customers.get(request.match_info["customer_id"])
    if customer is None or not seen.scope.covers(customer):
        not_found()
    return customer


def language(request: web.Request, session: aiohttp_session.Session) -> str:
    wanted = request.query.get("lang")
    if wanted in ("zh", "en"):
        session["lang"] = wanted
    return session.get("lang", "zh") if session.get("lang") in ("zh", "en") else "zh"


def _csrf(session: aiohttp_session.Session) -> str:
    if not session.get("csrf"):
        session["csrf"] = new_csrf_token()
    return session["csrf"]


async def form(request: web.Request, session: aiohttp_session.Session) -> Dict[str, str]:
    """The posted form, after the CSRF check (403 without a matching token)."""
    posted = await request.post()
    if not csrf_ok(session.get("csrf"), posted.get("csrf")):  # type: ignore[arg-type]
        raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return {k: str(v) for k, v in posted.items()}


def render(request: web.Request, template: str, lang: str, session: aiohttp_session.Session,
           manager: Optional[AccountManager] = None, status: int = 200, **values: Any) -> web.Response:
    settings = request.app[SETTINGS]
    tz = ZoneInfo(settings.timezone)
    flash = session.pop("flash", None)
    html = _templates.get_template(template).render(
        t=translator(lang), lang=lang, csrf=_csrf(session), manager=manager, flash=flash, prefix=PREFIX,
        label=lambda kind, value: label(kind, str(value), lang), yuan=yuan,
        phone=lambda number: readable(number, lang) if number else "",
        circuit_line=lambda circuit: circuit_line(circuit, lang), circuit_ends=lambda circuit: circuit_ends(circuit, lang),
        classes_of=lambda customer_class, high_value: customer_classes(customer_class, high_value, lang),
        local=lambda dt: _local(dt, tz), changed=lambda value: _changed(value, tz), **PUNCTUATION[lang], **values)
    return web.Response(text=html, content_type="text/html", status=status,
                        headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                 "Content-Security-Policy": "default-src 'self'; style-src 'self' 'unsafe-inline'"})


def _local(moment: Union[datetime, str, None], tz: ZoneInfo) -> str:
    """A stored moment (or its ISO form, as reports carry it) in the business timezone, to the minute."""
    if not moment:
        return "-"
    return (datetime.fromisoformat(moment) if isinstance(moment, str) else moment).astimezone(tz).strftime(
        "%Y-%m-%d %H:%M")


def _changed(value: Any, tz: ZoneInfo) -> Any:
    """One side of an audited change as a manager reads it: a moment in the business timezone, nothing as a dash."""
    if value is None:
        return "—"
    return _local(value, tz) if isinstance(value, datetime) else value


CONTENT_TYPES = {"csv": "text/csv; charset=utf-8",
                 "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


async def manager_names(db: Database) -> Callable[[str], str]:
    """A report's manager column: the name for an id, the id itself for a manager no longer on record."""
    names = {m.id: m.name for m in await db.managers.all()}
    return lambda manager_id: names.get(manager_id, manager_id)


def download(fmt: str, filename: str, headers: Sequence[str], rows: Iterable[Sequence[str]]) -> web.Response:
    """A report's table as a CSV or XLSX attachment, never cached (it holds customers' data)."""
    return web.Response(body=table_bytes(fmt, headers, rows), headers={
        "Content-Type": CONTENT_TYPES[fmt], "Cache-Control": "no-store",
        "Content-Disposition": f'attachment; filename="{filename}.{fmt}"'})


def redirect(session: aiohttp_session.Session, to: str, flash: Optional[str] = None) -> NoReturn:
    if flash:
        session["flash"] = flash
    raise web.HTTPSeeOther(to)

