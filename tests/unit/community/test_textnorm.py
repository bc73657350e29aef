import pytest

from community.textnorm import InputProblem, clean_text, input_problem, normalize_aligned


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("養老證明怎麼開", "养老证明怎么开"),
        ("殘疾人補貼", "残疾人补贴"),
        ("３栋２单元５０１", "3栋2单元501"),
        ("ＡＢＣ　高龄津贴", "ABC 高龄津贴"),
    ],
)
def test_normalisation_maps_traditional_and_full_width(raw, expected):
    assert clean_text(raw) == expected


def test_aligned_normalisation_keeps_offsets():
    raw = "<b>我媽</b>八十二歲了"
    norm = normalize_aligned(raw)
    assert len(norm) == len(raw)
    assert norm.index("我妈") == raw.index("我媽")
    assert "<" not in norm and "b>" not in norm


def test_script_blocks_are_blanked_not_read():
    assert clean_text("<script>alert('高龄津贴')</script>助餐在哪") == "助餐在哪"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", InputProblem.EMPTY),
        ("   \n\t ", InputProblem.EMPTY),
        ("高" * 5000, InputProblem.TOO_LONG),
        ("😀😀👍", InputProblem.EMOJI_ONLY),
        ("🙏🏻", InputProblem.EMOJI_ONLY),
        ("hello, how do I get a certificate?", InputProblem.NO_CHINESE),
        ("<script>alert(1)</script>", InputProblem.MARKUP),
        ("<b></b>", InputProblem.MARKUP),
    ],
)
def test_unreadable_input_is_named(text, problem):
    assert input_problem(text) is problem


@pytest.mark.parametrize(
    "text", ["高龄津贴怎么领", "我想问 elderly meal 助餐", "養老服務", "１２３ 助餐", "<b>助餐</b>在哪"]
)
def test_readable_input_has_no_problem(text):
    assert input_problem(text) is None


@pytest.mark.parametrize(
    "said, read",
    [
        ("我想揾份工，社区有冇介绍", "我想找份工,社区有没介绍"),  # 粤
        ("阿拉姆妈想去食堂，侬晓得伐", "我们姆妈想去食堂,你晓得吗"),  # 吴: 伐 ending a question
        ("伢子么子时候报名", "孩子什么时候报名"),  # 湘
        ("屋头莫得人管", "家里没有人管"),  # 川渝
        ("我而家冇得工做，老豆成日话我", "我现在没有工做,老爸整天话我"),  # 粤
        ("𠊎屋下细人子冇人带", "我家里小孩子没人带"),  # 客家
        ("老汉要去医院，欲揣人陪，敢会使", "老汉要去医院,欲找人陪,能否使"),  # 闽
        ("阿嬷出去还无转来", "阿嬷出去还没回来"),  # 闽
        ("社区会来调解无？", "社区会来调解吗?"),  # 闽: 无 ending a question
        ("额想寻个人谝谝", "我想找个人聊聊"),  # 晋, 陕
        ("做甚了，甚地方能开", "做啥了,啥地方能开"),  # 晋
        ("老头子走了，房子么样分，搞么斯", "老头子走了,房子怎样分,搞什么"),  # 鄂
        ("啥辰光好汰浴", "啥时候好洗浴"),  # 吴
        ("嘎哈呢，楼道太埋汰了咋整", "干啥呢,楼道太脏乱了咋办"),  # 东北
        ("托班中不中，啷个报名", "托班行不行,怎么报名"),  # 中原, 西南
        ("两公婆都要返工，边个帮手凑佢", "两口子都要上班,哪个帮手带他"),  # 粤
        ("个出世纸喺边度攞，点算？", "个出生证在哪里拿,怎办?"),  # 粤: 点算 ending a question
        ("恁社区能办不，俺也木找着", "你社区能办不,俺也没找着"),  # 中原
        ("欲揣谁来修，按怎办", "欲找谁来修,怎样办"),  # 闽
    ],
)
def test_dialect_words_are_read_as_mandarin_of_the_same_length(said, read):
    assert clean_text(said) == read
    assert len(normalize_aligned(said)) == len(said)


@pytest.mark.parametrize(
    "text",
    [
        "步伐太快跟不上",  # 伐 not ending a question
        "有什么子女教育补贴", "怎么样了", "办什么事",  # 么子, 么样, 么事 inside Mandarin words
        "因病而家庭困难", "改成日间照料中心", "完成日期", "老豆腐", "牛仔女装",
        "金额多少", "额外的补贴", "余额不足", "名额有吗",  # 额 is 我 only where a pronoun stands
        "甚至不知道", "寻求帮助", "寻常", "寻短见", "淘汰旧家电", "优胜劣汰", "先进人物事迹",
        "阮老师", "联袂演出", "食欲不振", "畅所欲言", "转来转去", "房屋下水道",
        "名额暂无", "消息全无", "伊拉克", "命中不中", "干哈密瓜", "星辰光芒",
        "钟点算钱", "凑钱", "凑合", "树木有虫", "克服困难", "五百克买了", "走回头路", "BB霜",
        "按怎样的标准", "揣测",
    ],
)
def test_mandarin_that_looks_like_a_dialect_word_is_left_alone(text):
    assert clean_text(text) == text


def test_a_dialect_question_reaches_the_service_its_mandarin_would(catalogue):
    from community.service_similarity import closest_service

    found = closest_service(catalogue, "我想揾份工 社区有冇介绍", "employment_jobs")
    assert found.id == "employment_jobs_recommend"


def test_details_a_resident_gives_keep_their_dialect_words():
    from community.textnorm import plain_aligned

    assert plain_aligned("我叫阿拉坦仓") == "我叫阿拉坦仓"  # a Mongolian name, not 我们坦仓
