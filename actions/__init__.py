"""Rasa custom actions: every answer comes from MongoDB through ``carecore.repository``.

Importing the package masks phone numbers in the action server's log handlers and quiets the
Twilio client's per-request lines.
"""

from carecore.logging_setup import install_product_logging

install_product_logging()
