"""Resident questions that mean the same thing folded into one :class:`QuestionGroup` with a
count (:func:`group_questions`), so 30 residents asking the same new thing, each in their own
words, are one item in the staff's review queue. Pure functions; nothing here imports Rasa.

A question is compared by what the assistant itself reads (its classifier's features): the
characters and the pinyin of its words (1-2 grams), once wording that carries no meaning is
gone (greetings, 有没有/能不能 frames, particles) and everyday words residents use for the
same thing are one word (剪头发/剃头 → 理发, 在家/到家 → 上门). Pinyin makes homophones and
speech-recognition slips (停车废, 冲电桩) the same question.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from pypinyin import lazy_pinyin

from community.textnorm import clean_text

# Words that carry no meaning for "is this the same question": greetings, politeness, the
# frames of a yes/no question (有没有…, 能不能…, 我想…). Longest first.
_FILLERS = sorted(
    {
        "请问一下", "请问", "问一下", "想问一下", "我想问一下", "我想问", "想问", "打听一下",
        "麻烦问一下", "麻烦问下", "麻烦您", "麻烦", "打扰一下", "打扰了", "您好", "你好", "你们好",
        "老师好", "在吗", "谢谢您", "谢谢", "多谢", "劳驾", "同志",
        "有没有", "能不能", "可不可以", "可以", "会不会", "是不是", "我想", "想要", "我要", "想",
        "我们", "咱们", "社区里", "小区里",
    },
    key=len,
    reverse=True,
)
_FILLER_RE = re.compile("|".join(re.escape(f) for f in _FILLERS))
# Particles and structural words that residents add or drop freely.
_PARTICLES = str.maketrans("", "", "的了吗呢啊呀吧哦嘛哈啦嗯噢喔个")
# Everyday words for one thing, as residents say them → the word the group is read by.
# Grouping only (never training data): two wordings of one need should meet.
_SAME_THING = {
    "理发": ("剪头发", "剪个头", "剪头", "剪发", "剃头", "推头", "理个发", "理发师", "理发"),
    "上门": ("到家里来", "来家里", "到家里", "到家", "在家里", "在家", "家里", "上门来", "上门"),
    "老人": ("老年人", "老人家", "长者", "老头", "老太太", "老人"),
    "快递柜": ("丰巢快递柜", "丰巢柜", "丰巢", "快递箱", "智能快递柜", "快递柜子", "快递柜"),
    "在哪": ("在什么地方", "什么地方", "在哪儿", "在哪里", "在哪", "哪里有", "哪儿有"),
    "充电桩": ("充电站", "充电口", "充电插座", "充电桩"),
    "电动车": ("电瓶车", "电单车", "电动自行车", "电动车"),
    "看不清": ("看不见", "看不清楚", "看不清"),
    "糖尿病": ("血糖高", "高血糖", "糖尿病"),
}
_SAME_WORDS = sorted({w for ws in _SAME_THING.values() for w in ws}, key=len, reverse=True)
_SAME_RE = re.compile("|".join(re.escape(w) for w in _SAME_WORDS))
_CANONICAL = {w: k for k, ws in _SAME_THING.items() for w in ws}
# Similarity (see :func:`similarity`) from which two questions are the same one asked
# differently. Tuned on the cases in tests/unit/community/test_question_groups.py: fillers, particles,
# punctuation, traditional characters and homophone typos cost nothing; paraphrases of one need
# (有没有上门理发 / 想约个理发师上门 / 老人能不能在家剪头发) meet; two questions about the same
# thing (高龄津贴怎么申请 / 高龄津贴什么时候发, 快递柜在哪 / 快递柜坏了找谁, 居住证 / 身份证怎么办)
# stay below it. Staff see every member of a group and can move one (bulk "assign a group").
GROUP_THRESHOLD = 0.7
# A shorter question contained in a longer one (字太小了 / 字太小了看不清) is the same question
# when it is at least this big a part of it.
CONTAINED_MIN_RATIO = 0.4


@dataclass(frozen=True)
class QuestionGroup:
    """Unanswered questions that mean the same thing, shown to staff as one item."""

    key: str  # stable id of the group (from its representative's normalised text)
    text: str  # representative text: the most frequent wording, cleaned
    count: int
    ids: list[int]
    channels: list[str]
    latest: dt.datetime
    top_intents: list[dict]  # [{"name", "confidence"}], averaged over the group, best first
    reasons: tuple[str, ...] = ()  # why its questions were recorded (fallback, out_of_scope…)
    domains: tuple[str, ...] = ()  # the domains the assistant recognised


def question_key(text: str) -> str:
    """What is left of a question when wording that does not change its meaning is removed:
    traditional/full-width characters, case, punctuation, spaces, fillers and particles, and
    everyday words for one thing written as one."""
    norm = clean_text(text).lower()
    norm = "".join(c for c in norm if unicodedata.category(c)[0] in ("L", "N"))
    same = _SAME_RE.sub(lambda m: _CANONICAL[m.group(0)], norm)
    stripped = _FILLER_RE.sub("", same).translate(_PARTICLES)
    return stripped or norm  # "你好" alone stays "你好"


@functools.lru_cache(maxsize=20000)
def features(key: str) -> frozenset[str]:
    """Character and pinyin 1-2 grams of a question key (the classifier's kinds of feature)."""
    syllables = lazy_pinyin(key, errors=lambda rest: list(rest))
    chars = frozenset(key) | frozenset(key[i : i + 2] for i in range(len(key) - 1))
    sounds = frozenset("p:" + s for s in syllables) | frozenset(
        f"p:{a}_{b}" for a, b in zip(syllables, syllables[1:], strict=False)
    )
    return chars | sounds


def similarity(a: frozenset[str], b: frozenset[str]) -> float:
    """Dice coefficient of two feature sets, or, when the shorter question is contained in the
    longer one and not tiny beside it, the share of the shorter one found in the longer."""
    if not a or not b:
        return 0.0
    shared = len(a & b)
    dice = 2 * shared / (len(a) + len(b))
    small, big = sorted((len(a), len(b)))
    if small / big >= CONTAINED_MIN_RATIO:
        return max(dice, shared / small)
    return dice


def same_question(a: str, b: str, threshold: float = GROUP_THRESHOLD) -> bool:
    """Whether two texts are one question (for counting a resident's repeats once)."""
    return similarity(features(question_key(a)), features(question_key(b))) >= threshold


# Kept for callers of the first version.
_features = features
_similarity = similarity


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
    """Group questions that mean the same thing (rows as from ``ReviewQueue.pending()``).

    Questions are reduced to :func:`question_key`; equal keys are one group at once, and a key
    joins the group of its most similar member (:func:`similarity` of :func:`features`) when
    that reaches ``threshold``. Candidates are found through an inverted index of character
    bigrams and pinyin syllables, so a few thousand rows take well under a second. A row that
    staff put in a group by hand (``manual_group``: that group's key) goes there. Sorted by
    count, then most recent: the largest and newest first.
    """
    manual = [r for r in rows if r.get("manual_group")]
    rows = [r for r in rows if not r.get("manual_group")]
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
    members: list[list[tuple[str, frozenset[str]]]] = []
    index: dict[str, set[int]] = defaultdict(set)
    for key in keys:
        feats = features(key)
        probes = {f for f in feats if len(f) == 2 or f.startswith("p:")} or feats
        candidates = {g for f in probes for g in index.get(f, ())}
        joined = sorted(
            g
            for g in candidates
            if members[g] and max(similarity(feats, o) for _, o in members[g]) >= threshold
        )
        if not joined:
            members.append([(key, feats)])
            best = len(members) - 1
        else:
            # The question links groups that each match it: they are one group (the first
            # formed keeps its leader, so its key stays stable).
            best = joined[0]
            for g in joined[1:]:
                members[best].extend(members[g])
                members[g] = []
                for groups in index.values():
                    if g in groups:
                        groups.discard(g)
                        groups.add(best)
            members[best].append((key, feats))
        for f in probes:
            index[f].add(best)
    members = [m for m in members if m]

    groups: dict[str, list[tuple[dict, str, dt.datetime]]] = {}
    leaders: dict[str, str] = {}
    for group_keys in members:
        leader = group_keys[0][0]
        key = hashlib.sha1(leader.encode("utf-8")).hexdigest()[:12]
        groups[key] = [item for k, _ in group_keys for item in by_key[k]]
        leaders[key] = leader
    for row in manual:  # put in a group by staff: there, or a group of its own under that key
        text = row.get("text") or ""
        groups.setdefault(str(row["manual_group"]), []).append(
            (row, clean_text(text), _aware(row.get("created_at")))
        )

    out = []
    for key, items in groups.items():
        leader = leaders.get(key)
        lead_items = by_key[leader] if leader is not None else items
        wordings: Counter[str] = Counter()
        wording_time: dict[str, dt.datetime] = {}
        for _, cleaned, when in lead_items:
            wordings[cleaned] += 1
            wording_time[cleaned] = max(when, wording_time.get(cleaned, when))
        text = max(wordings, key=lambda w: (wordings[w], wording_time[w]))
        latest_row = max(items, key=lambda item: item[2])[0]
        group_rows = [item[0] for item in items]
        out.append(
            QuestionGroup(
                key=key,
                text=text,
                count=len(group_rows),
                ids=sorted(int(r["id"]) for r in group_rows),
                channels=sorted({str(r.get("channel") or "unknown") for r in group_rows}),
                latest=latest_row.get("created_at"),
                top_intents=_merge_intents(group_rows),
                reasons=tuple(sorted({str(r.get("reason")) for r in group_rows if r.get("reason")})),
                domains=tuple(sorted({str(r.get("domain")) for r in group_rows if r.get("domain")})),
            )
        )
    out.sort(key=lambda g: (-g.count, -_aware(g.latest).timestamp(), g.key))
    return out
