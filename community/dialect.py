"""Dialect words residents type or say, read as the Mandarin word of the same length.

A Cantonese speaker writes 点样申请 (怎样申请), 揾工 (找工), 屋企 (家里); a Shanghainese one 阿拉
(我们), 侬 (你); a Hokkien one 厝 (家), 叨位 (哪里); Sichuanese 啥子 (什么), 莫得 (没有); Hunanese
么子 (什么), 伢子 (孩子). The classifier and the catalogue know the Mandarin words, so
:func:`community.textnorm.normalize_aligned` reads these as them. Only words that mean nothing
else in Mandarin text, each replaced by a word of the same length (entity offsets stay valid).

A word that is also part of ordinary Mandarin (么样 in 什么样, 额 in 金额/额外,
甚 in 甚至) is read only in the context the dialect gives it: :data:`IN_CONTEXT`.
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
    "冇得": "没有", "今朝": "今天", "凑仔": "带娃", "搵": "找", "哋": "们", "畀": "给", "嗰": "那",
    "攞": "拿", "揸车": "开车", "唔该": "谢谢", "唔识": "不会", "倾偈": "聊天",
    "搞掂": "搞定", "差佬": "警察", "乜": "啥", "咁样": "这样", "咁": "这", "返学": "上学",
    "出世纸": "出生证", "啱啱": "刚刚", "两公婆": "两口子",
    # 吴 (Shanghainese and around)
    "阿拉": "我们", "侬": "你", "小囡": "小孩", "覅": "别", "搿": "这", "里厢": "里面",
    # 闽 (Hokkien, Teochew), 客家, 海南
    "囝仔": "孩子", "叨位": "哪里", "佗位": "哪里", "厝边": "邻居", "厝": "家", "呷饭": "吃饭",
    "囝": "儿", "底块": "哪里", "汝": "你", "孥仔": "孩子", "睏": "睡",
    "𠊎": "我", "细人子": "小孩子",
    # 西南, 湘, 鄂, 东北, 晋/陕
    "啥子": "什么", "莫得": "没有", "屋头": "家里", "伢子": "孩子", "伢": "娃", "娭毑": "奶奶",
    "恰饭": "吃饭", "嘎达": "地方", "啷个": "怎么", "嘎哈": "干啥", "咋整": "咋办",
    "埋汰": "脏乱", "唠嗑": "聊天", "咋介": "怎么", "谝": "聊", "婆姨": "老婆",
}

# (dialect word in its context, Mandarin word of the same length): words that are also
# ordinary Mandarin elsewhere, read only where the dialect puts them.
_AFTER_PRONOUN_OR_START = r"(?<![^\s,.?!，。？！、：:;；跟给让叫帮问和说找替陪])"
IN_CONTEXT: list[tuple[str, str]] = [
    # 么子/么斯/么事 (湘, 鄂: 什么), 么样 (鄂: 怎样), 么个 (客家, 赣: 什么): not 什么子女, 怎么样
    (r"(?<![什怎这那多要干])么子", "什么"),
    (r"(?<![什怎这那多要干])么斯", "什么"),
    (r"(?<![什怎这那多要干])么事", "什么"),
    (r"(?<![什怎这那多要干])么样", "怎样"),
    (r"(?<![什怎这那多要干])么个", "什么"),
    (r"伊拉(?!克)", "他们"),  # 吴; 伊拉克 is Iraq
    # 而家 (粤: 现在): not 因病而家庭困难, 而家长
    (r"而家(?![庭长属里人中乡具务族境门园政])", "现在"),
    # 成日 (粤: 整天): not 改成日间照料, 完成日期, 变成日常
    (r"(?<![完建造变达形落组构做合生养促改换折])成日(?![期间常本元语报子历志程])", "整天"),
    (r"老豆(?![腐角芽浆苗荚干])", "老爸"),  # 粤; not 老豆腐
    (r"(?<!牛)仔女", "子女"),  # 粤; not 牛仔女装
    (r"凑(?=[女孙他她])", "带"),  # 粤 凑仔, 凑佢 (look after a child); not 凑钱, 凑合
    # 点算 (粤: 怎么办) ending what is asked; not 钟点算钱 (hourly pay), 清点算账
    (r"(?<![钟清盘重])点算(?=好|呀|啊|啦|哦|[\s,.?!，。？！]|$)", "怎办"),
    (r"(?<![A-Za-z])BB(?![A-Za-z霜机])", "宝宝"),  # 粤 (baby); not BB霜
    (r"(?<!星)辰光", "时候"),  # 吴 啥辰光; not 星辰光芒
    (r"(?<![淘劣裁沙])汰(?![换旧])", "洗"),  # 吴 汰浴, 汰衣裳; not 淘汰, 优胜劣汰
    (r"(?<![人动货宠财生植礼废杂购食药文景博万])物事", "东西"),  # 吴; not 人物事迹
    (r"干哈(?!密)", "干啥"),  # 东北; not 干哈密瓜
    (r"一哈(?!哈)", "一下"),  # 西南, 鄂 等一哈
    (r"(?<![命打其击考猜选集说])中不中", "行不行"),  # 中原
    (r"恁(?=[社们说能这是家都咋要想])", "你"),  # 中原 恁社区, 恁们; not 恁地
    (r"(?<=[俺我你他她恁也都还就可])木(?=[有办找拿领])", "没"),  # 中原 木有; not 树木有
    # 克 (晋, 西北: 去) before a verb; not 克服, 千克, 马克
    (r"(?<![0-9一二三四五六七八九十百千万几多公毫兆攻马坦巧沙夸麦布拉罗普希迪西约杰伏特秋丘卡尼贝])"
     r"克(?=[陪看问办找领买])", "去"),
    # 晋, 陕: 额 (我) only where a pronoun stands and before what follows one; not 金额, 额外
    (_AFTER_PRONOUN_OR_START + r"额(?=[们家想妈爸娘爹老婆娃孙儿女是在要有能不也就屋都还今昨明这那寻的俩最咋"
     r"一二三四五六七八九十])", "我"),
    # 甚 (什么): 甚时候, 甚地方, 做甚; not 甚至, 甚好
    (r"甚(?=[时地东事人家])", "啥"),
    (r"(?<=[做干为寻弄要说问])甚(?![至好少佳多为大嚣远微巨么])", "啥"),
    # 寻 (找): not 寻求, 寻常, 寻找, 寻思, 寻死, 寻短见
    (r"(?<![找搜追探])寻(?![找求常访觅味思死衅欢租短呼根])", "找"),
    (r"(?<![联衣分])袂", "不"),  # 闽 (cannot); not 联袂, 衣袂
    (r"(?<![勇果])敢会", "能否"),  # 闽 敢会使 (可以吗)
    # Left out: 耍 (西南 玩), 咋个, 阮 (闽 我; also a surname), 阿嬷, 嘢 (each, read as Mandarin,
    # broke a studied resident's answer); 欲 (闽 要; also 食欲, 欲望: a held-out intent example fell
    # to fallback); 哪能 (吴 怎么, but Mandarin 哪能 is 哪里能: 在哪能办).
    (r"(?<![猜])揣(?=[谁人无头])", "找"),  # 闽 揣谁来修, 揣无头路; not 揣测, 揣着
    (r"(?<![回])头路", "工作"),  # 闽 (job); not 走回头路
    (r"按怎(?![么样])", "怎样"),  # 闽 (how); not 按怎样的标准
    (r"(?<!转)转来(?!转)", "回来"),  # 闽, 客家 (come back); not 转来转去
    (r"(?<=[还都])无(?=[人去来回转])", "没"),  # 闽 还无转来 (还没回来); not 都无法
    (r"(?<!房)屋下(?![水面边方来])", "家里"),  # 客家; not 房屋下水道
]
# 伐 ends a Shanghainese question (好伐, 有伐): 吗; elsewhere it is 步伐, 采伐.
# 无 ends a Hokkien one (会来无, 有人帮看无): 吗; not 毫无, 全无, 暂无.
IN_CONTEXT += [
    (r"(?<![步采征讨杀])伐(?=[\s,.?!，。？！]|$)", "吗"),
    (r"(?<![毫全并从绝虚空一有南别皆尚暂均概亦若似实])无(?=[\s,.?!，。？！]|$)", "吗"),
]
_WORDS = re.compile("|".join(sorted(map(re.escape, IN_MANDARIN), key=len, reverse=True)))
_IN_CONTEXT = [(re.compile(word), mandarin) for word, mandarin in IN_CONTEXT]


def in_mandarin(text: str) -> str:
    """``text`` with its dialect words read as Mandarin, the same length."""
    text = _WORDS.sub(lambda m: IN_MANDARIN[m.group()], text)
    for word, mandarin in _IN_CONTEXT:
        text = word.sub(mandarin, text)
    return text
