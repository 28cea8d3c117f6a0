"""Custom Rasa components of the assistant (tokenizer, channels, tracker store).

The Rasa server imports this package (pipeline, credentials and endpoints name
modules in it) before it handles a message, so process-wide settings live here:
phone numbers are masked in its log handlers (conversation ids of SMS users
contain the number), action-server responses are checked with one compiled
schema validator (``bot.action_validation``), and the reply-language slot
mapping runs here rather than on the action server (``bot.slot_mappings``).
"""

from bot import action_validation, slot_mappings
from carecore.phones import install_log_masking

install_log_masking()
action_validation.install()
slot_mappings.install()
