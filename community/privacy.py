"""Masking of residents' personal data: 张*明, 138****5678, 1101**********1234.

:class:`MaskingFilter` masks phone numbers, 身份证号, addresses and the personal values the
current request is known to hold (:func:`known_personal_values`) in every log record, its
traceback included, so personal data never reaches application logs unmasked. Every process
installs it once with :func:`install_log_masking`.
"""

from __future__ import annotations

import contextvars
import logging
import re
from typing import Iterable

_ID_NUMBER = re.compile(r"(?<!\d)(\d{4})\d{10}(\d{3}[\dXx])(?!\d)")
_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
_LANDLINE = re.compile(r"(?<![\d-])(0\d{2,3}-?)\d{3,4}(-?\d{2})(\d{2})(?![\d-])")


def mask_name(name: str) -> str:
    name = (name or "").strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_phone(phone: str) -> str:
    digits = re.sub(r"\D", "", phone or "")
    if len(digits) == 11 and digits.startswith("1"):
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) >= 7:
        return f"{digits[:3]}{'*' * (len(digits) - 7)}****{digits[-4:]}"[: len(digits)]
    return "*" * len(digits)


def mask_id_number(id_number: str) -> str:
    value = (id_number or "").strip()
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_text(text: str) -> str:
    """Mask 身份证号 and phone numbers wherever they appear in free text."""
    if not text:
        return text
    text = _ID_NUMBER.sub(lambda m: m.group(1) + "*" * 10 + m.group(2), text)
    text = _MOBILE.sub(lambda m: m.group(1) + "****" + m.group(2), text)
    return _LANDLINE.sub(lambda m: m.group(1) + "****" + m.group(3), text)


# The personal values (names, phones, addresses) the code running now is handling, value →
# mask: an action filling a form sets them, so a name in a traceback is masked too.
_KNOWN: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("known_personal", default=None)


def known_personal_values(values: Iterable[tuple[str, str]]) -> None:
    """Mask these (value, mask) pairs in any log record written from the current context."""
    known = dict(_KNOWN.get() or {})
    known.update((v, m) for v, m in values if isinstance(v, str) and len(v) >= 2)
    _KNOWN.set(known)


def mask_log_text(text: str) -> str:
    return mask_known(text, _KNOWN.get() or {})


class MaskingFilter(logging.Filter):
    """Masks personal data in the formatted message and in the traceback of a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "_masked", False):
            return True
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask_log_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_log_text(record.exc_text)
            record.exc_info = None  # handlers print the masked exc_text, never the live exception
        if record.stack_info:
            record.stack_info = mask_log_text(record.stack_info)
        record._masked = True
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Mask every log record of this process, whichever handler prints it.

    Records are masked when they are made (the log record factory), so handlers added later
    (Rasa and Sanic configure theirs after start-up) print masked text too; the filter is also
    attached to the handlers of ``logger`` (default: root) that exist now."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())
    factory = logging.getLogRecordFactory()
    if getattr(factory, "masks_personal_data", False):
        return
    masking = MaskingFilter()

    def masked_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = factory(*args, **kwargs)
        masking.filter(record)
        return record

    masked_record.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)


_ADDRESS = re.compile(
    r"(?P<b>[0-9一二三四五六七八九十]+\s*(?:号楼|栋|幢|座))\s*(?:[0-9一二三四五六七八九十]+\s*单元)?\s*\d{3,4}\s*(?:室|号|房)?"
)


def mask_address(address: str) -> str:
    """3栋2单元501 → 3栋***: the building stays (enough to plan visits), unit and room go."""
    if not address:
        return ""
    head = address.split("栋", 1)
    return head[0] + "栋***" if len(head) == 2 else address[:2] + "***"


def mask_addresses(text: str) -> str:
    """Mask 楼栋/单元/门牌 addresses wherever they appear in free text."""
    return _ADDRESS.sub(lambda m: m.group("b") + "***", text) if text else text


def mask_known(text: str, known: dict[str, str]) -> str:
    """Replace each known personal value (name, phone, address…) in ``text`` by its mask, then
    mask any other phone number, 身份证号 or address."""
    if not text:
        return text
    for value in sorted(known, key=len, reverse=True):
        if value and value in text:
            text = text.replace(value, known[value])
    return _LONG_DIGITS.sub(_mask_digits, mask_addresses(mask_text(text)))


# Any other long run of digits (a mistyped phone or 身份证号) in conversation text; reference
# numbers (SQ-20261129-0003) stay readable.
_LONG_DIGITS = re.compile(r"(?<!SQ-)(?<![\d\-])\d{7,}(?!\d)")


def _mask_digits(match: re.Match[str]) -> str:
    digits = match.group(0)
    return digits[:3] + "*" * (len(digits) - 5) + digits[-2:]
