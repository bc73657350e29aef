"""Dialect words residents type or say, read as the Mandarin word of the same length.

A Cantonese speaker writes 点样申请 (怎样申请), 揾工 (找工), 屋企 (家里); a Shanghainese one 阿拉
(我们), 侬 (你); a Hokkien one 厝 (家), 叨位 (哪里); Sichuanese 啥子 (什么), 莫得 (没有); Hunanese
么子 (什么), 伢子 (孩子). The classifier and the catalogue know the Mandarin words, so
:func:`community.textnorm.normalize_aligned` reads these as them. Only words that mean nothing
else in Mandarin text, each replaced by a word of the same length (entity offsets stay valid).
"""

from __future__ import annotations

import re

# dialect word → Mandarin word of the same length
IN_MANDARIN: dict[str, str] = {
    # 粤 (Cantonese)
    "点样": "怎样", "边度": "哪里", "边个": "哪个", "几多": "多少", "乜嘢": "什么",
    "屋企": "家里", "细路": "小孩", "老细": "老板", "返工": "上班", "做嘢": "干活", "冲凉": "洗澡",
    "听日": "明天", "琴日": "昨天", "系咪": "是不", "冇": "没", "唔": "不", "佢": "他", "嘅": "的",
    "咗": "了", "啲": "些", "嚟": "来", "喺": "在", "睇": "看", "揾": "找", "俾": "给", "咩": "啥",
    "瞓": "睡", "攰": "累",
    # 吴 (Shanghainese and around)
    "阿拉": "我们", "伊拉": "他们", "侬": "你", "小囡": "小孩",
    # 闽 (Hokkien)
    "囝仔": "孩子", "叨位": "哪里", "厝": "家", "呷饭": "吃饭",
    # 西南, 湘, 东北
    "啥子": "什么", "莫得": "没有", "屋头": "家里", "么子": "什么", "伢子": "孩子", "娭毑": "奶奶",
    "恰饭": "吃饭", "嘎达": "地方",
}
# 伐 ends a Shanghainese question (好伐, 有伐): 吗; elsewhere it is 步伐, 采伐.
_QUESTION_FA = re.compile(r"伐(?=[\s,.?!，。？！]|$)")
_WORDS = re.compile("|".join(sorted(map(re.escape, IN_MANDARIN), key=len, reverse=True)))


def in_mandarin(text: str) -> str:
    """``text`` with its dialect words read as Mandarin, the same length."""
    return _QUESTION_FA.sub("吗", _WORDS.sub(lambda m: IN_MANDARIN[m.group()], text))
