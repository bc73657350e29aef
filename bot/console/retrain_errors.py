"""What can go wrong in a retraining job: :class:`RetrainError` carries a code, a message for
staff (Chinese) and a detail for the log."""

from __future__ import annotations


class RetrainError(RuntimeError):
    """A step of the job failed; ``message`` is for staff (Chinese), ``str()`` for the log."""

    def __init__(self, code: str, message: str, detail: str = ""):
        super().__init__(f"{code}: {detail or message}")
        self.code = code
        self.message = message


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    errors = [line for line in lines if "error" in line.lower() or "exception" in line.lower()]
    return (errors or lines or [""])[-1][-300:]
