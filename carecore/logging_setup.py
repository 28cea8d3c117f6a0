"""Logging for every process: one format, and phone numbers masked in every record."""

from __future__ import annotations

import logging

from carecore.phones import install_log_masking


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_log_masking()
