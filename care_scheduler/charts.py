"""The report chart: SMS per day, stacked by status, labelled in Chinese.

Chinese labels need a CJK font; matplotlib's bundled DejaVu has none and would
draw empty boxes. ``make test``/``make run`` install Debian's fonts-noto-cjk;
without it the chart falls back to English labels rather than boxes.
"""

from __future__ import annotations

import io
import logging
from functools import lru_cache
from pathlib import Path
from typing import Dict, Optional

import matplotlib

matplotlib.use("Agg")  # no display on servers

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import font_manager  # noqa: E402

log = logging.getLogger(__name__)

# Final and in-between states, bottom to top, with colours that read as good / waiting / bad.
STATUS_STYLE = [
    ("delivered", "送达", "delivered", "#2e7d32"),
    ("sent", "已发出", "sent", "#66bb6a"),
    ("queued", "排队", "queued", "#a5d6a7"),
    ("accepted", "已受理", "accepted", "#c8e6c9"),
    ("sending", "发送中", "sending", "#dcedc8"),
    ("pending", "待定", "pending", "#fff59d"),
    ("deferred", "延后", "deferred", "#ffcc80"),
    ("ambiguous", "待核实", "ambiguous", "#ffa726"),
    ("undelivered", "未送达", "undelivered", "#ef9a9a"),
    ("failed", "失败", "failed", "#c62828"),
    ("suppressed", "已抑制", "suppressed", "#9e9e9e"),
]


@lru_cache(maxsize=1)
def cjk_font() -> Optional[str]:
    """Family name of an installed CJK font (Noto Sans CJK preferred), registered with matplotlib."""
    candidates = sorted(
        (path for path in font_manager.findSystemFonts() if "CJK" in Path(path).name or "WenQuanYi" in path),
        key=lambda p: ("Sans" not in p, "Bold" in p, p),
    )
    for path in candidates:
        try:
            font_manager.fontManager.addfont(path)
            return font_manager.FontProperties(fname=path).get_name()
        except (OSError, RuntimeError, ValueError):
            continue
    return None


def plot_sends_per_day(days: Dict[str, Dict[str, int]], path: Path) -> Path:
    """Write a PNG of ``{day: {status: n}}`` and return its path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(sends_per_day_png(days))
    return path


def sends_per_day_png(days: Dict[str, Dict[str, int]]) -> bytes:
    """The chart of ``{day: {status: n}}`` as PNG bytes (the console serves it directly)."""
    font = cjk_font()
    zh = font is not None
    if not zh:
        log.warning("no CJK font found (install fonts-noto-cjk): the chart uses English labels")
    labels = list(days)
    with plt.rc_context({"font.family": [font] if font else ["DejaVu Sans"], "axes.unicode_minus": False}):
        fig, ax = plt.subplots(figsize=(max(6.0, 0.35 * len(labels) + 2), 4.2), dpi=120)
        bottom = [0] * len(labels)
        for status, zh_name, en_name, colour in STATUS_STYLE:
            values = [days[day].get(status, 0) for day in labels]
            if not any(values):
                continue
            ax.bar(range(len(labels)), values, bottom=bottom, color=colour, label=zh_name if zh else en_name)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_xticks(range(len(labels)))
        ax.set_xticklabels([day[5:] for day in labels], rotation=60, fontsize=7)
        ax.set_title("每日短信发送量（按状态）" if zh else "SMS per day by status")
        ax.set_ylabel("条数" if zh else "messages")
        if any(bottom):
            ax.legend(fontsize=7, ncol=2, loc="upper left")
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png")
        plt.close(fig)
    return buffer.getvalue()
