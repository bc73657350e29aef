"""The Telegram channel: residents talk to the assistant from their phones, by text or voice.

A python-telegram-bot v22 application (long polling) that is a client of Rasa's REST channel.
See :mod:`bot.telegram.app` for the behaviour and :mod:`bot.telegram.settings` for the variables.
"""
