"""No training example is a held-out message or a near copy of one (nlu_data_holdout/: the
residents' outcome sets, the intent split, the review cycle's new wordings). A near copy in
training makes the held-out figures say nothing about messages nobody has seen."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from community.textnorm import clean_text

ROOT = Path(__file__).resolve().parents[3]
# Share of character pairs two texts have in common (Jaccard) from which one is a copy of the
# other, once traditional characters, markup and spaces are set aside: "法律援助怎麼申請" of
# "[法律援助](service)怎么申请" is 1.0. Short canonical questions (低保怎么申请, 对对) are
# bound to be worded alike anywhere, so only messages of MIN_CHARS or more count.
NEAR_COPY = 0.8
MIN_CHARS = 8


def plain(text: str) -> str:
    return clean_text(re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)).lower().replace(" ", "")


def pairs(text: str) -> frozenset[str]:
    words = plain(text)
    if len(words) < MIN_CHARS:
        return frozenset()
    return frozenset(words[i : i + 2] for i in range(len(words) - 1))


def examples(block: dict) -> list[str]:
    lines = (line.strip() for line in (block.get("examples") or "").splitlines())
    return [line[2:] for line in lines if line.startswith("- ")]


def held_out() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "nlu_data_holdout").rglob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        where = str(path.relative_to(ROOT))
        found += [(m["text"], where) for m in data.get("messages") or []]
        found += [(t, where) for faq in data.get("faqs") or [] for t in faq.get("new") or []]
        found += [(t, where) for block in data.get("nlu") or [] for t in examples(block)]
    return found


def trained() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "nlu_data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        found += [(t, path.name) for block in data.get("nlu") or [] for t in examples(block)]
    return found


def test_the_check_sees_every_held_out_set_and_the_training_data():
    sources = {where for _, where in held_out()}
    assert {"nlu_data_holdout/residents.yml", "nlu_data_holdout/fresh/residents.yml"} <= sources
    assert any(where.startswith("nlu_data_holdout/intents/") for where in sources)
    assert len(trained()) > 1000


def test_no_training_example_is_a_near_copy_of_a_held_out_message():
    held = [(pairs(text), text, where) for text, where in held_out()]
    copies = []
    for text, name in trained():
        mine = pairs(text)
        for theirs, held_text, where in held:
            if mine and theirs and len(mine & theirs) / len(mine | theirs) >= NEAR_COPY:
                copies.append(f"{name}: {text!r} ~ {where}: {held_text!r}")
    assert copies == []
