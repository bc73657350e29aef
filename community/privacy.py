"""Masking of residents' personal data: 张*明, 138****5678, 1101**********1234.

:class:`MaskingFilter` masks phone numbers and 身份证号 in every log record, so personal data
never reaches application logs unmasked.
"""

from __future__ import annotations

import logging
import re

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


class MaskingFilter(logging.Filter):
    """A logging filter that masks personal data in the formatted message."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to the handler to report
            return True
        masked = mask_text(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def install_log_masking(logger: logging.Logger | None = None) -> None:
    """Attach :class:`MaskingFilter` to every handler of ``logger`` (default: root)."""
    logger = logger or logging.getLogger()
    for handler in logger.handlers:
        if not any(isinstance(f, MaskingFilter) for f in handler.filters):
            handler.addFilter(MaskingFilter())


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
