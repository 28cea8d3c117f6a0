"""Logging for every process: one format, phone numbers masked in every record, and no per-request noise."""

from __future__ import annotations

import logging
from typing import Optional

from carecore.phones import install_log_masking

# twilio-python logs each request's URL, query and headers at INFO: a campaign's log would hold little
# else. Below DEBUG they are kept out, unless the operator has set these loggers' levels themselves.
CHATTY_LOGGERS = ("twilio.async_http_client", "twilio.http_client")


def install_product_logging(level: Optional[int] = None) -> None:
    """Mask numbers on the root handlers and quiet the chatty libraries; safe to call more than once."""
    install_log_masking()
    effective = logging.getLogger().getEffectiveLevel() if level is None else level
    if effective <= logging.DEBUG:
        return
    for name in CHATTY_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.WARNING)


def setup_logging(level: str = "INFO") -> None:
    logging.basicConfig(level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    install_product_logging()
