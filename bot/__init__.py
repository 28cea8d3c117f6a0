"""The assistant's Rasa side: tokenizer, policies, channels, tracker store, and the Rasa fixes.

Importing this package changes nothing in Rasa: ``bot.rasa_compat.install()`` does,
once, when ``python -m bot`` starts a Rasa command.
"""
