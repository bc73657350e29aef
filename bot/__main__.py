"""`python -m bot`: run the Rasa server, the action server and the web chat together."""

from bot.launcher import main

raise SystemExit(main())
