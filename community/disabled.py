"""Residents who say they (or the one they ask for) are disabled: the disabled's own service
beside the general one they asked about (我闺女是聋的，想找个活干: 残疾人就业帮扶 and 岗位推荐)."""

from __future__ import annotations

import re

from community.catalogue import Catalogue, Service

# Words that tell someone is disabled: the certificate, the kind of disability, or how
# residents say it (脑子不灵光, 坐轮椅, 腿瘸了). 盲道 and 盲区 are places, not people.
TOLD_DISABLED = re.compile(
    r"残疾|残废|残障|伤残|残联|残了|聋|哑巴|盲(?![道区目盒])|失明|瞎子|眼瞎|瞎了|眼睛看不见|听不见|听障|视障"
    r"|截肢|截瘫|瘫|轮椅|脑瘫|智力|智障|脑子不灵|不灵光|脑子(?:上)?有(?:问题|毛病)|自闭|孤独症"
    r"|精神分裂|精神病|精神残疾|精神上的毛病|唐氏|瘸|假肢|义肢|肢残|肢体.级",
)


def told_disabled(text: str) -> bool:
    return TOLD_DISABLED.search(text) is not None


def with_their_own(catalogue: Catalogue, text: str, services: list[Service]) -> list[Service]:
    """``services``, or, when one general service is asked about by someone who says they are
    disabled and the disabled have their own of it, that one first and the general one beside."""
    if len(services) != 1 or not told_disabled(text):
        return services
    own = catalogue.own_for_the_disabled(services[0])
    return [own, services[0]] if own is not None else services


def own_of_named(catalogue: Catalogue, text: str, domain: str) -> list[Service]:
    """The disabled's own service in ``domain`` of a general service ``text`` names by one of its
    names (聋哑人能不能在社区找个活干: 找个活 of 岗位推荐, so 残疾人就业帮扶), for a question
    classed as the disabled's that names none of their services."""
    for match in catalogue.asked(text):
        own = catalogue.own_for_the_disabled(match.service)
        if own is not None and own.domain == domain:
            return [own]
    return []
