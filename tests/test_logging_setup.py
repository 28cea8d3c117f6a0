"""The product's logging: the Twilio client's per-request lines stay out below DEBUG, unless asked for."""

from __future__ import annotations

import logging
from typing import Iterator

import pytest

from carecore.logging_setup import CHATTY_LOGGERS, install_product_logging
from carecore.phones import MaskPhoneNumbersFilter


@pytest.fixture(autouse=True)
def restored_levels() -> Iterator[None]:
    before = {name: logging.getLogger(name).level for name in CHATTY_LOGGERS}
    yield
    for name, level in before.items():
        logging.getLogger(name).setLevel(level)


def _reset() -> None:
    for name in CHATTY_LOGGERS:
        logging.getLogger(name).setLevel(logging.NOTSET)


def test_request_lines_are_kept_out_at_info() -> None:
    _reset()
    install_product_logging(logging.INFO)
    twilio_log = logging.getLogger("twilio.async_http_client")
    assert not twilio_log.isEnabledFor(logging.INFO)
    assert twilio_log.isEnabledFor(logging.WARNING)


def test_debug_shows_them() -> None:
    _reset()
    install_product_logging(logging.DEBUG)
    assert logging.getLogger("twilio.async_http_client").level == logging.NOTSET


def test_a_level_the_operator_set_is_kept() -> None:
    _reset()
    logging.getLogger("twilio.async_http_client").setLevel(logging.INFO)
    install_product_logging(logging.INFO)
    assert logging.getLogger("twilio.async_http_client").level == logging.INFO


def test_numbers_are_masked_on_the_root_handlers() -> None:
    root = logging.getLogger()
    handler = logging.NullHandler()
    root.addHandler(handler)
    try:
        install_product_logging()
        install_product_logging()
        assert sum(isinstance(f, MaskPhoneNumbersFilter) for f in handler.filters) == 1
    finally:
        root.removeHandler(handler)
