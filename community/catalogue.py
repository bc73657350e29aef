"""The community service catalogue: YAML files, one per domain, validated at start-up.

A community replaces the sample data by editing (or pointing ``CATALOGUE_DIR`` at) its own
YAML files; no code changes. :func:`load_catalogue` raises :class:`CatalogueError` naming the
file, the entry and the field of the first problem it finds, so a broken catalogue stops
start-up with a message an operator can act on.

Run ``python -m community.catalogue [DIR]`` to check a catalogue without starting anything.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from community import yaml_data
from community.textnorm import (
    FUNCTION_CHARS,
    clean_text,
    common_word,
    has_chinese,
    is_hanzi,
    normalize_aligned,
    readings,
)

DOMAINS: dict[str, str] = {
    "cert": "证明办理",
    "elderly": "养老服务",
    "childcare": "托育服务",
    "employment": "就业服务",
    "disability": "助残服务",
    "legal": "法律服务",
    "health": "健康服务",
    "emergency": "应急求助",
    "community": "社区事务与接诉即办",
    "volunteer": "志愿服务",
}

# Intents answered by each domain's services. Intent names begin with their domain, except the
# 接诉即办 intent (complaint_), which the community domain answers.
DOMAIN_INTENTS: dict[str, tuple[str, ...]] = {
    "cert": ("cert_apply",),
    "elderly": ("elderly_meal", "elderly_homecare", "elderly_daycare", "elderly_allowance"),
    "childcare": ("childcare_nursery", "childcare_afterschool"),
    "employment": ("employment_unemployment", "employment_training", "employment_jobs"),
    "disability": ("disability_support",),
    "legal": ("legal_aid", "legal_mediation"),
    "health": ("health_family_doctor", "health_checkup"),
    "emergency": ("emergency_help",),
    "community": ("complaint_report", "community_assistance", "community_affairs"),
    "volunteer": ("volunteer_signup",),
}

TEXT_FIELDS = (
    "name", "eligibility", "office", "room", "hours", "phone", "fee", "duration", "online", "notes",
)
_ID = re.compile(r"^[a-z][a-z0-9_]{2,48}$")
_PHONE = re.compile(r"^(\d{3,5}|\d{3,4}-\d{3,4}-?\d{3,4}|1\d{10})$")


class CatalogueError(ValueError):
    """A catalogue file that can't be used; the message names file, entry and field."""

    def __init__(self, file: str, entry: str | None, field_name: str | None, problem: str):
        self.file, self.entry, self.field, self.problem = file, entry, field_name, problem
        where = f"{file}"
        if entry is not None:
            where += f", entry {entry}"
        if field_name is not None:
            where += f", field '{field_name}'"
        super().__init__(f"Service catalogue error in {where}: {problem}")


@dataclass(frozen=True)
class Service:
    id: str
    domain: str
    intent: str
    name: str
    aliases: tuple[str, ...]
    eligibility: str
    materials: tuple[str, ...]
    office: str
    room: str
    hours: str
    phone: str
    fee: str
    duration: str
    online: str
    notes: str
    committee_issues: bool | None = None
    go_instead: str = ""
    source: str = ""
    # Words residents use for the need without naming the service (catalogue/words/*.yml): they
    # help pick the service of a question in its domain, never decide the intent or the domain.
    words: tuple[str, ...] = ()
    # English names residents mix into Chinese (catalogue/english.yml: wheelchair, dibao,
    # health certificate): found like the aliases, on word boundaries; kept apart from the
    # aliases because service_similarity compares Chinese character pairs, which letters lack.
    english: tuple[str, ...] = ()
    # The services of other domains this one is the disabled residents' own of (残疾人就业帮扶
    # for 岗位推荐和招聘会): a resident who says they are disabled hears both.
    for_the_disabled_of: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        """Everything that names the service: its name, aliases and English names."""
        return (self.name, *self.aliases, *self.english)

    @property
    def no_longer_issued(self) -> bool:
        """A certificate the residents' committee no longer issues (the plan's clean-up)."""
        return self.committee_issues is False

    @property
    def where(self) -> str:
        return f"{self.office}{self.room}"

    @property
    def emergency_line(self) -> bool:
        """Its phone is an emergency number (110, 119, 120): someone in danger now calls it."""
        return self.phone.isdigit() and len(self.phone) <= 3


# Where a resident's question is: clauses end at punctuation or a space, except a space
# beside an English word, which residents type around it as they switch keyboards ("党员
# organization relation 怎么转", "员工都要办 health certificate 吗").
_CLAUSE = re.compile(r"(?:[^，。！？；、,.!?;\s]|(?<=[A-Za-z])\s+|\s+(?=[A-Za-z]))+")
_QUESTION = re.compile(
    r"[？?]|吗|(?<![这那多要])么|嘛|呢|不$|没得|多少|多久|几点|哪|啥|咋|怎|什么|谁|能不能|可不可以|是不是|有没有|要不要|如何|请问|想问|问一下|咨询"
    r"|(?<![A-Za-z])(?:how|where|what|when|which|who)(?![A-Za-z])",
    re.IGNORECASE,
)
# A question clause this short ("在哪", "要带啥", "能领吗") asks about the clause before it;
_FOLLOW_UP_CHARS = 5
# ... and so does one made only of these words, however long ("要办什么手续", "需要带哪些材料",
# "具体怎么办理呢"): it asks how, not what about.
_HOW_WORDS = re.compile(
    r"需要|要|得|办理|办|什么|啥|哪些|哪里|哪儿|哪|手续|材料|证件|资料|东西|流程|步骤|带|交|准备|"
    r"去|到|找|谁|怎么|怎样|如何|咋|具体|一般|都|有|些|呢|吗|呀|啊|吧|嘛|我|们|该|应该|还|可以|能"
)
# A message of this many clauses is a story: services named outside its question are context.
_STORY_CLAUSES = 3


@dataclass(frozen=True)
class Match:
    """A service named in a message: by its characters, or by how it sounds (pinyin)."""

    service: Service
    start: int
    end: int
    alias: str
    by_sound: bool = False

    @property
    def strong(self) -> bool:
        """Three characters or more: specific enough to overrule the intent classifier."""
        return self.end - self.start >= 3


@dataclass
class Catalogue:
    services: list[Service]
    titles: dict[str, str] = field(default_factory=dict)
    _by_id: dict[str, Service] = field(default_factory=dict, repr=False)
    _aliases: list[tuple[str, Service]] = field(default_factory=list, repr=False)
    _words: dict[str, re.Pattern[str]] = field(default_factory=dict, repr=False)
    _sounds: dict[str, list[tuple[str, tuple[frozenset[str], ...], Service]]] | None = field(
        default=None, repr=False
    )
    _disabled_own: dict[str, Service] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id = {s.id: s for s in self.services}
        pairs = [(clean_text(a).lower(), s) for s in self.services for a in s.names]
        # Longest names first, so "无犯罪记录证明" wins over "证明".
        self._aliases = sorted((p for p in pairs if p[0]), key=lambda p: -len(p[0]))
        self._words = {a: _word_pattern(a) for a, _ in self._aliases if _LETTER.search(a)}
        self._disabled_own = {g: s for s in self.services for g in s.for_the_disabled_of}

    def _spans(self, alias: str, haystack: str) -> list[tuple[int, int]]:
        """Where ``alias`` is in ``haystack``: as it is written, or, for a name with letters,
        as whole words (care is not in career; part time is in part-time and parttime)."""
        pattern = self._words.get(alias)
        if pattern is not None:
            return [m.span() for m in pattern.finditer(haystack)] if _LETTER.search(haystack) else []
        spans: list[tuple[int, int]] = []
        start = haystack.find(alias)
        while start != -1:
            spans.append((start, start + len(alias)))
            start = haystack.find(alias, start + 1)
        return spans

    def _sound_index(self) -> dict[str, list[tuple[str, tuple[frozenset[str], ...], Service]]]:
        """Aliases written in Chinese characters, by each (fuzzy) pinyin of their first syllable:
        a character's reading in the alias and its usual one (献血 is said xian xie and xian xue,
        so 献学 and 先血 are heard as it)."""
        if self._sounds is None:
            index: dict[str, list[tuple[str, tuple[frozenset[str], ...], Service]]] = {}
            for alias, service in self._aliases:
                if len(alias) >= 2 and all(is_hanzi(c) for c in alias):
                    sounds = tuple(readings(alias))
                    for first in sounds[0]:
                        index.setdefault(first, []).append((alias, sounds, service))
            self._sounds = index
        return self._sounds

    def matches(self, text: str) -> list[Match]:
        """Every service named in ``text``, without overlaps, in reading order.

        Names and aliases are found by their characters first (longest first), then by their
        pinyin, for what speech recognition and pinyin input write instead (高领津贴, 残疾正,
        失业等级, 托于, 议苗): toneless, zh/z, ch/c, sh/s and -ng/-n alike (southern accents),
        and at least half of the characters the same, so a sound-alike word is not taken for a
        service."""
        haystack = normalize_aligned(text).lower()
        taken = [False] * len(haystack)
        found: list[Match] = []
        for alias, service in self._aliases:
            for start, end in self._spans(alias, haystack):
                if not any(taken[start:end]):
                    taken[start:end] = [True] * (end - start)
                    found.append(Match(service, start, end, alias))
        if not all(taken):
            found += self._sound_matches(haystack, taken)
            found = self._longer_by_sound(haystack, found)
        return sorted(found, key=lambda m: m.start)

    def _longer_by_sound(self, haystack: str, found: list[Match]) -> list[Match]:
        """A longer name heard by sound over a short name found by its characters: 放走失手环
        is 防走失手环 (elderly care), not 走失 (a missing person). Only a sound-alike that holds
        the short names whole, differs from its own name in one character and names another
        service replaces them."""
        short = [m for m in found if not m.by_sound and m.end - m.start <= 2]
        if not short:
            return found
        loose = [False] * len(haystack)
        for m in found:
            if m not in short:
                loose[m.start : m.end] = [True] * (m.end - m.start)
        kept = list(found)
        for heard in self._sound_matches(haystack, loose):
            held = [m for m in short if heard.start <= m.start and m.end <= heard.end]
            crossed = [m for m in kept if m.start < heard.end and heard.start < m.end and m not in held]
            same = sum(_same_char(a, b) for a, b in zip(heard.alias, haystack[heard.start : heard.end],
                                                        strict=False))
            if not held or crossed or same < len(heard.alias) - 1 or len(heard.alias) < 3:
                continue
            if all(m.service is heard.service for m in held):
                continue
            kept = [m for m in kept if m not in held] + [heard]
        return kept

    def _sound_matches(self, haystack: str, taken: list[bool]) -> list[Match]:
        index = self._sound_index()
        heard = readings(haystack)
        candidates: list[tuple[int, int, str, Service]] = []
        for i, options in enumerate(heard):
            if taken[i]:
                continue
            for option in options:
                for alias, sounds, service in index.get(option, ()):
                    end = i + len(sounds)
                    if end > len(haystack) or any(taken[i:end]):
                        continue
                    if not all(sounds[k] & heard[i + k] for k in range(len(sounds))):
                        continue
                    span = haystack[i:end]
                    same = sum(_same_char(a, b) for a, b in zip(alias, span, strict=False))
                    if same * 2 < len(alias) or same == len(alias):
                        continue
                    if len(span) == 2 and (common_word(span) or FUNCTION_CHARS & set(span)):
                        continue  # 法院 is a word of its own, not 法援; 管饭不 is not 饭补
                    if (i > 0 and common_word(haystack[i - 1 : i + 1])) or (
                        end < len(haystack) and common_word(haystack[end - 1 : end + 1])
                    ):
                        continue  # it cuts through a word: 领工资 is not 零工
                    candidates.append((-len(alias), i, alias, service))
        found: list[Match] = []
        for negative_length, start, alias, service in sorted(candidates):
            end = start - negative_length
            if not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                found.append(Match(service, start, end, alias, by_sound=True))
        return found

    def asked(self, text: str) -> list[Match]:
        """The services the resident asks about: those named in the question, not in the story
        around it ("上个月办完高龄津贴……日间照料要交钱吗" asks about 日间照料). Two questions in one
        message ("残疾证怎么办 两项补贴能一起申请吗", "高龄津贴和助餐怎么办") give two services."""
        haystack = normalize_aligned(text).lower()
        clauses = [(m.start(), m.end()) for m in _CLAUSE.finditer(haystack)]
        found = self.matches(haystack)
        found += self._split_names(haystack, clauses, found)
        if not found:
            return []
        if not clauses:
            return found

        def inside(span: tuple[int, int]) -> list[Match]:
            return [m for m in found if span[0] <= m.start < span[1]]

        def is_question(span: tuple[int, int]) -> bool:
            return bool(_QUESTION.search(haystack[span[0] : span[1]]))

        questions = [i for i, c in enumerate(clauses) if is_question(c)]
        if not questions:  # statements only ("5栋楼道的路灯坏了"): the last service named
            last = max(i for i, c in enumerate(clauses) if inside(c))
            return _distinct(inside(clauses[last]))
        i = questions[-1]
        while not inside(clauses[i]) and i > 0 and _follows_up(haystack[clauses[i][0] : clauses[i][1]]):
            i -= 1  # "社区有老年食堂吗 在哪": the follow-up asks about the clause before
        asked = inside(clauses[i])
        if not asked:
            if len(clauses) >= _STORY_CLAUSES:
                return []  # a story whose question names no service: the story is context
            return _distinct(found[-1:])
        earlier = [q for q in questions if q < i and inside(clauses[q])]
        if earlier and len(_distinct(asked)) == 1:
            asked = inside(clauses[earlier[-1]]) + asked  # two questions, one message
        return _distinct(asked)

    def _split_names(self, haystack: str, clauses: list[tuple[int, int]], named: list[Match]) -> list[Match]:
        """Names split by a question word (志愿者怎么报名: 志愿者报名) or by 的/个/着 (装个扶手:
        装扶手, 老家的医保: 老家医保, 陪着去医院: 陪去医院) in the clauses that name no service
        otherwise, placed at the start of their clause."""
        found: list[Match] = []
        for start, end in clauses:
            clause = haystack[start:end]
            if any(start <= m.start < end for m in named) or not (
                _ASKING_WORDS.search(clause) or _FILLERS.search(clause)
            ):
                continue
            for m in self.matches(_FILLERS.sub("", without_asking_words(clause))):
                found.append(Match(m.service, start + m.start, start + m.end, m.alias, m.by_sound))
        return found

    def __len__(self) -> int:
        return len(self.services)

    def get(self, service_id: str) -> Service | None:
        return self._by_id.get(service_id)

    def own_for_the_disabled(self, service: Service) -> Service | None:
        """The disabled residents' own service of ``service`` (岗位推荐: 残疾人就业帮扶), if any."""
        return self._disabled_own.get(service.id)

    def for_intent(self, intent: str) -> list[Service]:
        return [s for s in self.services if s.intent == intent]

    def for_domain(self, domain: str) -> list[Service]:
        return [s for s in self.services if s.domain == domain]

    def domains(self) -> list[str]:
        """The domains of the catalogue's services, in the catalogue's order."""
        return list(dict.fromkeys(s.domain for s in self.services))

    def title(self, domain: str) -> str:
        return self.titles.get(domain) or DOMAINS.get(domain, domain)

    def find(self, text: str, domain: str | None = None) -> Service | None:
        """The service whose name or alias appears in ``text`` (longest match first), or,
        failing that, sounds like it does (pinyin)."""
        if not text:
            return None
        if text in self._by_id:
            return self._by_id[text]
        haystack = clean_text(text).lower()
        for alias, service in self._aliases:
            if (domain is None or service.domain == domain) and self._spans(alias, haystack):
                return service
        heard = [m for m in self.matches(haystack) if domain is None or m.service.domain == domain]
        return max(heard, key=lambda m: m.end - m.start).service if heard else None


# Characters that typists and speech recognisers write for one another, which sound alike and
# count as the same character when a sound-alike is compared with a name (找公做: 找工作).
_CONFUSED = frozenset(
    pair for two in ("做作", "坐座", "像象", "账帐", "在再", "哪那", "需须", "已以", "即既")
    for pair in (two, two[::-1])
)


# Names with letters (wheelchair, SYB培训) are found as whole words: a letter or digit on
# either side of the name means it is part of another word.
_LETTER = re.compile(r"[a-z]", re.IGNORECASE)
_ALNUM = re.compile(r"[a-z0-9]", re.IGNORECASE)
_JOINERS = re.compile(r"[\s\-_]+")


def _word_pattern(alias: str) -> re.Pattern[str]:
    """A lowercase name with letters as a pattern: its words joined by spaces, hyphens or
    nothing (part time, part-time, parttime), an apostrophe optional (children's), and a
    plural s or es after a last word of three letters or more (wheelchairs)."""
    words = [w for w in _JOINERS.split(alias) if w]
    body = r"[\s\-_]*".join(re.escape(w).replace("'", "['’]?") for w in words)
    head = r"(?<![a-z0-9])" if _ALNUM.match(alias) else ""
    tail = r"(?![a-z0-9])" if _ALNUM.match(alias[-1]) else ""
    if len(words[-1]) >= 3 and words[-1].isalpha() and words[-1].isascii():
        tail = r"(?:e?s)?" + tail
    return re.compile(head + body + tail)


def alias_key(alias: str) -> str:
    """What two names are compared by when the loader checks that no name is used twice:
    lowercase, without the spaces, hyphens and apostrophes that English names vary in."""
    key = clean_text(alias).lower()
    return re.sub(r"[\s\-_'’]+", "", key) if _LETTER.search(key) else key


def _same_char(a: str, b: str) -> bool:
    return a == b or a + b in _CONFUSED


def holding_name(name: str, services: list[Service], english: bool = False) -> list[Service]:
    """Those of ``services`` whose name or an alias holds ``name`` (normalised, lower case); or
    one of their English names too (volunteer activity holds volunteer)."""
    return [
        s for s in services
        if any(name in clean_text(a).lower() for a in (s.names if english else (s.name, *s.aliases)))
    ]


def asks_something(clause: str) -> bool:
    """Whether a clause has a question word or mark (吗, 怎么, 多少, 哪, ？…)."""
    return bool(_QUESTION.search(clause))


def question_of(text: str) -> str:
    """The question a message asks: its last clause with a question word and the clause just
    before it, which often says what the question is about ("现在想把户口迁过来，要办什么手续");
    the whole text when no clause asks. The rest of a long message is the story around it."""
    haystack = clean_text(text)
    clauses = [m.group() for m in _CLAUSE.finditer(haystack)]
    asking = [i for i, clause in enumerate(clauses) if _QUESTION.search(clause)]
    if not asking:
        return haystack
    return " ".join(clauses[max(asking[-1] - 1, 0) : asking[-1] + 1])


# A certificate the resident holds, told as who they are ("有残疾证，想找份工作", "我是拿了残疾证
# 的", "办过残疾证"), not as what they ask for; not one still to get (没办过残疾证, 都要有证) nor
# one held for a purpose (有证好找工作).
# 低保 the family gets is told the same way (家里吃低保, 我们家是低保户).
_HELD = re.compile(
    r"(?<![没未要木冇莫])(?:有|办过|办了|拿了|拿到|持有|领了|领过|办好了)(?:个|张|本)?(?:残疾证|残疾正|证)的?"
    r"(?=[，,。；;！!\s]|$)"
    r"|(?:残疾证|残疾正|证)(?:已经|早就|早|刚|也|都)?(?:有了|办下来了|办好了|办下来以后|办下来后|办好以后"
    r"|(?:办下来|办好|拿到)(?=[，,。；;！!\s]))"
    # ... and one told with its grade (残疾证二级, 有残疾证一级的): held, it has been graded
    r"|(?:有|办了|拿着)?(?:残疾人证|残疾证|残疾正)\s*(?:是)?[一二三四1-4]级的?"
    # ... and 低保 the family already gets, told as who it is (家里吃低保，学费有没有减免)
    r"|(?:家里|我们家|俺们家|我家|俺家|屋里|屋头)(?:又|也|就|本来就)?(?:是|吃|吃着|享受|领着?)低保(?:户|家庭)?的?"
    r"(?=[，,。；;！!\s]|$)"
)


# An age told as who the resident is (我妈八十多了, 今年七十三了), not asked about: unless the
# message asks for what age brings (高龄津贴, 长寿补贴, 几岁能领钱).
_AGE_TOLD = re.compile(r"(?:今年|都|已经)?[一二三四五六七八九十百]{2,4}(?:多|来)?岁?(?:了|啦|咯)")
_AGE_ASKED = re.compile(r"钱|津贴|补贴|补助|高龄|长寿|寿星|几岁|多少岁|岁数")


# A status the resident already has, told as a clause of its own (我已经是注册志愿者了, 残疾证也办
# 下来了, 我是认定过的就业困难人员): done, so not what is asked.
_DONE = re.compile(
    r"(?:^|(?<=[，,。；;！!\s]))[^，,。；;！!？?\s]{0,6}(?:已经|早就)(?:是|办了|办过|认定了|认定过|注册了|注册过"
    r"|登记了|登记过|拿到了|领了)(?:(?!怎么|咋|哪|吗|能不能|可以|啥|什么|想|要)[^，,。；;！!？?\s]){1,10}"
    r"(?=[，,。；;！!\s]|$)"
    r"|(?:^|(?<=[，,。；;！!\s]))[^，,。；;！!？?\s]{1,10}(?:也|都)?办下来了(?=[，,。；;！!\s]|$)"
    r"|(?:^|(?<=[，,。；;！!\s]))我是(?:认定过|认定了|登记过|注册过)的[^，,。；;！!？?\s]{1,10}(?=[，,。；;！!\s]|$)"
)


# A document asked about as something to bring (要带户口本吗, 得拿身份证不): what the service
# needs, not the service asked about.
_TO_BRING = re.compile(
    r"(?:要|得|需要|用不用|要不要|还要|还得)?(?:带|拿|准备)(?:上|着)?(?:户口本|户口簿|身份证|结婚证|照片|社保卡)"
    r"(?:吗|不|么|呢|吧)?"
)


def without_held(text: str) -> str:
    """``text`` without the certificates (and the 低保) it says the resident holds (:data:`_HELD`), the status
    it already has (:data:`_DONE`), the documents it asks whether to bring (:data:`_TO_BRING`)
    and the age it tells (:data:`_AGE_TOLD`): who the resident is, not what is asked."""
    text = _TO_BRING.sub("", _DONE.sub("", _HELD.sub("", text)))
    return text if _AGE_ASKED.search(text) else _AGE_TOLD.sub("", text)


# Words residents put inside a service's name when they ask (志愿者怎么报名: 志愿者报名).
_ASKING_WORDS = re.compile(r"怎么|怎样|如何|咋|在哪里|在哪儿|在哪|去哪里|去哪|到哪|哪里|能不能|可以|能")


# Words residents put inside a name as they speak (装个扶手, 老家的医保, 陪着去医院).
_FILLERS = re.compile(r"[的个]|(?<=[陪帮跟带])着")


def _follows_up(clause: str) -> bool:
    """Whether a question clause only asks how or where about the clause before it; so does
    one of English words only that names no service ("需要带 ID card 吗", "how much")."""
    return len(clause) <= _FOLLOW_UP_CHARS or only_asks_how(clause) or not has_chinese(clause)


def only_asks_how(clause: str) -> bool:
    """Whether a clause is made only of how/where words ("需要带哪些材料", "具体怎么办理呢")."""
    return not _HOW_WORDS.sub("", clause)


def without_asking_words(text: str) -> str:
    """``text`` without the question words that split a name (志愿者怎么报名 → 志愿者报名)."""
    return _ASKING_WORDS.sub("", clean_text(text))


# A service named by this many characters (老年活动室, 微型消防站, 生育津贴) is what the resident
# asks about, whatever domain or confidence the intent classifier gave the message.
FULL_NAME = 4


def named_in_full(matches: list[Match]) -> list[Service]:
    """The services of ``matches`` named by :data:`FULL_NAME` characters or more, by their
    characters or by how four of them sound (普发讲座: 普法讲座)."""
    return [m.service for m in matches if m.end - m.start >= FULL_NAME]


def _distinct(found: list[Match]) -> list[Match]:
    seen: set[str] = set()
    kept = []
    for match in found:
        if match.service.id not in seen:
            seen.add(match.service.id)
            kept.append(match)
    return kept


def _require_text(data: dict, key: str, file: str, entry: str, allow_empty: bool = False) -> str:
    value = data.get(key)
    if value is None and not allow_empty:
        raise CatalogueError(file, entry, key, "is missing")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CatalogueError(file, entry, key, f"must be text, got {type(value).__name__}")
    value = value.strip()
    if not value and not allow_empty:
        raise CatalogueError(file, entry, key, "must not be empty")
    return value


def _require_list(data: dict, key: str, file: str, entry: str, min_items: int) -> tuple[str, ...]:
    value = data.get(key)
    if value is None:
        raise CatalogueError(file, entry, key, "is missing")
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise CatalogueError(file, entry, key, "must be a list of non-empty texts")
    if len(value) < min_items:
        raise CatalogueError(file, entry, key, f"needs at least {min_items} item(s)")
    return tuple(v.strip() for v in value)


def _parse_service(data: object, index: int, domain: str, file: str) -> Service:
    if not isinstance(data, dict):
        raise CatalogueError(file, f"#{index + 1}", None, "each service must be a mapping")
    raw_id = data.get("id")
    entry = f"#{index + 1} ({raw_id})" if raw_id else f"#{index + 1}"
    service_id = _require_text(data, "id", file, entry)
    if not _ID.match(service_id):
        raise CatalogueError(file, entry, "id", "use lowercase letters, digits and _ (3-49 chars)")
    entry = service_id
    if _require_text(data, "domain", file, entry) != domain:
        raise CatalogueError(file, entry, "domain", f"must be '{domain}', the domain of this file")
    intent = _require_text(data, "intent", file, entry)
    if intent not in DOMAIN_INTENTS[domain]:
        allowed = ", ".join(DOMAIN_INTENTS[domain])
        raise CatalogueError(file, entry, "intent", f"'{intent}' is not one of: {allowed}")
    texts = {key: _require_text(data, key, file, entry) for key in TEXT_FIELDS}
    phone = texts["phone"].replace(" ", "")
    if not _PHONE.match(phone):
        raise CatalogueError(file, entry, "phone", f"'{texts['phone']}' is not a phone number")
    committee_issues = None
    go_instead = ""
    if domain == "cert":
        committee_issues = data.get("committee_issues")
        if not isinstance(committee_issues, bool):
            raise CatalogueError(file, entry, "committee_issues", "certificates need true or false")
        go_instead = _require_text(data, "go_instead", file, entry, allow_empty=committee_issues)
    own_of = ()
    if "for_the_disabled_of" in data:
        own_of = _require_list(data, "for_the_disabled_of", file, entry, 0)
    return Service(
        id=service_id,
        domain=domain,
        intent=intent,
        aliases=_require_list(data, "aliases", file, entry, 1),
        materials=_require_list(data, "materials", file, entry, 0),
        committee_issues=committee_issues,
        go_instead=go_instead,
        for_the_disabled_of=own_of,
        source=file,
        **texts,
    )


def load_file(path: Path) -> tuple[str, str, list[Service]]:
    file = path.name
    try:
        data = yaml_data.load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as err:
        raise CatalogueError(file, None, None, f"cannot be read: {err}") from err
    except yaml.YAMLError as err:
        raise CatalogueError(file, None, None, f"is not valid YAML: {err}") from err
    if not isinstance(data, dict):
        raise CatalogueError(file, None, None, "must be a mapping with 'domain' and 'services'")
    domain = data.get("domain")
    if not isinstance(domain, str) or domain not in DOMAINS:
        raise CatalogueError(file, None, "domain", f"'{domain}' is not one of {', '.join(DOMAINS)}")
    services = data.get("services")
    if not isinstance(services, list) or not services:
        raise CatalogueError(file, None, "services", "must be a non-empty list")
    title = str(data.get("title") or DOMAINS[domain])
    return domain, title, [_parse_service(s, i, domain, file) for i, s in enumerate(services)]


def load_catalogue(directory: str | Path) -> Catalogue:
    """Load and validate every ``*.yml`` file in ``directory``: the domains' services, then
    the English names of :data:`ENGLISH_FILE` and the residents' words of :data:`WORDS_DIR`."""
    directory = Path(directory)
    files = [
        p for p in sorted(directory.glob("*.yml")) + sorted(directory.glob("*.yaml"))
        if p.name != ENGLISH_FILE
    ]
    if not files:
        raise CatalogueError(str(directory), None, None, "no catalogue files (*.yml) found")
    services: list[Service] = []
    titles: dict[str, str] = {}
    seen_ids: dict[str, str] = {}
    seen_aliases: dict[str, str] = {}
    for path in files:
        domain, title, loaded = load_file(path)
        titles[domain] = title
        for service in loaded:
            if service.id in seen_ids:
                raise CatalogueError(
                    path.name, service.id, "id", f"already used in {seen_ids[service.id]}"
                )
            seen_ids[service.id] = path.name
            for alias in (service.name, *service.aliases):
                key = alias_key(alias)
                owner = seen_aliases.setdefault(key, service.id)
                if owner != service.id:
                    raise CatalogueError(
                        path.name, service.id, "aliases", f"'{alias}' is already used by {owner}"
                    )
        services.extend(loaded)
    _check_for_the_disabled(services)
    services = with_english(services, directory / ENGLISH_FILE, seen_aliases)
    return Catalogue(with_words(services, directory / WORDS_DIR), titles)


def _check_for_the_disabled(services: list[Service]) -> None:
    """Each ``for_the_disabled_of`` names another domain's service, owned by one service only."""
    by_id = {s.id: s for s in services}
    owners: dict[str, str] = {}
    for service in services:
        for other in service.for_the_disabled_of:
            found = by_id.get(other)
            if found is None or found.domain == service.domain:
                raise CatalogueError(service.source, service.id, "for_the_disabled_of",
                                     f"'{other}' is not a service of another domain")
            owner = owners.setdefault(other, service.id)
            if owner != service.id:
                raise CatalogueError(service.source, service.id, "for_the_disabled_of",
                                     f"'{other}' is already the disabled's own of {owner}")


ENGLISH_FILE = "english.yml"
# Everyday words that name no service (any service has a form, a fee, an address): residents'
# English of this kind is for the intent classifier's training examples, not a name.
EVERYDAY_ENGLISH = frozenset(
    alias_key(w) for w in (
        "apply", "application", "free", "help", "form", "subsidy", "allowance", "insurance",
        "appointment", "register", "registration", "sign up", "how much", "where", "when", "how",
        "what", "fee", "cost", "price", "service", "office", "card", "certificate", "proof", "id",
        "id card", "online", "hours", "open", "phone", "phone number", "address", "documents",
        "materials", "please", "thanks", "ok", "hello", "community", "book", "booking",
    )
)


def with_english(services: list[Service], path: Path, seen: dict[str, str]) -> list[Service]:
    """``services`` with the English names of ``path`` (``english: {id: [name, ...]}``), if
    the file exists. A name already used (``seen``: name key → service id, the aliases of the
    domain files) or an everyday word is refused."""
    if not path.exists():
        return services
    file = path.name
    seen = dict(seen)
    names: dict[str, tuple[str, ...]] = {}
    for service_id, listed in _lists_by_service(path, file, "english", "name", services).items():
        for name in listed:
            key = alias_key(name)
            if not _LETTER.search(key):
                raise CatalogueError(file, service_id, "english", f"'{name}' has no English word")
            if key in EVERYDAY_ENGLISH:
                raise CatalogueError(
                    file, service_id, "english", f"'{name}' is an everyday word, not a service's name"
                )
            owner = seen.setdefault(key, service_id)
            if owner != service_id:
                raise CatalogueError(file, service_id, "english", f"'{name}' is already used by {owner}")
            if name.strip() not in names.get(service_id, ()):
                names[service_id] = names.get(service_id, ()) + (name.strip(),)
    return [replace(s, english=names[s.id]) if s.id in names else s for s in services]


WORDS_DIR = "words"


def with_words(services: list[Service], directory: Path) -> list[Service]:
    """``services`` with the residents' words of ``directory/*.yml`` (``words: {id: [...]}``)."""
    names = {clean_text(a).lower(): s.id for s in services for a in s.names}
    words: dict[str, tuple[str, ...]] = {}
    for path in sorted(directory.glob("*.yml")):
        where = f"{WORDS_DIR}/{path.name}"
        for service_id, listed in _lists_by_service(path, where, "words", "word", services).items():
            for word in listed:
                owner = _name_inside(clean_text(word).lower(), names, service_id)
                if owner:  # 低保老人 under 养老护理补贴 would answer 低保的事 with the wrong service
                    raise CatalogueError(
                        where, service_id, "words", f"'{word}' holds a name or alias of {owner}"
                    )
            words[service_id] = words.get(service_id, ()) + tuple(w.strip() for w in listed)
    return [replace(s, words=words[s.id]) if s.id in words else s for s in services]


def _lists_by_service(
    path: Path, where: str, key: str, noun: str, services: list[Service]
) -> dict[str, list[str]]:
    """The ``key: {service id: [text, ...]}`` mapping of the YAML file ``path``, checked: it can
    be read, each id is a service's and each list holds non-empty texts; errors name ``where``."""
    try:
        data = yaml_data.load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise CatalogueError(where, None, None, f"cannot be read: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get(key) or {}, dict):
        raise CatalogueError(where, None, key, f"expected {key}: {{service id: [{noun}, ...]}}")
    ids = {s.id for s in services}
    lists: dict[str, list[str]] = {}
    for service_id, listed in (data.get(key) or {}).items():
        if service_id not in ids:
            raise CatalogueError(where, str(service_id), key, "no service has this id")
        if not isinstance(listed, list) or not all(isinstance(t, str) and t.strip() for t in listed):
            raise CatalogueError(where, service_id, key, f"expected a list of {noun}s")
        lists[service_id] = listed
    return lists


def _name_inside(word: str, names: dict[str, str], service_id: str) -> str | None:
    """The other service whose name or alias (two characters or more) ``word`` holds: each
    stretch of the word looked up among the names (a word is a few characters, the names many)."""
    stretches = (word[i:j] for i in range(len(word)) for j in range(i + 2, len(word) + 1))
    return next((names[s] for s in stretches if names.get(s, service_id) != service_id), None)


def main(argv: list[str] | None = None) -> int:
    from community.settings import Settings

    args = sys.argv[1:] if argv is None else argv
    directory = Path(args[0]) if args else Settings.from_env().catalogue_dir
    try:
        catalogue = load_catalogue(directory)
    except CatalogueError as err:
        print(f"ERROR: {err}\n错误：服务目录有误，请修改后再启动。", file=sys.stderr)
        return 2
    counts = {d: len(catalogue.for_domain(d)) for d in DOMAINS}
    print(f"Catalogue OK: {len(catalogue)} services in {directory}")
    print("  " + ", ".join(f"{d} {n}" for d, n in counts.items()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
