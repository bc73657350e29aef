"""`python -m bot.action_server -p PORT`: Rasa's action server (rasa_sdk) serving ``actions``,
with every log record masked (a failing action's traceback can quote a resident's details)."""

from __future__ import annotations

import sys

from community.privacy import install_log_masking


def main() -> None:
    install_log_masking()
    from rasa_sdk.__main__ import main as sdk_main

    sys.argv = ["rasa_sdk", "--actions", "actions", *sys.argv[1:]]
    sdk_main()


if __name__ == "__main__":
    main()
