"""Rasa custom actions: every answer comes from MongoDB through ``carecore.repository``."""
