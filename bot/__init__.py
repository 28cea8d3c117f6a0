"""Custom Rasa components of the assistant (tokenizer, Twilio SMS input channel).

Importing the package masks phone numbers in the Rasa server's log handlers:
conversation ids of SMS users contain the number.
"""

from carecore.phones import install_log_masking

install_log_masking()
