"""``python -m voice``: the offline voice kiosk (see :mod:`voice.cli`)."""

from voice.cli import main

raise SystemExit(main())
