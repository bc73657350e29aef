"""Someone in danger now, told in words the classifier may not know.

A resident in a panic rarely says 紧急求助: "阿公胸坎痛甲欲死，喘袂过气", "喊他也不大应声",
"我儿子在公园跟丢了，找了半个钟头". Whatever the classifier made of such a message (an unclear
question, a 防走失 service, 上门养老), the 110/119/120 line comes first. Only the signs of danger
now count: a heart attack's chest pain with a second sign, breath that won't come, someone who
doesn't answer or fell and can't get up, a person missing; a sign told as a worry, a habit or a
past event (怕摔倒起不来, 老是走丢, 上次走丢过) is not danger now.

Pure functions, no Rasa: the actions ask :func:`in_danger_now` before answering.
"""

from __future__ import annotations

import re

# Someone a resident looks after: who goes missing.
PERSON = (
    r"(?:孩子|儿子|女儿|小孩|娃|孙子|孙女|仔|囡|老人|老伴|老头|老太|老爷子|老太太|我妈|我爸|阿妈|阿爸"
    r"|阿公|阿婆|阿嬷|奶奶|爷爷|外婆|外公|婆婆|公公|母亲|父亲)"
)
# Someone shut in a lift now (电梯卡在七楼了 里面关着人): not a lift that only stopped.
SHUT_IN_A_LIFT = (  # not when no one is (里头没关着人, 没人被关在里面)
    r"电梯.{0,16}(?<!没)(?<!没有)(?<!没人)(?<!没人被)(?<!没有人)(?<!没有人被)(?<!无人)"
    r"(?:关着|困着|关住了|困住了|被困|困在|关在)"
)
_SIGNS = (
    # chest pain with a second sign of a heart attack
    r"胸(?:口|坎|前)?.{0,8}(?:痛|疼|闷).{0,14}(?:喘|透不过气|气短|发麻|麻了|出冷汗|大汗|欲死|要死|受不了)",
    SHUT_IN_A_LIFT,
    # breath that won't come
    r"(?:喘|透|吸)(?:不上|不过|袂过|唔过|唔到|不到)(?:来)?气",
    # someone who doesn't answer
    r"叫不醒|喊不醒|叫唔醒|(?:喊|叫)(?:他|她|佢|伊)?(?:也|都)?(?:不大|不|没|唔|冇)(?:应声|答应|反应|回应)"
    r"|不省人事|昏迷|没(?:了)?(?:意识|呼吸)|口吐白沫|抽搐|迷迷糊糊|神志不清|意识不清",
    # poisoned
    r"煤气中毒|一氧化碳中毒|中毒了|喝了农药|吃了老鼠药",
    # fell and can't get up
    r"(?:摔|滑|跌|绊|掉)(?:倒|了一跤|下来|下去|了).{0,10}(?:起不来|爬不起来|动不了|起唔到|起袂来)",
    # someone lying on the ground who doesn't move, or struck by something falling
    r"(?:躺|倒|趴)(?:在)?(?:地上|地下|路上|路边|马路上|楼道里?|门口).{0,6}(?:不动|动不了|没反应|没动静|起不来)"
    r"|(?:砸|压)(?:到|中|伤)了?(?:一个|个)?(?:人|路人|行人|老人|孩子|小孩)",
    # a person missing: lost, gone since hours, or just gone (孩子不见了; not 孩子的书包不见了)
    PERSON + r".{0,14}(?:走丢了|走失了|跟丢了|走散了|找不到了|找不着了|找唔到|不见人影)",
    PERSON + r".{0,20}(?:到现在|现在|到而家|到宜家|一直|半天|天黑|钟头|小时|一晚|一夜).{0,6}"
    r"(?:没回|未返|冇返|唔见|不见|没见人|没见到人|没见着人)",
    PERSON + r"(?:又|也|突然|忽然)?(?:丢了|不见了|唔见咗|冇咗|找不见了|寻不见了|寻不着了)",
    PERSON + r".{0,10}(?:没回家|没回来|不见了|找不到).{0,16}(?:找了|到处找|钟头|小时|半天)",
)
_SIGN = re.compile("|".join(f"(?:{s})" for s in _SIGNS))
# A danger told as past (上周着火了, 前几天有人晕倒): the story around a question.
_PAST = re.compile(r"上周|上礼拜|上星期|上个月|上回|上次|前几天|前两天|前阵子|去年|以前|之前|那年")
# Told as a worry, a habit, a past event or a question about prevention: not danger now.
_NOT_NOW = re.compile(
    r"怕|万一|以防|防止|预防|要是|如果|会不会|经常|老是|总是|常常|动不动|上次|上回|以前|去年|前几天|上周|上个月"
    r"|定位|手环|防走失|体检|老毛病|慢性|门诊|报销"
)  # not all of _PAST: 我爸之前有心脏病，现在胸口痛得喘不上气 is danger now


def in_danger_now(text: str) -> bool:
    """Whether ``text`` tells of someone in danger now (:data:`_SIGNS`), not as a worry, habit
    or past event (:data:`_NOT_NOW`)."""
    text = text or ""
    return bool(_SIGN.search(text)) and not _NOT_NOW.search(text)


# A danger told as a worry or a wish to learn (怕我妈摔倒了起不来, 万一着火了, 想知道着火了怎么逃):
# the clause from the worry word on.
_WORRY = re.compile(
    r"(?:怕|万一|担心|以防|防止|预防|要是|如果|想知道|想了解|想学|防(?=地震|火|灾|汛|台风|洪|煤气|燃气))"
    r"[^，,。；;？?！!]*"
)


def without_worries(text: str) -> str:
    """``text`` without the dangers it tells as worries (:data:`_WORRY`): 我老伴摔倒了起不来，我怕
    他骨折了 keeps its fall; 我怕我妈摔倒了起不来，有没有一键呼叫的东西 keeps only its question."""
    return _WORRY.sub("", text or "")


def told_as_past(text: str) -> bool:
    """Whether ``text`` tells of its danger as something that happened before (:data:`_PAST`)."""
    return bool(_PAST.search(text or ""))
