"""Custom actions for the Rasa action server (``python -m rasa_sdk --actions actions``)."""
