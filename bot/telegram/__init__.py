"""The Telegram channel: residents talk to the assistant from their phones, by text or voice.

A python-telegram-bot v22 application that adapts the resident service
(:mod:`bot.resident.service`) to Telegram. See :mod:`bot.telegram.app` for how it is wired and
:mod:`bot.telegram.settings` for the variables.
"""
