"""Structural rules the design relies on."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = [p for d in ("carecore", "actions", "bot", "care_scheduler", "benchmarks") for p in (ROOT / d).rglob("*.py")]
DRIVER_IMPORT = re.compile(r"^\s*(import|from)\s+(motor|pymongo|bson)\b", re.M)


def test_only_the_repository_package_imports_a_mongodb_driver() -> None:
    repository = ROOT / "carecore" / "repository"
    offenders = [str(p.relative_to(ROOT)) for p in SOURCES
                 if DRIVER_IMPORT.search(p.read_text(encoding="utf-8")) and repository not in p.parents]
    assert offenders == []


def test_no_fake_database_anywhere() -> None:
    requirements = (ROOT / "requirements.txt").read_text().lower()
    assert "mongomock" not in requirements
    for path in SOURCES + list((ROOT / "tests").rglob("*.py")):
        if path.name == "test_architecture.py":
            continue
        assert "mongomock" not in path.read_text(encoding="utf-8"), path


def test_client_side_retries_of_twilio_stay_off() -> None:
    for path in SOURCES:
        assert "max_retries=" not in path.read_text(encoding="utf-8"), path
