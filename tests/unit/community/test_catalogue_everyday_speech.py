"""Names as residents say them (issue #11): a longer sound-alike over a short name it holds,
characters typists write for one another, 的/个 inside a name, a question that only asks how,
and 谁 as a question word."""

from community.catalogue import question_of


def ids(catalogue, text):
    return [m.service.id for m in catalogue.asked(text)]


def test_a_longer_name_heard_by_sound_wins_over_a_short_name_inside_it(catalogue):
    # 放 for 防: the 防走失 bracelet, not 走失 (someone missing now)
    assert ids(catalogue, "放走失手环多少钱一个") == ["elderly_homecare_anti_wander"]
    assert ids(catalogue, "放走失的服务谁能办") == ["elderly_homecare_anti_wander"]


def test_a_short_name_on_its_own_is_still_itself(catalogue):
    assert ids(catalogue, "有个老人在小区门口走失了") == ["emergency_help_missing"]


def test_characters_written_for_one_another_count_as_the_same(catalogue):
    assert ids(catalogue, "我想找公做 社区有没有门路") == ["employment_jobs_recommend"]  # 做/作


def test_de_and_ge_inside_a_name_are_read_through(catalogue):
    assert ids(catalogue, "卫生间想安装个扶手") == ["elderly_homecare_retrofit"]  # 安装扶手


def test_a_question_that_only_asks_how_asks_about_the_clause_before(catalogue):
    text = "家里老人想做防滑改造，需要准备哪些材料"
    assert ids(catalogue, text) == ["elderly_homecare_retrofit"]
    # a question clause that asks about something of its own is not a follow-up
    assert ids(catalogue, "上个月办完高龄津贴，社区食堂的饭好不好吃") == ["elderly_meal_canteen"]


def test_who_asks_a_question(catalogue):
    assert question_of("楼上天天半夜剁馅 谁能管管") == "楼上天天半夜剁馅 谁能管管"


def test_someone_seen_lying_on_the_floor_is_a_medical_emergency(catalogue):
    text = "邻居老太太一天没开门，从窗户看见她躺在地上"
    assert ids(catalogue, text) == ["emergency_help_medical"]
    assert ids(catalogue, "我爸叫不醒了") == ["emergency_help_medical"]
