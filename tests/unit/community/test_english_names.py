"""English names residents mix into Chinese (catalogue/english.yml, issue #11): loaded as extra
names of their service, found as whole words, refused when another service or everyday English
has them, and a code-mixed question reaches its service."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from community.catalogue import CatalogueError, load_catalogue, question_of

ROOT = Path(__file__).resolve().parents[3]


def ids(catalogue, text):
    return [m.service.id for m in catalogue.asked(text)]


@pytest.fixture()
def copy(tmp_path):
    target = tmp_path / "catalogue"
    shutil.copytree(ROOT / "catalogue", target)
    return target


def _english(directory: Path, body: str) -> None:
    (directory / "english.yml").write_text("version: 1\nenglish:\n" + body, encoding="utf-8")


# -- the loader --------------------------------------------------------------------------------
def test_english_names_are_loaded_as_names_of_their_service(catalogue):
    service = catalogue.get("health_checkup_health_certificate")
    assert "health certificate" in service.english
    assert "health certificate" in service.names
    assert catalogue.find("员工要办health certificate吗") is service
    # every service of the catalogue has some, and none is a domain file of its own
    assert all(s.english for s in catalogue.services)
    assert {s.source for s in catalogue.services} >= {"health.yml"}
    assert "english.yml" not in {s.source for s in catalogue.services}


def test_the_catalogue_loads_without_the_english_file(copy):
    (copy / "english.yml").unlink()
    catalogue = load_catalogue(copy)
    assert not any(s.english for s in catalogue.services)
    assert catalogue.get("disability_support_assistive").aliases  # the domain files' names stay


def test_a_name_another_service_has_is_refused_naming_the_file(copy):
    _english(copy, "  elderly_meal_delivery: [canteen]\n")  # an alias of 老年餐桌 in elderly.yml
    with pytest.raises(CatalogueError) as info:
        load_catalogue(copy)
    message = str(info.value)
    assert "english.yml" in message and "elderly_meal_delivery" in message
    assert "canteen" in message and "elderly_meal_canteen" in message


def test_a_name_twice_in_the_english_file_is_refused_spelling_aside(copy):
    _english(copy, "  legal_aid_notary: [Stamp Office]\n  legal_aid_application: [stamp-office]\n")
    with pytest.raises(CatalogueError, match="english.yml.*stamp-office.*legal_aid_notary"):
        load_catalogue(copy)


@pytest.mark.parametrize("word", ["apply", "Free", "help", "how much", "subsidy", "insurance"])
def test_an_everyday_word_is_no_name(copy, word):
    _english(copy, f"  elderly_meal_subsidy: ['{word}']\n")
    with pytest.raises(CatalogueError, match="everyday word"):
        load_catalogue(copy)


@pytest.mark.parametrize(
    "body, problem",
    [("  elderly_no_such_service: [meals]\n", "no service has this id"),
     ("  elderly_meal_delivery: meal delivery\n", "expected a list of names"),
     ("  elderly_meal_delivery: [送餐上门服务]\n", "has no English word"),
     ("- meal delivery\n", "expected english")],
)
def test_a_broken_english_file_is_refused_with_what_is_wrong(copy, body, problem):
    _english(copy, body)
    with pytest.raises(CatalogueError, match=f"english.yml.*{problem}"):
        load_catalogue(copy)


# -- whole words ---------------------------------------------------------------------------------
def test_names_are_found_on_word_boundaries_only(copy):
    _english(copy, "  elderly_homecare_family_bed: [care]\n")
    catalogue = load_catalogue(copy)
    assert ids(catalogue, "社区有career规划的讲座吗") == []  # care is not in career
    assert catalogue.find("社区有career规划的讲座吗") is None
    assert ids(catalogue, "老人在家需要care怎么办") == ["elderly_homecare_family_bed"]
    assert ids(catalogue, "我家老人需要daycare") == []  # nor in daycare


def test_case_spaces_hyphens_and_plurals_do_not_matter(catalogue):
    assert ids(catalogue, "残疾人WheelChairs怎么申请") == ["disability_support_assistive"]
    for text in ("想找个part time", "想找个part-time", "想找个parttime"):
        assert ids(catalogue, text) == ["employment_jobs_flexible"], text
    assert ids(catalogue, "社区有children’s home吗") == ["childcare_nursery_children_home"]


def test_the_longest_name_wins_among_english_names(catalogue):
    assert ids(catalogue, "要开volunteer certificate 找谁") == ["cert_volunteer_record"]
    assert ids(catalogue, "想当volunteer 找谁") == ["volunteer_signup_register"]
    assert ids(catalogue, "想学first aid training 在哪报名") == ["emergency_help_kit"]


def test_a_space_beside_an_english_word_does_not_end_the_clause():
    assert question_of("我退休了，党员 organization relation 怎么转到社区来") == (
        "我退休了 党员 organization relation 怎么转到社区来"
    )


# -- code-mixed questions find their service, in every family of the catalogue ----------------
@pytest.mark.parametrize(
    "text, service_id",
    [
        ("银行要proof of income 社区能开吗", "cert_income"),
        ("出国要no criminal record的证明 去哪开", "cert_no_criminal_record"),
        ("我妈腿不好 想申请meal delivery", "elderly_meal_delivery"),
        ("老人出门总迷路 能领个GPS tracker吗", "elderly_homecare_anti_wander"),
        ("我爸重度失能 long-term care insurance能报多少", "elderly_homecare_ltc"),
        ("孩子两岁 社区的nursery一个月多少钱", "childcare_nursery_toddler"),
        ("暑假的summer camp什么时候报名", "childcare_afterschool_holiday"),
        ("我今年大学 graduate，还没找到工作", "employment_jobs_graduate"),
        ("失业了 unemployment insurance怎么领", "employment_unemployment_insurance"),
        ("想学手艺 有没有free的vocational training", "employment_training_skills"),
        ("残疾人wheelchair怎么申请", "disability_support_assistive"),
        ("孩子autism rehab有补助吗", "disability_support_child_rehab"),
        ("员工都要办 health certificate 吗，在哪办", "health_checkup_health_certificate"),
        ("最近insomnia 社区有心理医生吗", "health_family_doctor_psych"),
        ("老板欠了三个月unpaid wages 找谁", "legal_aid_wage"),
        ("委托书要notarization 在哪办", "legal_aid_notary"),
        ("厨房有gas smell 怎么办", "emergency_help_gas_leak"),
        ("有人stuck in the elevator 快来人", "emergency_help_elevator"),
        ("我退休了，党员 organization relation 怎么转到社区来", "community_affairs_party"),
        ("dibao怎么申请 要什么条件", "community_assistance_dibao"),
        ("楼上太noisy了 能管管吗", "community_complaint_noise"),
        ("我的volunteer hours在哪查", "volunteer_signup_hours"),
        ("社区有blood donation活动吗", "volunteer_signup_blood"),
    ],
)
def test_code_mixed_questions_find_their_service(catalogue, text, service_id):
    assert ids(catalogue, text) == [service_id]


def test_an_everyday_english_word_beside_a_chinese_name_does_not_change_the_service(catalogue):
    assert ids(catalogue, "退役军人优待证怎么申请，需要带 ID card 吗") == ["community_affairs_veteran_card"]
    assert ids(catalogue, "低保怎么apply how much") == ["community_assistance_dibao"]
    assert ids(catalogue, "老人的free体检 where") == []  # free, where: no service's name

