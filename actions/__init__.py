"""Rasa custom actions: every answer comes from MongoDB through ``carecore.repository``.

Importing the package masks phone numbers in the action server's log handlers.
"""

from carecore.phones import install_log_masking

install_log_masking()
