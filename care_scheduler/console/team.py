"""The team page: a supervisor's managers, the compliments each was given, their set-password links, leavers and
successors."""

from __future__ import annotations

from datetime import timedelta

import aiohttp_session
from aiohttp import web

from care_scheduler.app_keys import CLOCK, SETTINGS
from care_scheduler.console.i18n import translator
from care_scheduler.console.pages import PREFIX, db_of, form, language, not_found, redirect, render, viewer
from care_scheduler.team import LinkInvalid, NotYours, Team
from carecore.passwords import WeakPassword

PRAISE_DAYS = 90  # the compliments each manager was given, counted over a quarter


def _team(request: web.Request) -> Team:
    app = request.app
    return Team(db_of(request), app[SETTINGS], app[CLOCK])


async def team_page(request: web.Request) -> web.Response:
    seen = await viewer(request)
    team = _team(request)
    members = await team.members(seen.scope)
    books = {m.id: len(await db_of(request).customers.ids_for_managers([m.id])) for m in members}
    praised = await db_of(request).compliments.count_by_manager(
        [m.id for m in members], request.app[CLOCK].now() - timedelta(days=PRAISE_DAYS))
    return render(request, "team.html", seen.lang, seen.session, seen.manager, members=members, books=books,
                  praised=praised, praise_days=PRAISE_DAYS)


async def team_action(request: web.Request) -> web.Response:
    seen = await viewer(request)
    posted = await form(request, seen.session)
    team, t = _team(request), translator(seen.lang)
    manager_id, action = request.match_info["manager_id"], request.match_info["action"]
    back = f"{PREFIX}/team"
    try:
        if action == "password-link":
            link = await team.password_link(seen.scope, manager_id)
            redirect(seen.session, back, f"{t('link_for')} {manager_id}: {link}")
        if action in ("deactivate", "activate"):
            await team.set_active(seen.scope, manager_id, action == "activate")
            redirect(seen.session, back, t("done"))
        counts = await team.reassign(seen.scope, manager_id, posted.get("to", "").strip()[:40])
        redirect(seen.session, back, t("reassigned").format(**counts))
    except NotYours:
        not_found()


async def set_password_page(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    return render(request, "set_password.html", language(request, session), session,
                  token=request.query.get("token", "")[:100], error=None)


async def set_password(request: web.Request) -> web.Response:
    session = await aiohttp_session.get_session(request)
    lang = language(request, session)
    posted = await form(request, session)
    token, t = posted.get("token", "")[:100], translator(lang)
    error = t("passwords_differ") if posted.get("password") != posted.get("again") else None
    if error is None:
        try:
            await _team(request).set_password(token, posted.get("password", ""))
        except (WeakPassword, LinkInvalid) as exc:
            error = str(exc)
    if error:
        return render(request, "set_password.html", lang, session, token=token, error=error, status=400)
    redirect(session, f"{PREFIX}/login", t("password_set"))
