import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from community.catalogue import DOMAINS, CatalogueError, load_catalogue

ROOT = Path(__file__).resolve().parents[3]
CORE = ("cert", "elderly", "childcare", "employment")


def test_sample_catalogue_covers_every_domain(catalogue):
    assert len(catalogue) >= 60
    for domain in DOMAINS:
        assert catalogue.for_domain(domain), domain
    assert sum(len(catalogue.for_domain(d)) for d in CORE) >= 30


def test_certificates_no_longer_issued_say_where_to_go(catalogue):
    retired = [s for s in catalogue.for_domain("cert") if s.no_longer_issued]
    assert len(retired) >= 5
    assert all(s.go_instead for s in retired)
    service = catalogue.find("居委会能开无犯罪证明吗")
    assert service is not None and service.no_longer_issued
    assert "派出所" in service.go_instead


def test_longest_alias_wins(catalogue):
    assert catalogue.find("居住证明怎么开").domain == "cert"
    assert catalogue.find("办居住证要什么").domain == "community"
    assert catalogue.find("我想申请高龄津贴").intent == "elderly_allowance"
    assert catalogue.find("老年助餐怎么报").intent == "elderly_meal"


@pytest.fixture()
def broken_copy(tmp_path):
    target = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", target)
    return target


def _edit(path: Path, edit) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


def test_missing_field_names_file_entry_and_field(broken_copy):
    path = broken_copy / "elderly.yml"
    victim = {}

    def drop_phone(data):
        victim.update(data["services"][1])
        del data["services"][1]["phone"]

    _edit(path, drop_phone)
    with pytest.raises(CatalogueError) as info:
        load_catalogue(broken_copy)
    message = str(info.value)
    assert "elderly.yml" in message and victim["id"] in message and "'phone'" in message


def test_unknown_intent_and_bad_phone_are_rejected(broken_copy):
    _edit(broken_copy / "health.yml", lambda d: d["services"][0].update(intent="health_magic"))
    with pytest.raises(CatalogueError, match="intent"):
        load_catalogue(broken_copy)
    shutil.copy(ROOT / "catalogue" / "health.yml", broken_copy / "health.yml")
    _edit(broken_copy / "health.yml", lambda d: d["services"][0].update(phone="call us"))
    with pytest.raises(CatalogueError, match="phone"):
        load_catalogue(broken_copy)


def test_certificate_without_where_to_go_is_rejected(broken_copy):
    def blank(data):
        entry = next(s for s in data["services"] if s["committee_issues"] is False)
        entry["go_instead"] = ""

    _edit(broken_copy / "certificates.yml", blank)
    with pytest.raises(CatalogueError, match="go_instead"):
        load_catalogue(broken_copy)


@pytest.mark.parametrize("other, problem", [
    ("no_such_service", "not a service of another domain"),
    ("disability_support_rehab", "not a service of another domain"),  # its own domain
    # already daycare's own
    ("elderly_daycare_center", "already the disabled's own of"),
])
def test_the_disableds_own_service_must_stand_for_one_other_domains_service(
    broken_copy, other, problem
):
    def point(data):
        entry = next(s for s in data["services"] if s["id"] == "disability_support_rehab")
        entry["for_the_disabled_of"] = [other]

    _edit(broken_copy / "disability.yml", point)
    with pytest.raises(CatalogueError, match=problem):
        load_catalogue(broken_copy)


def test_the_disableds_own_service_is_found_for_the_general_one(catalogue):
    own = catalogue.own_for_the_disabled(catalogue.get("employment_jobs_recommend"))
    assert own.id == "disability_support_employment"
    assert catalogue.own_for_the_disabled(catalogue.get("health_checkup_vaccine")) is None


def test_duplicate_alias_across_files_is_rejected(broken_copy):
    _edit(broken_copy / "health.yml", lambda d: d["services"][0]["aliases"].append("高龄津贴"))
    with pytest.raises(CatalogueError, match="高龄津贴"):
        load_catalogue(broken_copy)


def test_invalid_yaml_is_reported_with_the_file(broken_copy):
    (broken_copy / "legal.yml").write_text("services: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="legal.yml.*not valid YAML"):
        load_catalogue(broken_copy)


def test_check_command_exits_non_zero_on_a_broken_catalogue(broken_copy):
    _edit(broken_copy / "volunteer.yml", lambda d: d["services"][0].pop("hours"))
    result = subprocess.run(
        [sys.executable, "-m", "community.catalogue", str(broken_copy)],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert result.returncode == 2
    assert "volunteer.yml" in result.stderr and "'hours'" in result.stderr


@pytest.mark.parametrize(
    "text, service_id",
    [("高领津贴怎么领", "elderly_allowance_age"), ("残疾正怎么办", "disability_support_certificate"),
     ("失业等级在哪办", "employment_unemployment_registration"), ("托于机构在哪里", "childcare_nursery_toddler"),
     ("時間銀航怎么存", "volunteer_signup_points"), ("我想当自愿者", "volunteer_signup_register"),
     # 献血 is said xian xie and xian xue: both readings are heard
     ("献学要什么条件", "volunteer_signup_blood"), ("想去先血 多大年纪能献", "volunteer_signup_blood")],
)
def test_services_are_matched_by_how_they_sound(catalogue, text, service_id):
    [match] = catalogue.asked(text)
    assert match.service.id == service_id and match.by_sound


@pytest.mark.parametrize("text", ["老板不给我领工资", "夫妻闹离婚社区能调解吗 还是要去法院", "暑托班中不中 中午管饭不"])
def test_a_sound_alike_word_is_not_a_service(catalogue, text):
    assert not [m for m in catalogue.matches(text) if m.by_sound]


def test_the_question_not_the_story_decides_the_service(catalogue):
    story = "上个月刚给我爸办完高龄津贴，挺顺利的，这个月他想白天去驿站待着，日间照料中心要自己交钱吗"
    assert [m.service.id for m in catalogue.asked(story)] == ["elderly_daycare_center"]
    assert [m.service.id for m in catalogue.asked("社区有老年食堂吗 在哪")] == ["elderly_meal_canteen"]


def test_two_questions_in_one_message_name_two_services(catalogue):
    ids = [m.service.id for m in catalogue.asked("残疾证怎么办 两项补贴能一起申请吗")]
    assert ids == ["disability_support_certificate", "disability_support_allowance"]
    ids = [m.service.id for m in catalogue.asked("高龄津贴和助餐怎么办")]
    assert ids == ["elderly_allowance_age", "elderly_meal_canteen"]


def test_residents_words_reach_their_service_and_a_stray_id_is_named(broken_copy):
    words = broken_copy / "words"
    words.mkdir(exist_ok=True)
    for old in words.glob("*.yml"):
        old.unlink()
    (words / "elderly.yml").write_text(
        "version: 1\nwords:\n  elderly_homecare_anti_wander: [糊涂, 老往外跑]\n", encoding="utf-8"
    )
    catalogue = load_catalogue(broken_copy)
    service = next(s for s in catalogue.for_domain("elderly") if s.id == "elderly_homecare_anti_wander")
    assert service.words == ("糊涂", "老往外跑")
    assert catalogue.find("我爸糊涂了老往外跑") is None  # words are no names: they never decide alone
    (words / "elderly.yml").write_text("words:\n  elderly_no_such_service: [糊涂]\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as info:
        load_catalogue(broken_copy)
    assert "words/elderly.yml" in str(info.value) and "elderly_no_such_service" in str(info.value)
    (words / "elderly.yml").write_text("words:\n  - 糊涂\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match="words/elderly.yml"):
        load_catalogue(broken_copy)


def test_a_residents_word_holding_another_services_name_is_refused(broken_copy):
    words = broken_copy / "words"
    words.mkdir(exist_ok=True)
    (words / "elderly.yml").write_text("words:\n  elderly_allowance_care: [低保老人]\n", encoding="utf-8")
    with pytest.raises(CatalogueError) as info:  # 低保的事 would get the elderly care subsidy
        load_catalogue(broken_copy)
    assert "低保老人" in str(info.value) and "community_assistance_dibao" in str(info.value)


def test_an_age_told_is_left_out_unless_the_question_is_about_what_age_brings():
    from community.catalogue import without_held

    assert without_held("我七十了，腿脚还利索，还能不能当志愿者") == "我，腿脚还利索，还能不能当志愿者"
    assert without_held("我妈满八十了，高龄津贴咋领") == "我妈满八十了，高龄津贴咋领"


def test_a_status_already_had_is_left_out_but_not_a_question_that_follows_it():
    from community.catalogue import without_held

    assert "注册志愿者" not in without_held("想报名社区的义诊志愿活动，我已经是注册志愿者了，怎么报？")
    assert "残疾证" not in without_held("我残了一只手，残疾证也办下来了。认定了有啥用？")
    assert without_held("我已经注册了怎么报名自愿活动") == "我已经注册了怎么报名自愿活动"  # the ask itself


def test_a_certificate_not_yet_held_in_dialect_is_still_asked_for():
    from community.catalogue import without_held

    assert "残疾证" in without_held("俺耳朵聋了好几年了，一直木办过残疾证，上哪办去")  # 木: 没
    assert "残疾证" not in without_held("我有残疾证，想找份工作")


@pytest.mark.parametrize("text", [
    "想申请个轮椅，我有残疾正，能给适配吗",  # 正 heard for 证
    "我妈残疾证已经有了，想申请一个论椅，社区有发吗",
    "残疾证办下来以后，能不能申请生活补贴",
    "我儿子残疾证刚办下来，想问能领什么补贴",
    "偏瘫 残疾证 二级 护理补贴 能领吗",  # told with its grade: already graded, so held
])
def test_a_certificate_told_as_held_in_other_words_is_left_out(text):
    from community.catalogue import without_held

    assert "残疾证" not in without_held(text) and "残疾正" not in without_held(text)


def test_a_document_to_bring_is_not_the_service_asked_about():
    from community.catalogue import without_held

    assert without_held("我们要去办结婚证 在哪个地方办 要带户口本吗") == "我们要去办结婚证 在哪个地方办 "
    assert "户口本" in without_held("户口本丢了怎么补办")


@pytest.mark.parametrize("text, held", [
    ("孩子上高中，家里吃低保，学费有没有减免的", True),
    ("我孙女读高中，我们家是低保户，学费有没有啥子救助嘛", True),
    ("吃低保要什么条件", False),
    ("家里困难，怎么申请低保", False),
    ("我家能不能吃低保", False),
])
def test_dibao_the_family_already_gets_is_who_it_is_not_what_is_asked(text, held):
    from community.catalogue import without_held

    assert ("低保" not in without_held(text)) is held
