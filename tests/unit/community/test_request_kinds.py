"""Which request form a resident's wording opens (catalogue/forms/requests.yml keywords)."""

from pathlib import Path

import pytest

from community.forms import forms_path, load_forms

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def forms():
    return load_forms(forms_path(ROOT / "catalogue"))


@pytest.mark.parametrize(
    "text, kind",
    [
        ("想报个电工培训", "employment"),
        ("我想去学手艺 给我报个名", "employment"),
        ("暑假想把孩子送到看护班", "childcare"),
        ("给我妈报个助餐", "meal"),
        ("帮我开个居住证明", "certificate"),
    ],
)
def test_an_application_in_residents_words_opens_its_form(forms, text, kind):
    spec = forms.for_text(text)
    assert spec is not None and spec.title == forms.kinds[kind].title
