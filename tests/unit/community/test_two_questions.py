"""Two asks in one message, the second naming no service (community/two_questions.py)."""

import pytest

from community.two_questions import asks, two_services


def ids(services):
    return [s.id for s in services]


def test_a_second_ask_opened_by_a_joining_word_is_answered_too(catalogue):
    text = "我六十八了免费体检几号？还有我的降压药想在社区开"
    assert asks(text) == ["我六十八了免费体检几号", "还有我的降压药想在社区开"]
    assert ids(two_services(catalogue, text, None)) == [
        "health_checkup_elderly", "health_family_doctor_prescription"
    ]


def test_an_ask_that_names_no_service_is_read_against_the_likeliest_intents(catalogue):
    text = "残疾证和残疾人补贴怎么一起办"
    assert two_services(catalogue, text, None) == []  # 残疾人补贴怎么一起办 alone names nothing
    assert ids(two_services(catalogue, text, None, ["disability_support"])) == [
        "disability_support_certificate", "disability_support_allowance"
    ]


def test_asks_in_other_domains_are_answered_each_by_its_own_service(catalogue):
    text = "下午突然停水停电了咋回事？还有我想申请公租房"
    assert ids(two_services(catalogue, text, None)) == [
        "community_complaint_outage", "community_assistance_housing"
    ]


def test_a_follow_up_about_the_same_service_is_one_ask(catalogue):
    assert asks("高龄津贴在哪领？要带什么？") == ["高龄津贴在哪领 要带什么"]
    assert two_services(catalogue, "低保怎么申请? 需要什么材料?", None, ["community_assistance"]) == []


def test_a_story_around_one_question_is_one_ask(catalogue):
    story = "孩子他爸在工地出了事，家里就靠我打零工。老大上初中，放学都没人管。社区对困难家庭的孩子有帮扶吗？"
    assert asks(story) == ["社区对困难家庭的孩子有帮扶吗"]
    assert two_services(catalogue, story, None, ["childcare_afterschool", "community_assistance"]) == []


def test_still_there_is_not_a_second_ask(catalogue):
    assert len(asks("老年食堂还有没有位置？")) == 1


def test_a_service_named_then_and_another_ask(catalogue):
    assert ids(two_services(catalogue, "高龄津贴和助餐补贴在哪申请", None)) == [
        "elderly_allowance_age", "elderly_meal_subsidy"
    ]
    assert two_services(catalogue, "我和老伴想问高龄津贴", None) == []  # nothing named before 和


def test_a_second_certificate_asked_for_with_haiyao_is_a_second_ask(catalogue):
    text = "新单位入职要婚育证明，还要一个身体健康证明，这两个分别在哪开"
    assert len(asks(text)) == 2
    assert ids(two_services(catalogue, text, None)) == ["cert_family_planning", "cert_health_status"]
    assert len(asks("办低保要带啥，还要带户口本吗")) == 1  # 还要带: the same ask


def test_of_two_services_an_ask_names_the_one_of_the_messages_domain_is_taken(catalogue):
    # 装扶手 is the elderly's 适老化改造, 无障碍改造 the disabled's
    text = "我是肢体残疾，两项补贴怎么领，另外家里能不能装扶手做无障碍改造"
    assert two_services(catalogue, text, None) == []  # which of the two: no one knows
    assert ids(two_services(catalogue, text, None, domain="disability")) == [
        "disability_support_allowance", "disability_support_barrier_free"
    ]


def test_this_way_and_that_way_are_not_questions():
    story = "两口子天天为钱吵，闹到要分开，这么多年的家就这么没了。社区能帮我们调解一下家庭矛盾吗"
    assert asks(story) == ["社区能帮我们调解一下家庭矛盾吗"]


def test_another_domains_short_name_in_an_ask_is_where_not_what(catalogue):
    # 敬老院 is the elderly's 养老机构; a volunteer asking to join a visit there asks for an activity
    text = "我的志愿时长在哪查，另外敬老院的慰问活动怎么报名参加"
    assert ids(two_services(catalogue, text, None, domain="volunteer")) == [
        "volunteer_signup_hours", "volunteer_signup_activities"
    ]
    assert "elderly_daycare_institution" in ids(two_services(catalogue, text, None))


@pytest.mark.parametrize("text, both", [
    ("我刚失业，想先做个失业登记，再问问有没有电工培训",
     ["employment_unemployment_registration", "employment_training_skills"]),
    ("我阿妈要办高龄津贴，仲有我个仔要打疫苗，喺边度办？",
     ["elderly_allowance_age", "health_checkup_vaccine"]),
    ("我想报名当志愿者，然后也想问问社区有没有献血车",  # 然后也想 opens it
     ["volunteer_signup_register", "volunteer_signup_blood"]),
    ("我闺女失业了，先去做个失业登记，然后再报个技能培训，都在社区吗",
     ["employment_unemployment_registration", "employment_training_skills"]),
])
def test_a_second_ask_opened_in_other_words_is_answered_too(catalogue, text, both):
    assert ids(two_services(catalogue, text, None)) == both


def test_the_age_a_resident_tells_is_who_they_are_not_what_they_ask(catalogue):
    text = "我妈八十多了，想问能不能上门帮她洗澡，还有那个一键呼叫的设备怎么装"
    assert ids(two_services(catalogue, text, None, domain="elderly")) == [
        "elderly_homecare_bath", "elderly_homecare_emergency_call"
    ]


@pytest.mark.parametrize("text, parts, domain, both", [
    # a second sentence that wants another thing too
    ("我爸85岁了，高龄津贴怎么领？老年优待证也想一起办",
     ["我爸85岁了,高龄津贴怎么领", "老年优待证也想一起办"], "elderly",
     ["elderly_allowance_age", "elderly_allowance_card"]),
    # ... or a change too
    ("残疾证办好了能申请轮椅吗？家里门槛也想改一下",
     ["残疾证办好了能申请轮椅吗", "家里门槛也想改一下"], "disability",
     ["disability_support_assistive", "disability_support_barrier_free"]),
    # a wish before another ask is the first ask
    ("想给我妈约个上门助浴。另外我爸满九十了，高龄津贴多少钱？",
     ["想给我妈约个上门助浴", "另外我爸满九十了,高龄津贴多少钱"], "elderly",
     ["elderly_homecare_bath", "elderly_allowance_age"]),
])
def test_a_sentence_with_no_question_word_can_be_an_ask_of_its_own(catalogue, text, parts, domain, both):
    assert asks(text) == parts
    assert ids(two_services(catalogue, text, None, domain=domain)) == both


def test_a_story_before_another_ask_is_still_one_ask(catalogue):
    assert two_services(catalogue, "孩子刚满月。另外想问问疫苗在哪打", None, domain="health") == []
