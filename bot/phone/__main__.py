"""`python -m bot.phone`: the phone line alone (SIP on udp SIP_PORT; 月探访 calls)."""

import sys

from bot.phone.app import main

sys.exit(main())
