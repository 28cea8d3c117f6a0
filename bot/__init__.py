"""Custom Rasa components of the assistant (tokenizer, Twilio SMS input channel)."""
