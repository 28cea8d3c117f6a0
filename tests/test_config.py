"""Settings: every one is documented where a newcomer looks first."""

from __future__ import annotations

from pathlib import Path

from carecore.config import Settings

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_setting_is_in_the_readmes_configuration_table() -> None:
    table = README.read_text(encoding="utf-8").split("## Configuration", 1)[1].split("\n## ", 1)[0]
    missing = [name.upper() for name in Settings.__fields__ if f"`{name.upper()}`" not in table]
    assert not missing, f"settings missing from the README's configuration table: {', '.join(missing)}"


def test_the_readme_stays_under_25_kb() -> None:
    """Detail goes to docs/; the README is a newcomer's first page, and stays short as the product grows."""
    assert len(README.read_bytes()) < 25 * 1024
