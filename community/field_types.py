"""The one registry of request-form field types: what each type is called, the words a
resident uses to name such a field when correcting it ("电话改成…"), and, for personal data, how
its value is masked (which also makes it sealed in the conversation and masked in lists and
logs). The forms file (``catalogue/forms/requests.yml``) may use only these types; the form
filler reads each type's value with the parser registered for it
(:data:`community.form_filling.PARSERS`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from community.privacy import mask_address, mask_id_number, mask_name, mask_phone


@dataclass(frozen=True)
class FieldType:
    name: str
    label_words: tuple[str, ...] = ()  # besides the field's own label
    mask: Callable[[str], str] | None = None  # set: the value is personal data

    @property
    def personal(self) -> bool:
        return self.mask is not None


_PHONE_WORDS = ("电话", "手机", "号码")

FIELD_TYPES: dict[str, FieldType] = {
    t.name: t
    for t in (
        FieldType("name", ("名字", "姓名"), mask_name),
        FieldType("age", ("年龄", "岁数", "年纪")),
        FieldType("child_age"),
        FieldType("address", ("地址", "住址", "门牌", "房号", "住的"), mask_address),
        FieldType("phone", _PHONE_WORDS, mask_phone),
        FieldType("phone_optional", _PHONE_WORDS, mask_phone),
        FieldType("id_number", ("身份证",), mask_id_number),
        FieldType("date", ("日期", "哪天", "日子")),
        FieldType("time", ("时间", "几点", "钟点")),
        FieldType("text"),
        FieldType("choice"),
        FieldType("certificate"),
    )
}
PERSONAL_TYPES = frozenset(name for name, t in FIELD_TYPES.items() if t.personal)
