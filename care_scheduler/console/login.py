"""Logging in and out of the console, with failed attempts limited per account and address."""

from __future__ import annotations

import logging

import aiohttp_session
from aiohttp import web

from care_scheduler.app_keys import CLOCK
from care_scheduler.console.auth import new_csrf_token
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import PREFIX, db_of, form, language, render
from carecore.limits import WindowLimiter
from carecore.passwords import verify_password

log = logging.getLogger(__name__)

LIMITER = web.AppKey("console_limiter", WindowLimiter)


async def login_page(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    return render(request, "login.html", language(request, session), session, error=None)


async def login(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    lang = language(request, session)
    posted = await form(request, session)
    manager_id = posted.get("manager_id", "").strip()[:40]
    limiter = request.app[LIMITER]
    db = db_of(request)
    now = request.app[CLOCK].now()
    limited = (f"login:id:{manager_id}", f"login:ip:{request.remote}")
    t = translator(lang)
    if not await limiter.admit(db.attempts, now, *limited):  # counted as failed until the password is right
        return render(request, "login.html", lang, session, error=t("login_blocked"), status=429)
    manager = await db.managers.get(manager_id) if manager_id else None
    if not verify_password(posted.get("password", ""), manager.password_hash if manager else None) \
            or (manager is not None and not manager.active):
        log.warning("console login failed for %r from %s", manager_id, request.remote)
        return render(request, "login.html", lang, session, error=t("login_failed"), status=401)
    await limiter.clear(db.attempts, *limited)
    assert manager is not None
    session.invalidate()  # a fresh session (and CSRF token) on every login
    fresh = await aiohttp_session.new_session(request)
    fresh.update(manager_id=manager.id, lang=lang, csrf=new_csrf_token())
    raise web.HTTPSeeOther(f"{PREFIX}/")


async def logout(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    await form(request, session)
    session.invalidate()
    raise web.HTTPSeeOther(f"{PREFIX}/login")
