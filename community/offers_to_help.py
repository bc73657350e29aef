"""A resident offering to help others ("想定期去看看她", "想隔三岔五去陪那些一个人住的老人谝谝"):
the question is how to volunteer, though every word of it is about the elderly's visits, which
are for the one who is visited. Asking the community to visit someone ("社区能不能定期去看看
她") or looking after one's own ("我想照顾我妈") is not an offer."""

from __future__ import annotations

import re

from community.textnorm import clean_text

_OFFER = re.compile(
    r"(?:想|能不能|能|可以|愿意|打算)[^，,。？?！!]{0,6}(?:去|来|克|过去)?(?:陪|照看|看看|看望|探望|照顾|帮帮|关照)"
    r"[^，,。？?！!]{0,6}(?:她|他|那些|这样的|像她|像他|独居|孤寡|孤老|一个人住|一个人过|空巢)"
)
# Someone else asked to do it, or the resident's own family: not an offer to volunteer.
_NOT_AN_OFFER = re.compile(
    r"只能|给我|帮我|我家|俺家|老伴|老头子|父母|爸妈|父亲|母亲|孩子"
    r"|(?:我|俺|额)(?:妈|爸|娘|爹|奶奶|爷爷|儿子|女儿|外婆|外公|婆婆|公公)"
    r"|自己|派人|有没有能|有人能|(?:社区|居委会)(?:能不能|能|可以|有没有人)[^，,。？?！!]{0,4}(?:去|来|派|上门)"
)


def offers_to_help(text: str) -> bool:
    """Whether ``text`` offers to visit or keep company with people who live alone."""
    text = clean_text(text or "")
    return bool(_OFFER.search(text)) and not _NOT_AN_OFFER.search(text)
