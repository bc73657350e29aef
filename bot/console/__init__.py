"""The staff console (/staff on the web app): review queue, handoff inbox, requests, statistics."""
