"""The console's wiring: encrypted session cookies, the login limiter and the routes of every page."""

from __future__ import annotations

import secrets

import aiohttp_session
from aiohttp import web
from aiohttp_session.cookie_storage import EncryptedCookieStorage

from care_scheduler.console.arrears import arrears_download, arrears_page
from care_scheduler.console.broadcasts import broadcast_cancel, broadcast_send, broadcasts_page
from care_scheduler.console.campaigns import campaigns_chart, campaigns_page, campaigns_run
from care_scheduler.console.churn import churn_download, churn_kept, churn_page
from care_scheduler.console.contacts import contact_form, contact_remove, contact_save
from care_scheduler.console.customers import customer_page
from care_scheduler.console.directory import customers_page
from care_scheduler.console.escalations import escalation_action, escalation_page
from care_scheduler.console.inbox import inbox, to_inbox
from care_scheduler.console.kpis import kpis_download, kpis_page
from care_scheduler.console.login import LIMITER, login, login_page, logout
from care_scheduler.console.maintenance import announce, maintenance_page, window_action, window_page
from care_scheduler.console.pages import PREFIX
from care_scheduler.console.record_gaps import record_gaps_download, record_gaps_page
from care_scheduler.console.reports import birthdays_download, birthdays_page
from care_scheduler.console.team import set_password, set_password_page, team_action, team_page
from care_scheduler.console.ticket_register import ticket_register_download, ticket_register_page
from care_scheduler.console.tickets import new_ticket, new_ticket_form, ticket_action, ticket_page
from care_scheduler.console.visits import visit_form, visit_save, visits_due_download, visits_due_page
from carecore.config import Settings
from carecore.limits import WindowLimiter


def setup_console(app: web.Application, settings: Settings) -> None:
    """Sessions and routes; called by the care service's factory."""
    # A configured Fernet key (base64 text) is used as is; raw bytes are encoded by aiohttp-session.
    secret: str | bytes = settings.console_secret or secrets.token_bytes(32)
    storage = EncryptedCookieStorage(secret, cookie_name="keycare_console", httponly=True, samesite="Lax",
                                     secure=settings.behind_https, path=PREFIX,
                                     max_age=int(settings.console_session_hours * 3600))
    app.middlewares.append(aiohttp_session.session_middleware(storage))
    app[LIMITER] = WindowLimiter(settings.console_max_failed_logins)
    app.router.add_get(PREFIX, to_inbox)
    app.router.add_get(f"{PREFIX}/", inbox)
    app.router.add_get(f"{PREFIX}/login", login_page)
    app.router.add_post(f"{PREFIX}/login", login)
    app.router.add_post(f"{PREFIX}/logout", logout)
    app.router.add_get(PREFIX + "/tickets/{ticket_id}", ticket_page)
    app.router.add_post(PREFIX + "/tickets/{ticket_id}/{action:ack|note|resolve|followup}", ticket_action)
    app.router.add_get(PREFIX + "/escalations/{escalation_id}", escalation_page)
    app.router.add_post(PREFIX + "/escalations/{escalation_id}/{action:ack|resolve|handback}", escalation_action)
    app.router.add_get(f"{PREFIX}/customers", customers_page)
    app.router.add_get(PREFIX + "/customers/{customer_id}", customer_page)
    contact = PREFIX + "/customers/{customer_id}/contacts/"
    app.router.add_get(contact + "new", contact_form)
    app.router.add_post(contact + "new", contact_save)
    app.router.add_get(contact + "{contact_id}", contact_form)
    app.router.add_post(contact + "{contact_id}", contact_save)
    app.router.add_post(contact + "{contact_id}/remove", contact_remove)
    app.router.add_get(PREFIX + "/customers/{customer_id}/tickets/new", new_ticket_form)
    app.router.add_post(PREFIX + "/customers/{customer_id}/tickets/new", new_ticket)
    app.router.add_get(f"{PREFIX}/reports/birthdays", birthdays_page)
    app.router.add_get(PREFIX + "/reports/birthdays.{format:csv|xlsx}", birthdays_download)
    app.router.add_get(f"{PREFIX}/reports/churn", churn_page)
    app.router.add_get(PREFIX + "/reports/churn.{format:csv|xlsx}", churn_download)
    app.router.add_post(PREFIX + "/reports/churn/{customer_id}/kept", churn_kept)
    app.router.add_get(f"{PREFIX}/reports/arrears", arrears_page)
    app.router.add_get(f"{PREFIX}/reports/visits", visits_due_page)
    app.router.add_get(f"{PREFIX}/reports/gaps", record_gaps_page)
    app.router.add_get(f"{PREFIX}/reports/tickets", ticket_register_page)
    app.router.add_get(PREFIX + "/reports/tickets.{format:csv|xlsx}", ticket_register_download)
    app.router.add_get(PREFIX + "/reports/gaps.{format:csv|xlsx}", record_gaps_download)
    app.router.add_get(f"{PREFIX}/broadcasts", broadcasts_page)
    app.router.add_post(f"{PREFIX}/broadcasts", broadcast_send)
    app.router.add_post(PREFIX + "/broadcasts/{broadcast_id}/cancel", broadcast_cancel)
    app.router.add_get(PREFIX + "/reports/visits.{format:csv|xlsx}", visits_due_download)
    app.router.add_get(PREFIX + "/customers/{customer_id}/visits/new", visit_form)
    app.router.add_post(PREFIX + "/customers/{customer_id}/visits/new", visit_save)
    app.router.add_get(PREFIX + "/reports/arrears.{format:csv|xlsx}", arrears_download)
    app.router.add_get(f"{PREFIX}/team", team_page)
    app.router.add_post(PREFIX + "/team/{manager_id}/{action:password-link|deactivate|activate|reassign}", team_action)
    app.router.add_get(f"{PREFIX}/set-password", set_password_page)
    app.router.add_post(f"{PREFIX}/set-password", set_password)
    app.router.add_get(f"{PREFIX}/kpis", kpis_page)
    app.router.add_get(PREFIX + "/kpis.{format:csv|xlsx}", kpis_download)
    app.router.add_get(f"{PREFIX}/maintenance", maintenance_page)
    app.router.add_post(f"{PREFIX}/maintenance", announce)
    app.router.add_get(PREFIX + "/maintenance/{window_id}", window_page)
    app.router.add_post(PREFIX + "/maintenance/{window_id}/{action:change|cancel}", window_action)
    app.router.add_get(f"{PREFIX}/campaigns", campaigns_page)
    app.router.add_post(f"{PREFIX}/campaigns/run", campaigns_run)
    app.router.add_get(f"{PREFIX}/campaigns/chart.png", campaigns_chart)
