"""Questions about what a whole domain offers ("养老方面社区都有啥服务", "法律这块能提供啥帮助",
"社区能给我们老年人干点啥"): the resident wants the domain's menu, not one of its services that
a domain word (托育, 养老) happens to name."""

from __future__ import annotations

import re

from community.catalogue import Catalogue, Match

# What the question asks for: a list of what is offered. A bare 有哪些 needs its object to be
# a kind of help (残疾人有哪些补贴 asks about one service, the allowance); 办/干/做 + 啥 must
# end the question (要办什么卡 asks about a card).
_OFFER = re.compile(
    r"(?:有|提供|管)(?:些|点)?(?:哪些|哪样|啥子?|什么|些啥|些什么|么子|些么子)好?(?:服务|项目|帮助|帮扶|业务|福利|事)"
    r"|(?:办|干|做|帮)(?:些|点)?(?:哪些|啥子?|什么|些啥|些什么|么子|些么子)(?:事情|事儿|事)?"
    r"(?=[吗呢呀啊嘛哇？?，,。！!\s]|$)"
)

# Words naming a whole domain, or the people it serves, and nothing narrower.
DOMAIN_WORDS: dict[str, tuple[str, ...]] = {
    "elderly": ("养老", "老年人", "老人家", "老人", "老年"),
    "childcare": ("托育", "育儿", "孩子", "小孩", "儿童", "娃"),
    "employment": ("就业", "找工作", "求职"),
    "disability": ("助残", "残疾人", "残疾", "残障"),
    "health": ("健康", "医疗", "看病"),
    "legal": ("法律", "打官司"),
    "volunteer": ("志愿服务", "志愿者", "志愿"),
    "cert": ("开证明", "证明"),
    "community": ("社区事务", "居委会"),
}
_DOMAIN_OF = {w: d for d, ws in DOMAIN_WORDS.items() for w in ws}
_DOMAIN_WORD = re.compile("|".join(sorted(_DOMAIN_OF, key=len, reverse=True)))


# The question points back to the story (社区对这样的孩子有啥帮扶: the left-behind child told
# of): the story says which service, not the domain's menu.
_POINTS_BACK = re.compile(r"这样的|这种|这类|像我这样|像她这样|像他这样|我这样的")


def asks_whats_offered(text: str) -> bool:
    """Whether the message asks what help there is, rather than about one service."""
    return bool(_OFFER.search(text))


def domain_named(text: str) -> str | None:
    """The one domain the message names by a domain word (养老, 托育, 老年人), or failing that by
    how a word of two characters or more sounds (就叶 of a speech recogniser: 就业), if only one."""
    domains = {_DOMAIN_OF[m.group()] for m in _DOMAIN_WORD.finditer(text)} or _heard_domains(text)
    return domains.pop() if len(domains) == 1 else None


def _heard_domains(text: str) -> set[str]:
    from pypinyin import Style, lazy_pinyin

    sounds = [lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True)[0] for c in text]
    spoken = " ".join(sounds)
    return {d for w, d in _DOMAIN_SOUNDS if f" {w} " in f" {spoken} "}


def _sounds_of(word: str) -> str:
    from pypinyin import Style, lazy_pinyin

    return " ".join(lazy_pinyin(word, style=Style.TONE3, neutral_tone_with_five=True))


_DOMAIN_SOUNDS = tuple((_sounds_of(w), d) for w, d in _DOMAIN_OF.items() if len(w) >= 2)


def offer_domain(catalogue: Catalogue, text: str) -> str | None:
    """The domain whose menu answers a what-is-offered question: the message asks what help
    there is, names one domain, and names no service except by a domain word (托育 is the
    toddler nursery's alias, but 托育方面有啥服务 asks about all of 托育服务)."""
    if not asks_whats_offered(text) or _POINTS_BACK.search(text):
        return None
    domain = domain_named(text)
    if domain is None:
        return None
    if any(not _is_domain_word(m) for m in catalogue.asked(text)):
        return None
    return domain


def offers_everything(catalogue: Catalogue, text: str) -> bool:
    """Whether the message asks what the assistant or the community does at all ("恁能干啥？都能
    帮俺办啥事？", "社区这边平常都管些么子事"): it asks what is offered and names no domain and no
    service; the answer is the list of what it helps with, not a guess at one service."""
    return asks_whats_offered(text) and domain_named(text) is None and not catalogue.asked(text)


def _is_domain_word(match: Match) -> bool:
    return bool(_DOMAIN_WORD.fullmatch(match.alias))
