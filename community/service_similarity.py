"""The service a question is closest to when it names none of the catalogue's names or aliases.

Residents rarely use a service's exact name: "社区能申请轮椅吗" (辅助器具适配: 轮椅申请, 领轮椅),
"婆媳吵架社区能调解吗" (家庭矛盾调解: 婆媳矛盾, 夫妻吵架), "居委会周末上班吗" (居委会几点上班). The
question shares character pairs (轮椅, 婆媳, 吵架, 上班) with one service's name and aliases, or with
the words residents use for that need without naming it (catalogue/words/: 糊涂, 老往外跑 for
防走失), and those pairs are rare among the domain's services. A service of the classified intent is chosen
when its shared pairs are rare enough and clearly ahead of the next service's; otherwise the
resident gets the menu as before. Generic words (证明, 补贴, 养老, 残疾, 志愿) appear in many
services of their domain and weigh little, so "想开个证明" still gets the menu.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from community.catalogue import Catalogue, Match, Service, holding_name
from community.textnorm import FUNCTION_CHARS, clean_text, is_hanzi

# The winner's shared pairs weigh at least this much: one pair found in at most a tenth of the
# domain's services (log 10), or two found in a quarter.
MIN_SCORE = math.log(10)
# ... and this much more than the next service's (an equal score is no choice at all).
MIN_LEAD = 1.0
# Pairs only a service's residents' words have are looser evidence than its names' ("天天坏" of
# a broken lift shares 天天 with "今天天气不错"): they count when the question shares this many
# of them, or shares a pair of the service's names as well.
WORD_PAIRS = 2
# A residents' word of this many characters said whole is evidence by itself, however few
# pairs it has (两个字 is one pair, the loose evidence above; 摸不着 has none).
WHOLE_WORD = 3
# A sibling shares a rarer pair with the name a resident used (康复 of 做康复 with 残疾儿童康复):
# the rest of the question may point to it. A pair this many of the domain's services have
# at most (证明 of 在职证明 is every certificate's).
SHARED_BY = 3
# A name this short (残联, 开药) is often only who or how in a question about something else:
# a sibling the rest of the question points to twice as clearly is chosen.
SHORT_NAME = 2
# A name that is the office of this many of its domain's services is a place (社区那个温馨家园
# 有没有康复训练): what the resident asks for there may be another of them.
PLACE_OF = 3
# What follows a short name said as who does something (残联能给配吗, 残联给改造), not what is asked.
_DOES_IT = r"(?:能|给|管|帮|可以|会|那边|那里)"
# Pairs nearly every message to a community assistant has, whatever it asks about (起来 of 吵起来
# is no more a neighbours' quarrel than a fire's 烧起来).
EVERYWHERE = frozenset({"社区", "起来", "怎么", "多少", "办理", "服务"})


# Words residents use interchangeably for one thing, read as the first (孩子体检 is 儿童体检,
# 社区大夫 is 社区医生), in questions and in the catalogue alike. Longest first, so 小孩子 is
# not read as 小 + 孩子.
SAME_THING: dict[str, tuple[str, ...]] = {
    "儿童": ("小孩子", "小孩儿", "小朋友", "小孩", "孩子", "宝宝", "娃娃", "小娃", "娃"),
    "医生": ("大夫", "医师"),
    "慢病": ("慢性病",),
    "残疾人": ("残障人士", "残障人", "残疾的人"),
    "二孩": ("二胎", "二宝"),
    "三孩": ("三胎", "三宝"),
    "卫生间": ("洗手间", "茅房", "茅厕", "厕所"),
    "没": ("没有", "没得", "莫得", "冇"),
}
_SAME = sorted(((v, k) for k, vs in SAME_THING.items() for v in vs), key=lambda p: -len(p[0]))
_SAME_RE = re.compile("|".join(re.escape(v) for v, _ in _SAME))
_SAME_OF = dict(_SAME)

# Verbs residents put after their object when the object is what they ask about (降压药能在社区
# 开吗: 开药; 残疾证在哪办: 办证; 医保怎么交: 交医保): the verb, then what may stand between it and
# its object (asking words, the place), then the object's characters.
FRONTED_VERBS = frozenset("开拿配办领交打查签补换做")
BETWEEN = FUNCTION_CHARS | frozenset("能可以想要去到哪里儿怎么咋该上社区这那边得")
FRONTED_OBJECT = 4


# Letters: two of an English word (fr of free, re of referral) say nothing; English names are
# matched whole by the catalogue.
_LATIN = re.compile(r"[a-z]")


# Words residents put inside what they ask for as they speak (评个残: 评残; 借个轮椅: 借轮椅).
_FILLERS = re.compile(r"[的个]")


def same_thing(text: str) -> str:
    """``text`` with the words of :data:`SAME_THING` read as their first word, and without
    :data:`_FILLERS`."""
    return _FILLERS.sub("", _SAME_RE.sub(lambda m: _SAME_OF[m.group()], text))


def _reading(text: str) -> str:
    return same_thing(clean_text(text).lower())


def pairs(text: str) -> set[str]:
    """The character pairs (bigrams) of the normalised text (its :func:`same_thing` reading),
    without pairs of function characters (不给 of 老板不给钱 says nothing about a service), of
    letters and of :data:`EVERYWHERE`."""
    text = _reading(text)
    found = (text[i : i + 2] for i in range(len(text) - 1))
    return {
        p for p in found
        if not (FUNCTION_CHARS & set(p) or " " in p or p in EVERYWHERE or _LATIN.search(p))
    }


def fronted_pairs(text: str) -> set[str]:
    """Verb-object pairs of a question that puts the object first and the verb last, with only
    asking words or the place between them (降压药能在社区开吗 → 开降, 开压, 开药): each
    :data:`FRONTED_VERBS` verb with each of up to :data:`FRONTED_OBJECT` characters of the object.
    Nothing when a word that is not asking stands just before the verb (居委会给开: 给 says who
    opens, not what)."""
    text = _reading(text)
    found = set()
    for j, verb in enumerate(text):
        if verb not in FRONTED_VERBS:
            continue
        i = j - 1
        while i >= 0 and text[i] in BETWEEN:
            i -= 1
        if i == j - 1:
            continue  # no asking words between: an ordinary pair, or not an object at all
        k = i
        while k >= 0 and i - k < FRONTED_OBJECT and is_hanzi(text[k]) and text[k] not in BETWEEN:
            found.add(verb + text[k])
            k -= 1
    return found


@dataclass(frozen=True)
class _DomainIndex:
    """A domain's services by their pairs (names, aliases and residents' words), and how many
    of the domain's services have each pair."""

    pairs: dict[str, frozenset[str]]  # from names and aliases
    word_pairs: dict[str, frozenset[str]]  # only from residents' words
    seen: dict[str, int]
    size: int
    sounds: dict[tuple[str, ...], frozenset[str]]  # the domain's pairs by how they sound
    words: dict[str, frozenset[str]]  # residents' words, whole (their :func:`same_thing` reading)
    word_seen: dict[str, int]
    unpaired: frozenset[str]  # those of the words whose characters make no pair (摸不着)
    offices: tuple[str, ...]  # where the domain's services are given, normalised


def _sound(pair: str) -> tuple[str, ...] | None:
    """How a pair sounds, with its tones: a pair the domain doesn't know is read as one it
    knows only when they sound the same to the tone (脑摊, 脑瘫: nao3 tan1), since any two
    characters side by side are compared, across words (生二 is not 生儿, nor 学去 学区)."""
    if not all(is_hanzi(c) for c in pair):
        return None
    from pypinyin import Style, lazy_pinyin

    return tuple(lazy_pinyin(pair, style=Style.TONE3, neutral_tone_with_five=True))


# Numbers are written as numbers, by residents and by recognisers: 八十多 is an age, not 拾掇.
_NUMERALS = frozenset("二三四五六七八九十百千两")


def heard_pairs(index: _DomainIndex, asked: set[str]) -> set[str]:
    """The domain's pairs that sound like pairs of the question the domain doesn't know (脑摊 of
    a speech recogniser: 脑瘫; 随放: 随访; 邦扶: 帮扶), read as those pairs; never a pair with a
    number in it (十多 is not 拾掇)."""
    found: set[str] = set()
    for pair in asked:
        if pair not in index.seen and not _NUMERALS & set(pair):
            sound = _sound(pair)
            found |= index.sounds.get(sound, frozenset()) if sound else frozenset()
    return found


# Built once per catalogue and domain (a catalogue is loaded once per process; ``id`` with the
# object kept beside it, since a Catalogue dataclass can't be a dict key).
_INDEXES: dict[int, tuple[Catalogue, dict[str, _DomainIndex]]] = {}


def _domain_index(catalogue: Catalogue, domain: str) -> _DomainIndex:
    """The index of ``domain``'s services; of the whole catalogue for ``""``."""
    kept = _INDEXES.get(id(catalogue))
    if kept is None or kept[0] is not catalogue:
        if len(_INDEXES) >= 8:  # catalogues reloaded (or built by tests): keep the index small
            _INDEXES.clear()
        kept = _INDEXES[id(catalogue)] = (catalogue, {})
    if domain not in kept[1]:
        services = catalogue.for_domain(domain) if domain else list(catalogue.services)
        found = {s.id: frozenset().union(*(pairs(a) for a in (s.name, *s.aliases))) for s in services}
        words = {s.id: frozenset().union(*(pairs(w) for w in s.words)) - found[s.id] for s in services}
        seen: dict[str, int] = {}
        for service in services:
            for pair in found[service.id] | words[service.id]:
                seen[pair] = seen.get(pair, 0) + 1
        sounds: dict[tuple[str, ...], set[str]] = {}
        for pair in seen:
            sound = _sound(pair)
            if sound:
                sounds.setdefault(sound, set()).add(pair)
        whole = {s.id: frozenset(w for w in map(_reading, s.words) if len(w) >= WHOLE_WORD) for s in services}
        word_seen: dict[str, int] = {}
        for service in services:
            for word in whole[service.id]:
                word_seen[word] = word_seen.get(word, 0) + 1
        kept[1][domain] = _DomainIndex(
            found, words, seen, len(services), {k: frozenset(v) for k, v in sounds.items()},
            whole, word_seen, frozenset(w for w in word_seen if not pairs(w)),
            tuple(clean_text(s.office).lower() for s in services),
        )
    return kept[1][domain]


def scores(
    catalogue: Catalogue, text: str, intent: str, whole_domain: bool = False
) -> list[tuple[float, Service]]:
    """Each of the intent's services (or its domain's), by the weight of the pairs it shares
    with ``text``: each pair weighs log(N / n), N the services of the domain and n those whose
    name, aliases or residents' words contain it. Best first."""
    candidates = catalogue.for_intent(intent)
    if not candidates:
        return []
    domain = candidates[0].domain
    index = _domain_index(catalogue, domain)
    candidates = catalogue.for_domain(domain) if whole_domain else candidates
    asked = pairs(text)
    asked |= heard_pairs(index, asked)
    fronted = fronted_pairs(text)
    reading = _reading(text)
    def weight(service: Service) -> float:
        named = (asked | fronted) & index.pairs[service.id]
        said = asked & index.word_pairs[service.id]
        whole = [w for w in index.words[service.id] if w in reading]
        if len(said) < WORD_PAIRS and not named and not whole:
            said = frozenset()  # one loose pair alone (天天 of 天天坏) says nothing
        # a word said whole whose characters make no pair (摸不着, 看不见) weighs as one
        unpaired = sum(math.log(index.size / index.word_seen[w]) for w in whole if w in index.unpaired)
        return sum(math.log(index.size / index.seen[p]) for p in named | said) + unpaired

    ranked = [(weight(s), s) for s in candidates]
    return sorted(ranked, key=lambda pair: -pair[0])


def closest_service(catalogue: Catalogue, text: str, intent: str) -> Service | None:
    """The intent's service ``text`` is clearly closest to; failing that, its domain's (the
    classifier may take 赡养费 for legal aid, the catalogue has it under mediation); or ``None``
    (ask with a menu)."""
    for whole_domain in (False, True):
        ranked = scores(catalogue, text, intent, whole_domain)
        if not ranked:
            return None
        if _clearly_first(catalogue, ranked):
            return ranked[0][1]
    return None


# The whole message's clear winner outweighs the question's, in the whole message, by this
# much: the story says which of the kind the question asks for.
STORY_LEAD = 4.0


def closest_to_question(catalogue: Catalogue, text: str, question: str, intent: str) -> Service | None:
    """The service the question is clearly closest to, unless the whole message is clearly closer
    to another by far (去年发大水…庄稼也没了。现在生活困难，有什么救助: 受灾救助, not the 救助 the
    question alone reads as; 孩子满一岁了，体检在哪里做: 儿童体检)."""
    asked = closest_service(catalogue, question, intent)
    if question == text:
        return asked
    told = closest_service(catalogue, text, intent)
    if asked is None or told is None or told is asked:
        return asked or told
    ranked = scores(catalogue, text, intent, whole_domain=True)
    return told if _score_of(ranked, told) - _score_of(ranked, asked) >= STORY_LEAD else asked


def weight_and_lead(catalogue: Catalogue, text: str, service: Service) -> tuple[float, float]:
    """How much the words of ``text`` weigh for ``service`` within its domain, and how far that
    is ahead of the domain's next service."""
    ranked = scores(catalogue, text, service.intent, whole_domain=True)
    mine = _score_of(ranked, service)
    return mine, mine - max((score for score, s in ranked if s is not service), default=0.0)


def clear_in_domain(catalogue: Catalogue, text: str, domain: str) -> Service | None:
    """The service of ``domain`` that ``text`` is clearly closest to, or ``None``."""
    services = catalogue.for_domain(domain)
    ranked = scores(catalogue, text, services[0].intent, whole_domain=True) if services else []
    return ranked[0][1] if ranked and _clearly_first(catalogue, ranked) else None


def _clearly_first(catalogue: Catalogue, ranked: list[tuple[float, Service]]) -> bool:
    best = ranked[0][0]
    runner_up = ranked[1][0] if len(ranked) > 1 else 0.0
    # In a domain of fewer than ten services, one pair only its service has is enough.
    enough = min(MIN_SCORE, math.log(_domain_index(catalogue, ranked[0][1].domain).size))
    return best >= enough and best - runner_up >= MIN_LEAD


def more_specific(catalogue: Catalogue, match: Match, text: str, whole: str = "") -> Service:
    """The service ``match`` names, or a sibling of the same intent whose name or alias holds
    the named one and that the rest of the question points to (灵活就业 named, 社保 asked:
    灵活就业社保 of 灵活就业人员参保), when the sibling clearly leads. A short name said as who
    does it (残联能不能给配, 残联给改造) yields to the sibling the ``whole`` message points to
    (助听器, 台阶 of the story before the question)."""
    named = match.service
    if match.by_sound:
        return named  # the heard characters differ from the name's: no pairs to compare
    alias = clean_text(match.alias).lower()
    index = _domain_index(catalogue, named.domain)
    own = {p for p in pairs(alias) if index.seen.get(p, 0) <= SHARED_BY}
    siblings = [s for s in catalogue.for_intent(named.intent) if s is not named]
    # (an English name said: the siblings whose English names hold it, volunteer activity)
    holding = {s.id for s in holding_name(alias, siblings, english=True)} | {
        s.id for s in siblings if own & index.pairs[s.id]
    }
    if is_place(catalogue, alias, named.domain):  # 温馨家园有没有康复训练: what is asked there
        there = (without_place(catalogue, t, alias, named.domain) for t in (text, whole) if t)
        found = (_leading(scores(catalogue, t, named.intent), named, MIN_LEAD) for t in there)
        return next((s for s in found if s is not None), named)
    short = len(alias) <= SHORT_NAME
    if not holding and not short:
        return named
    ranked = scores(catalogue, text, named.intent)
    own_score = _score_of(ranked, named)
    best, sibling = max(((score, s) for score, s in ranked if s.id in holding), key=lambda p: p[0],
                        default=(0.0, named))
    if best - own_score >= MIN_LEAD:
        return sibling
    if short:  # 残联能给改造吗: who does it, not what; 门诊开药也能报: 报 of 门诊慢特病
        sibling = _leading(ranked, named, 2 * MIN_LEAD)
        if sibling is not None:
            return sibling
    if short and whole and re.search(re.escape(alias) + _DOES_IT, clean_text(whole).lower()):
        return _leading(scores(catalogue, whole, named.intent), named, MIN_LEAD) or named
    return named


def held_elsewhere(catalogue: Catalogue, match: Match, text: str) -> Service:
    """The service ``match`` names, or another domain's whose name holds the name said
    (优待证: 老年人优待证, and 退役军人优待证 too) when the rest of ``text``, without the name said,
    points to that one clearly more (退伍军人: the veterans'), weighed across the whole catalogue
    (:func:`_catalogue_weight`)."""
    named = match.service
    alias = clean_text(match.alias).lower()
    holders = [s for s in holding_name(alias, catalogue.services) if s.domain != named.domain]
    if match.by_sound or not holders:
        return named
    rest = pairs(clean_text(text).lower().replace(alias, " "))
    own = _catalogue_weight(catalogue, rest, named)
    best, holder = max(((_catalogue_weight(catalogue, rest, h), h) for h in holders), key=lambda p: p[0])
    return holder if best >= MIN_SCORE and best - own >= MIN_LEAD else named


def _catalogue_weight(catalogue: Catalogue, asked: set[str], service: Service) -> float:
    """How much the pairs ``asked`` share with the names of ``service``, weighed across the
    whole catalogue (services of different domains are compared: 志愿 is rare among
    certificates, not in the catalogue). Residents' words are left out: loose evidence that
    would let a story's 户口 or 租房 move a question away from the name said."""
    index = _catalogue_index(catalogue)
    return sum(math.log(index.size / index.seen[p]) for p in asked & index.pairs[service.id])


def _catalogue_index(catalogue: Catalogue) -> _DomainIndex:
    """The whole catalogue as one domain (its pairs and how many services have each)."""
    return _domain_index(catalogue, "")


def is_place(catalogue: Catalogue, alias: str, domain: str) -> bool:
    """Whether a name is where many of its domain's services are given (温馨家园, 儿童之家,
    人民调解): the office of at least :data:`PLACE_OF` of them."""
    return sum(alias in office for office in _domain_index(catalogue, domain).offices) >= PLACE_OF


def without_place(catalogue: Catalogue, text: str, alias: str, domain: str) -> str:
    """``text`` without the place it names: the alias and what follows it as long as the two
    are part of an office's name (人民调解委员会在哪: 在哪 is all that is left)."""
    text = clean_text(text).lower()
    offices = _domain_index(catalogue, domain).offices
    start = text.find(alias)
    while start >= 0:
        end = start + len(alias)
        while end < len(text) and any(text[start : end + 1] in o for o in offices):
            end += 1
        text = f"{text[:start]} {text[end:]}"
        start = text.find(alias)
    return text


def _score_of(ranked: list[tuple[float, Service]], service: Service) -> float:
    return next((score for score, s in ranked if s is service), 0.0)


def _leading(ranked: list[tuple[float, Service]], named: Service, lead: float) -> Service | None:
    """The first of ``ranked`` when it is not ``named``, is rare enough and leads it by ``lead``."""
    best, first = ranked[0]
    if first is not named and best >= MIN_SCORE and best - _score_of(ranked, named) >= lead:
        return first
    return None
