"""Structural rules the design relies on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("carecore", "actions", "bot", "care_scheduler", "localrun")
SOURCES = [p for d in (*PRODUCT, "benchmarks") for p in (ROOT / d).rglob("*.py")]
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


def test_the_shared_package_does_not_load_the_one_machine_tools() -> None:
    """``carecore`` holds the domain and its adapters; the emulator, seeding and mongod launcher live in ``localrun``."""
    modules = sorted(f"carecore.{'.'.join(p.relative_to(ROOT / 'carecore').with_suffix('').parts)}"
                     for p in (ROOT / "carecore").rglob("*.py") if p.name != "__init__.py")
    code = f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n" \
           "print(sorted(m for m in sys.modules if m.startswith('localrun')))"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_product_module_is_over_500_lines() -> None:
    sizes = {str(p.relative_to(ROOT)): len(p.read_text(encoding="utf-8").splitlines())
             for d in PRODUCT for p in (ROOT / d).rglob("*.py")}
    assert {path: n for path, n in sizes.items() if n > 500} == {}
