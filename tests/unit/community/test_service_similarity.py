"""A question that names no service gets the intent's service it clearly shares rare character
pairs with, and a menu when it shares only the domain's common words."""

import pytest

from community.catalogue import Match, question_of, without_asking_words
from community.service_similarity import closest_service, more_specific, scores


@pytest.mark.parametrize(
    ("text", "intent", "expected"),
    [
        ("我爸耳朵不好 助听器去哪申请", "disability_support", "disability_support_assistive"),
        ("居委会周末上班吗", "community_affairs", "community_affairs_office"),
        ("邻居装修太吵能调解吗", "legal_mediation", "legal_mediation_neighbor"),
        ("孩子该打什么疫苗了", "health_checkup", "health_checkup_vaccine"),
        # 没有 / 莫得 (西南官话) read as 没: 没工作 of the unemployment certificate's words
        ("现在办事要开个没有工作的证明 这个找谁开", "cert_apply", "cert_unemployed"),
        ("俺屋头莫得工作 要开个证明", "cert_apply", "cert_unemployed"),
    ],
)
def test_a_question_in_other_words_reaches_its_service(catalogue, text, intent, expected):
    service = closest_service(catalogue, text, intent)
    assert service is not None and service.id == expected


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("想开个证明", "cert_apply"),  # 证明: every certificate
        ("我想问问养老方面的事", "elderly_daycare"),  # 养老: many elderly services
        ("补贴怎么申请", "elderly_allowance"),
        ("托管的事", "childcare_afterschool"),  # two services share 托管 equally
        ("今天天气不错", "community_affairs"),  # nothing shared
    ],
)
def test_only_common_words_get_the_menu(catalogue, text, intent):
    assert closest_service(catalogue, text, intent) is None


def test_only_the_intents_services_are_candidates(catalogue):
    ranked = scores(catalogue, "助听器去哪申请", "legal_aid")
    assert ranked and all(service.intent == "legal_aid" for _, service in ranked)
    assert closest_service(catalogue, "助听器去哪申请", "no_such_intent") is None


def test_the_question_of_a_story_is_its_last_asking_clause_and_the_one_before():
    story = "我们家去年搬过来，孩子明年要上学，现在想把户口迁过来，要办什么手续"
    assert question_of(story) == "现在想把户口迁过来 要办什么手续"
    assert question_of("社区有老年食堂吗 在哪") == "社区有老年食堂吗 在哪"
    assert question_of("我家楼道灯坏了") == "我家楼道灯坏了"


def test_question_words_inside_a_name_are_dropped_for_a_second_look(catalogue):
    assert without_asking_words("义工怎么报名") == "义工报名"
    assert without_asking_words("残疾证在哪里能办") == "残疾证办"
    assert [m.service.id for m in catalogue.asked(without_asking_words("义工咋报名"))] == [
        "volunteer_signup_register"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("退伍的军人想找工作 有门路吗", "employment_jobs_veteran"),  # 找工作 → 退役军人找工作
        ("助餐能送上门吗", "elderly_meal_delivery"),  # 助餐 → 助餐送餐上门
        ("想找工作 有门路吗", "employment_jobs_recommend"),
        ("助餐在哪吃", "elderly_meal_canteen"),
    ],
)
def test_the_rest_of_the_question_picks_the_more_specific_sibling(catalogue, text, expected):
    [match] = catalogue.asked(text)
    assert more_specific(catalogue, match, question_of(text)).id == expected


def test_a_short_name_said_as_who_does_it_yields_to_what_the_whole_message_asks(catalogue):
    text = "想给我妈配个助听器 她有残疾证 残联能不能适陪"
    [match] = [m for m in catalogue.asked(text) if m.alias == "残联"]
    assert more_specific(catalogue, match, question_of(text), text).id == "disability_support_assistive"
    text = "我是残疾人家属 想找残联的专职委员聊聊"  # the association itself is asked for
    [match] = [m for m in catalogue.asked(text) if m.alias == "残联"]
    assert more_specific(catalogue, match, question_of(text), text).id == "disability_support_association"


def test_a_name_heard_by_sound_is_not_second_guessed(catalogue):
    heard = Match(catalogue.get("elderly_meal_canteen"), 0, 2, "助餐", by_sound=True)
    assert more_specific(catalogue, heard, "助餐能送上门吗") is heard.service


def test_the_domains_other_services_are_tried_when_the_intents_have_none(catalogue):
    # classified as legal aid, but the catalogue has 赡养 and 押金 under mediation
    family = closest_service(catalogue, "兄弟俩为赡养老人闹翻了 能找谁", "legal_aid")
    assert family.id == "legal_mediation_family"
    assert closest_service(catalogue, "押金被房东扣了 咋办", "legal_aid").id == "legal_mediation_rental"
    assert closest_service(catalogue, "想问问法律方面的事", "legal_aid") is None


def test_the_words_residents_use_for_a_need_pick_its_service(catalogue):
    from dataclasses import replace

    from community.catalogue import Catalogue
    from community.service_similarity import closest_service

    question = "我爸糊涂了 老往外跑 咋办"
    plain = Catalogue([replace(s, words=()) for s in catalogue.services], catalogue.titles)
    assert closest_service(plain, question, "elderly_homecare") is None  # names alone: no choice
    words = {"elderly_homecare_anti_wander": ("糊涂", "往外跑")}
    taught = Catalogue([replace(s, words=words.get(s.id, ())) for s in catalogue.services], catalogue.titles)
    assert closest_service(taught, question, "elderly_homecare").id == "elderly_homecare_anti_wander"


def test_a_residents_word_said_whole_counts_even_when_its_characters_make_no_pair(catalogue):
    from dataclasses import replace

    from community.catalogue import Catalogue
    from community.service_similarity import closest_service

    question = "眼睛不好 开关都摸不着 能不能给改改"  # 摸不着: 摸不, 不着 are pairs of a function character
    words = {"disability_support_barrier_free": ("摸不着",)}
    plain = Catalogue([replace(s, words=()) for s in catalogue.services], catalogue.titles)
    taught = Catalogue([replace(s, words=words.get(s.id, ())) for s in catalogue.services], catalogue.titles)
    assert closest_service(plain, question, "disability_support") is None
    assert closest_service(taught, question, "disability_support").id == "disability_support_barrier_free"


def test_words_for_the_same_thing_are_read_alike():
    from community.service_similarity import pairs, same_thing

    assert same_thing("小孩子体检") == same_thing("孩子体检") == "儿童体检"
    assert same_thing("社区大夫") == "社区医生"
    assert pairs("宝宝体检") == pairs("儿童体检")
    assert same_thing("生了二宝") == same_thing("生了二胎") == "生了二孩"
    assert same_thing("茅房装扶手") == "卫生间装扶手"
    assert same_thing("能不能评个残") == "能不能评残"  # 个 and 的 put inside a name as one speaks


def test_a_child_is_a_child_whatever_the_resident_calls_it(catalogue):
    # 儿童体检 is a name; residents say 孩子, 小孩, 宝宝, 娃
    for child in ("孩子", "娃", "小朋友"):
        assert closest_service(catalogue, f"{child}体检在哪做", "health_checkup").id == "health_checkup_child"


def test_an_object_said_before_its_verb_is_read_as_the_verb_and_object():
    from community.service_similarity import fronted_pairs

    assert "开药" in fronted_pairs("降压药能在社区开吗")
    assert {"交医", "交保"} <= fronted_pairs("医保怎么交")
    assert fronted_pairs("居委会给开不") == set()  # 给: who opens it, not what
    assert fronted_pairs("我想开药") == set()  # verb first: an ordinary pair


def test_medicine_asked_for_at_the_community_is_a_prescription(catalogue):
    service = closest_service(catalogue, "常吃的降压药能在社区开吗", "health_family_doctor")
    assert service.id == "health_family_doctor_prescription"


def test_pairs_every_kind_of_question_has_weigh_nothing():
    from community.service_similarity import pairs

    # 起来 of 吵起来 (a neighbours' quarrel) is as much a fire's 烧起来 or a 物业 quarrel's
    assert "起来" not in pairs("跟物业吵起来了")
    assert not {"怎么", "多少", "办理"} & pairs("怎么办理 要多少钱")
    assert pairs("老人的free体检") == {"老人", "体检"}  # letters: English is matched whole


def test_a_pair_a_speech_recogniser_misheard_is_read_as_the_domains_pair_it_sounds_like(catalogue):
    from community.service_similarity import _domain_index, heard_pairs

    index = _domain_index(catalogue, "disability")
    assert "脑瘫" in heard_pairs(index, {"脑贪"})  # nao3 tan1 (脑摊, 脑滩 are residents' words by now)
    assert heard_pairs(index, {"残疾"}) == set()  # known already
    childcare = _domain_index(catalogue, "childcare")
    assert "生儿" not in heard_pairs(childcare, {"生二"})  # er4 is not er2: no match across words
    elderly = _domain_index(catalogue, "elderly")
    assert heard_pairs(elderly, {"十多"}) == set()  # 八十多 is an age, not 拾掇 (shi2 duo1)


def test_a_sibling_sharing_a_rare_pair_of_the_name_used_is_chosen_when_the_question_points_to_it(
    catalogue,
):
    # 做康复 names community rehabilitation; the child and 说话 point to the child's
    found = catalogue.asked("孩子三岁了还不会说话 是不是要做康复")
    named = next(m for m in found if m.service.id == "disability_support_rehab")
    chosen = more_specific(catalogue, named, "孩子三岁了还不会说话 是不是要做康复")
    assert chosen.id == "disability_support_child_rehab"
    # 证明 of 在职证明 is every certificate's: a story's 租房 doesn't make it a rental's
    text = "一直租房子住 单位要在职证明 这个在职证明谁开"
    named = next(m for m in catalogue.asked(text) if m.service.id == "cert_employment")
    assert more_specific(catalogue, named, text).id == "cert_employment"


def test_a_two_character_name_yields_to_a_sibling_the_question_points_to_twice_as_clearly(catalogue):
    text = "听说门诊开药也能报 要办啥手续"
    start = text.index("开药")
    prescription = catalogue.get("health_family_doctor_prescription")
    named = Match(prescription, start, start + 2, "开药")
    assert more_specific(catalogue, named, text).id == "health_family_doctor_chronic_outpatient"
    # nothing else asked: the name stands
    assert more_specific(catalogue, named, "开药").id == "health_family_doctor_prescription"
