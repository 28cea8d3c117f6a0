"""The care service's typed app keys: what its handlers find on ``request.app``, in one place."""

from __future__ import annotations

from aiohttp import web

from care_scheduler.casework import Casework
from care_scheduler.jobs import CareJobs
from care_scheduler.leader import Leadership
from carecore.clock import Clock
from carecore.config import Settings
from carecore.repository import Database
from carecore.sms.gateway import SmsGateway

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)  # type: ignore[type-abstract]
DB = web.AppKey("db", Database)
GATEWAY = web.AppKey("gateway", SmsGateway)
JOBS = web.AppKey("jobs", CareJobs)
LEADERSHIP = web.AppKey("leadership", Leadership)
CASEWORK = web.AppKey("casework", Casework)
