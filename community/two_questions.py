"""Two questions in one message, each read on its own.

"失业了怎么登记？顺便问下有没有免费的技能培训", "我六十八了免费体检几号？还有我的降压药想在社区开":
residents ask two things at once, and the classifier gives the whole message one intent. When
the message falls into two asks — sentences that each ask something, or a second ask opened by
还有 / 另外 / 顺便 / 再问 — and each ask clearly points to its own service (named in it, or by
the words residents use for that service, in any domain), both are answered briefly. Each ask
is read by itself: what one names (装扶手, the elderly’s 适老化 too) is weighed within its own ask.

A story around one question ("孩子他爸出了事，家里靠我打零工。社区对困难家庭的孩子有帮扶吗？") is
not two asks: its sentences that don't ask anything are left out.
"""

from __future__ import annotations

import re
from typing import Sequence

from community.catalogue import Catalogue, Service, asks_something, only_asks_how, without_held
from community.service_similarity import clear_in_domain, closest_service
from community.textnorm import clean_text

# How many of the classifier's likeliest intents an ask that names no service is read against.
LIKELIEST_INTENTS = 3
# Two services asked together: the first named, then 和 or 以及, the second ask at least this long.
_JOINED = re.compile(r"和|以及")
_PART_CHARS = 4
# Another domain's name this short in an ask (敬老院 of 敬老院慰问活动) may only say where: the
# message's domain's service the ask clearly points to is taken instead.
SHORT_OTHER = 3
# Where one ask ends: the end of a sentence.
_SENTENCE_END = re.compile(r"(?<=[？?！!。；;])")
# Words that open a second ask at the start of a sentence or clause ("还有我想申请公租房", "还要
# 一个健康证明"), but not 还有没有 / 还有吗 (still there?) nor 还要带什么 (about the same ask).
_JOINER = re.compile(
    r"(?:^|(?<=[，,\s]))(?:还有(?!没有|吗|没)|还要(?=一个|一份|个|开|办|问)|还得(?=开|办)|另外|顺便问问|顺便问下"
    r"|顺便问一下|顺便|再问一下|再问问|再问下|再就是|还想问|也想问|仲有(?!冇|没)"
    r"|然后(?=也想|还想|再|也要|还要))"
)


# A sentence after a question that wants another thing too, with no question word of its own.
_ALSO_WANTS = re.compile(
    r"也(?:想|要|得)(?:一起|顺便|一块儿?|一道)?(?:办|申请|报名|报|领|弄|开|问问|改|装|换|查|配)"
)


# A sentence that wants something (想约一次上门助浴) is an ask when 另外 / 还有 follows it; one that
# only tells (孩子刚满月) is the story.
_WANTS = re.compile(r"想|要|约|申请|报名|预约|帮我")


def asks(text: str) -> list[str]:
    """The parts of ``text`` that ask something, in order: sentences with a question word;
    both sides of a joining word (还有, 另外, 顺便问下, 然后也想), which ask even without one
    ("我想注册成志愿者，顺便问问献血在哪献", "另外放学以后的四点半课堂也想报"); a sentence wanting
    something before one that opens with a joining word ("想约一次上门助浴。另外…"); and clauses
    parted by a space when each asks ("家庭医生怎么签 老人体检什么时候")."""
    found: list[str] = []
    left = ""  # the sentence before: the first ask when it wants something and none asked yet
    for sentence in _SENTENCE_END.split(clean_text(text)):
        if left and not found and _JOINER.match(sentence.strip()) and _WANTS.search(left):
            found.append(left.strip(" ,?!.;。"))  # 想约一次上门助浴。另外…: the first ask, told as a wish
        left = sentence
        starts = [0, *(m.start() for m in _JOINER.finditer(sentence) if m.start() > 0)]
        pieces = [sentence[b:e] for b, e in zip(starts, [*starts[1:], len(sentence)], strict=True)]
        if len(pieces) == 1 and not _JOINER.match(sentence):
            clauses = sentence.split()
            asking = len(clauses) > 1 and all(asks_something(c) for c in clauses)
            also = bool(found) and bool(_ALSO_WANTS.search(sentence))  # 老年优待证也想一起办
            pieces = clauses if asking else [sentence] if asks_something(sentence) or also else []
        for piece in (p.strip(" ,?!.;") for p in pieces):
            if piece and found and only_asks_how(piece):  # "要带什么": about the ask before
                found[-1] = f"{found[-1]} {piece}"
            elif piece:
                found.append(piece)
    return found


def joined(catalogue: Catalogue, text: str) -> list[str]:
    """A service named, then 和 / 以及 and another ask ("残疾证和残疾人补贴怎么一起办"): the two
    sides, when the first names a service; otherwise ``[]``."""
    found = _JOINED.search(text)
    if found is None or not catalogue.asked(text[: found.start()]):
        return []
    second = text[found.end() :]
    named = bool(catalogue.asked(second))  # 护理补贴和轮椅吗: a name is an ask however short
    return [text[: found.start()], second] if len(second) >= _PART_CHARS or named else []


def service_of(catalogue: Catalogue, ask: str, domain: str = "") -> Service | None:
    """The one service an ask is about: the service it names, or the one service the words of
    exactly one domain clearly point to. Of two, the one of ``domain`` (the message's) when
    only one is (装扶手做无障碍改造 of a disabled resident: 无障碍改造, not the elderly's 扶手)."""
    matches = catalogue.asked(ask)
    named = list({m.service.id: m.service for m in matches}.values())
    elsewhere = all(m.service.domain != domain and len(m.alias) <= SHORT_OTHER for m in matches)
    if domain and matches and elsewhere:
        mine = clear_in_domain(catalogue, ask, domain)
        named = [mine] if mine else named  # 敬老院慰问活动我想报名 of a volunteer: the activity
    if not named:
        named = [s for s in (clear_in_domain(catalogue, ask, d) for d in catalogue.domains()) if s]
    return _one(named) or _one([s for s in named if s.domain == domain])


def _one(services: list[Service]) -> Service | None:
    return services[0] if len(services) == 1 else None


def two_services(
    catalogue: Catalogue, text: str, first: Service | None, intents: Sequence[str] = (),
    domain: str = "",
) -> list[Service]:
    """The two services of a message that asks two things, or ``[]``. ``first`` is the service
    the whole message was answered with, and ``intents`` the classifier's likeliest intents for
    it: an ask that points to no service by itself is read as ``first``, or as the service of
    one of those intents it is clearly closest to (the classifier's runner-up is often the
    other ask's). ``domain`` is the message's (``first``'s when not given): where an ask points
    to two services, or only names another domain's service by a short name, its service is
    the one :func:`service_of` finds there."""
    parts = asks(text)
    if len(parts) < 2:
        parts = joined(catalogue, text)
    if len(parts) < 2:
        return []
    domain = domain or (first.domain if first else "")
    found = [service_of(catalogue, without_held(part), domain) for part in parts]
    for i, part in enumerate(parts):
        if found[i] is None:
            near = (closest_service(catalogue, part, intent) for intent in intents)
            found[i] = next((s for s in near if s is not None and s not in found), None)
    if found.count(None) == 1 and first is not None and first not in found:
        found[found.index(None)] = first
    distinct: list[Service] = []
    for service in found:
        if service is not None and service not in distinct:
            distinct.append(service)
    return distinct[:2] if len(distinct) >= 2 else []
