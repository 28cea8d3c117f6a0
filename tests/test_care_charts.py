"""The report chart renders Chinese with a real CJK font (installed by `make system-deps`)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from care_scheduler.charts import cjk_font, plot_sends_per_day


def test_a_cjk_font_is_installed_and_found() -> None:
    font = cjk_font()
    assert font is not None and "CJK" in font, "install Debian's fonts-noto-cjk (make system-deps)"


def test_chart_of_sends_per_day(tmp_path: Path) -> None:
    days = {"2026-11-21": {}, "2026-11-22": {"delivered": 120, "failed": 3, "suppressed": 7},
            "2026-11-23": {"delivered": 80, "queued": 12, "undelivered": 2}}
    path = plot_sends_per_day(days, tmp_path / "chart.png")
    with Image.open(path) as image:
        assert image.format == "PNG" and image.width >= 600 and image.height >= 400
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 10  # bars, text and legend, not a blank canvas
