"""Near-duplicate resident questions folded into one :class:`QuestionGroup` with a count
(:func:`group_questions`), so 30 residents asking the same new thing are one item in the
staff's review queue. Pure functions; nothing here imports Rasa."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from community.textnorm import clean_text

# Words that carry no meaning for "is this the same question": greetings, politeness, particles.
# Longest first, so 麻烦问一下 goes before 问一下.
_FILLERS = sorted(
    {
        "请问一下", "请问", "问一下", "想问一下", "我想问一下", "我想问", "想问", "打听一下",
        "麻烦问一下", "麻烦问下", "麻烦您", "麻烦", "打扰一下", "打扰了", "您好", "你好", "你们好",
        "老师好", "在吗", "谢谢您", "谢谢", "多谢", "劳驾", "同志",
    },
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(re.escape(f) for f in _FILLERS))
# Particles and structural words that residents add or drop freely.
_PARTICLES = str.maketrans("", "", "的了吗呢啊呀吧哦嘛哈啦嗯噢喔")
# Similarity (Dice coefficient over character unigrams + bigrams) from which two questions
# are the same one asked differently. Tuned on the cases in tests/review/test_grouping.py:
# fillers, particles, punctuation and traditional characters cost nothing, one typo in a short
# question or two in a longer one stay above it; two questions about the same thing
# (高龄津贴怎么申请 / 高龄津贴什么时候发, 居住证 / 身份证怎么办) stay below. Character n-grams cannot
# tell a typo from a different word, so two long questions that differ in one word can still
# meet (新冠疫苗 / 流感疫苗第三针在哪里打): staff see every member of a group.
GROUP_THRESHOLD = 0.7


@dataclass(frozen=True)
class QuestionGroup:
    """Near-duplicate unanswered questions, shown to staff as one item."""

    key: str  # stable id of the group (from its representative's normalised text)
    text: str  # representative text: the most frequent wording, cleaned
    count: int
    ids: list[int]
    channels: list[str]
    latest: dt.datetime
    top_intents: list[dict]  # [{"name", "confidence"}], averaged over the group, best first


def question_key(text: str) -> str:
    """What is left of a question when wording that does not change its meaning is removed:
    traditional/full-width characters, case, punctuation, spaces, fillers and particles."""
    norm = clean_text(text).lower()
    norm = "".join(c for c in norm if unicodedata.category(c)[0] in ("L", "N"))
    stripped = _FILLER_RE.sub("", norm).translate(_PARTICLES)
    return stripped or norm  # "你好" alone stays "你好"


def _features(key: str) -> frozenset[str]:
    return frozenset(key) | frozenset(key[i : i + 2] for i in range(len(key) - 1))


def _similarity(a: frozenset[str], b: frozenset[str]) -> float:
    if not a or not b:
        return 0.0
    return 2 * len(a & b) / (len(a) + len(b))


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if not isinstance(value, dt.datetime):
        return dt.datetime.min.replace(tzinfo=dt.timezone.utc)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def _merge_intents(rows: list[dict], limit: int = 3) -> list[dict]:
    totals: dict[str, float] = defaultdict(float)
    scored = 0
    for row in rows:
        intents = row.get("top_intents") or []
        if not intents:
            continue  # a 👎 has no ranking; it should not pull the averages down
        scored += 1
        for item in intents:
            if item.get("name"):
                totals[item["name"]] += float(item.get("confidence", 0.0))
    if not scored:
        return []
    merged = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [{"name": name, "confidence": round(total / scored, 4)} for name, total in merged]


def group_questions(rows: list[dict], threshold: float = GROUP_THRESHOLD) -> list[QuestionGroup]:
    """Group near-duplicate questions (rows as from ``ReviewQueue.list()``).

    Questions are reduced to :func:`question_key`; equal keys are one group at once, and a key
    joins an existing group when its character n-gram similarity to the group's leader (its
    most frequent wording) reaches ``threshold``. Candidates are found through an inverted index
    of bigrams, so a few thousand rows take milliseconds. Sorted by count, then most recent.
    """
    # (row, cleaned text, time) by question key; each text is normalised once.
    by_key: dict[str, list[tuple[dict, str, dt.datetime]]] = defaultdict(list)
    for row in rows:
        text = row.get("text") or ""
        cleaned = clean_text(text)
        key = question_key(text) or f"#raw:{text}"
        by_key[key].append((row, cleaned, _aware(row.get("created_at"))))

    # Most frequent wordings lead: they make the best representatives and group centres.
    newest = {k: max(when for _, _, when in items) for k, items in by_key.items()}
    keys = sorted(by_key, key=lambda k: (-len(by_key[k]), -newest[k].timestamp(), k))
    leaders: list[tuple[str, frozenset[str]]] = []
    members: list[list[str]] = []
    index: dict[str, list[int]] = defaultdict(list)
    for key in keys:
        feats = _features(key)
        bigrams = {f for f in feats if len(f) == 2} or feats
        candidates = {g for f in bigrams for g in index.get(f, ())}
        best, best_score = -1, threshold
        for g in candidates:
            score = _similarity(feats, leaders[g][1])
            if score >= best_score:
                best, best_score = g, score
        if best < 0:
            leaders.append((key, feats))
            members.append([key])
            for f in bigrams:
                index[f].append(len(leaders) - 1)
        else:
            members[best].append(key)

    groups = []
    for (leader, _), group_keys in zip(leaders, members, strict=True):
        items = [item for k in group_keys for item in by_key[k]]
        wordings: Counter[str] = Counter()
        wording_time: dict[str, dt.datetime] = {}
        for _, cleaned, when in by_key[leader]:
            wordings[cleaned] += 1
            wording_time[cleaned] = max(when, wording_time.get(cleaned, when))
        text = max(wordings, key=lambda w: (wordings[w], wording_time[w]))
        latest_row = max(items, key=lambda item: item[2])[0]
        group_rows = [item[0] for item in items]
        groups.append(
            QuestionGroup(
                key=hashlib.sha1(leader.encode("utf-8")).hexdigest()[:12],
                text=text,
                count=len(group_rows),
                ids=sorted(int(r["id"]) for r in group_rows),
                channels=sorted({str(r.get("channel") or "unknown") for r in group_rows}),
                latest=latest_row.get("created_at"),
                top_intents=_merge_intents(group_rows),
            )
        )
    groups.sort(key=lambda g: (-g.count, -_aware(g.latest).timestamp(), g.key))
    return groups


