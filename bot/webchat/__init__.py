"""The resident web chat: one page at ``/`` and a thin proxy to Rasa's REST channel."""
