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
from dataclasses import dataclass

from community.catalogue import Catalogue, Match, Service
from community.textnorm import FUNCTION_CHARS, clean_text

# The winner's shared pairs weigh at least this much: one pair found in at most a tenth of the
# domain's services (log 10), or two found in a quarter.
MIN_SCORE = math.log(10)
# ... and this much more than the next service's (an equal score is no choice at all).
MIN_LEAD = 1.0
# Pairs only a service's residents' words have are looser evidence than its names' ("天天坏" of
# a broken lift shares 天天 with "今天天气不错"): they count when the question shares this many
# of them, or shares a pair of the service's names as well.
WORD_PAIRS = 2
# Pairs nearly every message to a community assistant has, whatever it asks about.
EVERYWHERE = frozenset({"社区"})


def pairs(text: str) -> set[str]:
    """The character pairs (bigrams) of the normalised text, without pairs of function
    characters (不给 of 老板不给钱 says nothing about a service) and :data:`EVERYWHERE`."""
    text = clean_text(text).lower()
    found = (text[i : i + 2] for i in range(len(text) - 1))
    return {p for p in found if not (FUNCTION_CHARS & set(p) or " " in p or p in EVERYWHERE)}


@dataclass(frozen=True)
class _DomainIndex:
    """A domain's services by their pairs (names, aliases and residents' words), and how many
    of the domain's services have each pair."""

    pairs: dict[str, frozenset[str]]  # from names and aliases
    word_pairs: dict[str, frozenset[str]]  # only from residents' words
    seen: dict[str, int]
    size: int


# Built once per catalogue and domain (a catalogue is loaded once per process; ``id`` with the
# object kept beside it, since a Catalogue dataclass can't be a dict key).
_INDEXES: dict[int, tuple[Catalogue, dict[str, _DomainIndex]]] = {}


def _domain_index(catalogue: Catalogue, domain: str) -> _DomainIndex:
    kept = _INDEXES.get(id(catalogue))
    if kept is None or kept[0] is not catalogue:
        if len(_INDEXES) >= 8:  # catalogues reloaded (or built by tests): keep the index small
            _INDEXES.clear()
        kept = _INDEXES[id(catalogue)] = (catalogue, {})
    if domain not in kept[1]:
        services = catalogue.for_domain(domain)
        found = {s.id: frozenset().union(*(pairs(a) for a in (s.name, *s.aliases))) for s in services}
        words = {s.id: frozenset().union(*(pairs(w) for w in s.words)) - found[s.id] for s in services}
        seen: dict[str, int] = {}
        for service in services:
            for pair in found[service.id] | words[service.id]:
                seen[pair] = seen.get(pair, 0) + 1
        kept[1][domain] = _DomainIndex(found, words, seen, len(services))
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
    def weight(service: Service) -> float:
        named = asked & index.pairs[service.id]
        said = asked & index.word_pairs[service.id]
        if len(said) < WORD_PAIRS and not named:
            said = frozenset()  # one loose pair alone (天天 of 天天坏) says nothing
        return sum(math.log(index.size / index.seen[p]) for p in named | said)

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


def more_specific(catalogue: Catalogue, match: Match, text: str) -> Service:
    """The service ``match`` names, or a sibling of the same intent whose name or alias holds
    the named one and that the rest of the question points to (灵活就业 named, 社保 asked:
    灵活就业社保 of 灵活就业人员参保), when the sibling clearly leads."""
    named = match.service
    if match.by_sound:
        return named  # the heard characters differ from the name's: no pairs to compare
    alias = clean_text(match.alias).lower()
    holding = {
        s.id for s in catalogue.for_intent(named.intent)
        if s is not named and any(alias in clean_text(a).lower() for a in (s.name, *s.aliases))
    }
    if not holding:
        return named
    ranked = scores(catalogue, text, named.intent)
    own = next((score for score, service in ranked if service is named), 0.0)
    best, sibling = max(((score, s) for score, s in ranked if s.id in holding), key=lambda p: p[0])
    return sibling if best - own >= MIN_LEAD else named
