"""Reviewed questions become training data Rasa loads, in files of their own, never on top of
hand-written data and never from the held-out split. All on a copy of the project's data."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from community.training_data import TrainingData
from tests.support.review import ENV

PARKING_ANSWER = "小区地面停车每月150元，请到物业服务中心（3号楼一层）办理，电话010-8765-4301。"


def fingerprint(root: Path) -> dict[str, str]:
    """Hashes of the hand-written files (everything but the reviewed ones)."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.yml")) if p.name != "reviewed.yml"
    }


def load_with_rasa(root: Path):
    """The training data and domain as Rasa itself reads them for training."""
    from rasa.shared.importers.importer import TrainingDataImporter

    importer = TrainingDataImporter.load_from_config(
        str(root / "config.yml"), str(root / "domain"), [str(root / "nlu_data")]
    )
    nlu = importer.get_nlu_data()
    examples = {(m.get("text"), m.get("intent")) for m in nlu.intent_examples}
    return examples, importer.get_domain(), importer.get_stories()


def test_assigned_examples_are_written_to_the_reviewed_file_and_rasa_trains_on_them(project_copy):
    before = fingerprint(project_copy)
    data = TrainingData(project_copy)
    path = data.add_examples("elderly_meal", ["助餐点周末開門嗎？", "老年食堂礼拜天营业不"], reviewer="王芳")
    assert path == project_copy / "nlu_data" / "nlu" / "reviewed.yml"
    assert fingerprint(project_copy) == before  # the hand-written files are untouched
    examples, _, _ = load_with_rasa(project_copy)
    # Stored normalised: simplified characters, half-width punctuation.
    assert ("助餐点周末开门吗?", "elderly_meal") in examples
    assert ("老年食堂礼拜天营业不", "elderly_meal") in examples
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["version"] == "3.1"
    assert written["nlu"][0]["examples"][0]["metadata"]["reviewer"] == "王芳"
    assert data.reviewed_examples() == {"elderly_meal": ["助餐点周末开门吗?", "老年食堂礼拜天营业不"]}


def test_examples_are_not_added_twice(project_copy):
    data = TrainingData(project_copy)
    data.add_examples("elderly_meal", ["助餐点周末开门吗", "助餐点周末开门吗？"], reviewer="王芳")
    data.add_examples("elderly_meal", ["助餐点周末開門嗎"], reviewer="李强")
    # Already a hand-written example of this intent: nothing to add, nothing refused.
    data.add_examples("complaint_report", ["楼上天天半夜蹦迪吵死了"], reviewer="李强")
    assert data.reviewed_examples() == {"elderly_meal": ["助餐点周末开门吗"]}


def test_a_new_faq_gets_its_answer_rule_and_examples_and_the_project_still_validates(project_copy):
    before = fingerprint(project_copy)
    data = TrainingData(project_copy)
    data.create_intent("faq_parking_fee", "小区停车收费", PARKING_ANSWER,
                       ["小区停车费怎么收", "停车位一个月多少钱", "外来车辆停车收费吗"], reviewer="王芳")
    data.add_examples("faq_parking_fee", ["地面车位怎么收费"], reviewer="李强")
    assert fingerprint(project_copy) == before
    assert "faq_parking_fee" in data.intents()
    assert data.label("faq_parking_fee") == "小区停车收费"
    assert data.faq_intents()["faq_parking_fee"]["answer"] == PARKING_ANSWER

    examples, domain, stories = load_with_rasa(project_copy)
    assert {("小区停车费怎么收", "faq_parking_fee"), ("地面车位怎么收费", "faq_parking_fee")} <= examples
    assert "faq_parking_fee" in domain.intents
    assert domain.responses["utter_faq_parking_fee"][0]["text"] == PARKING_ANSWER
    assert "elderly_meal" in domain.intents and "utter_greet" in domain.responses  # merged, not replaced
    rules = [s for s in stories.story_steps if s.block_name == "FAQ faq_parking_fee"]
    assert rules and [e.as_story_string() for e in rules[0].events][-1] == "utter_faq_parking_fee"

    result = subprocess.run(  # the project's `make validate`, on the copy
        [sys.executable, "-m", "rasa", "data", "validate", "--config", "config.yml",
         "--domain", "domain", "--data", "nlu_data"],
        cwd=project_copy, env=ENV, capture_output=True, text=True, timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize(
    "intent, texts, message",
    [
        ("parking", ["小区停车费怎么收"], "Unknown intent"),
        ("elderly_meal", [""], "empty"),
        ("elderly_meal", ["   "], "内容为空"),
        ("elderly_meal", ["助餐" * 101], "longer than 200"),
        ("elderly_meal", ["<script>alert(1)</script>助餐在哪"], "markup"),
        ("elderly_meal", ["<b>助餐</b>在哪"], "网页代码"),
        ("elderly_meal", ["[助餐](service)在哪"], "markup"),
        ("elderly_meal", ["/elderly_meal"], "markup"),
        ("elderly_meal", ["😀😀"], "has no words"),
        ("elderly_meal", ["where is lunch"], "没有中文"),
        ("elderly_meal", ["我电话13812345678 助餐怎么订"], "138\\*\\*\\*\\*5678"),  # never shown in full
        ("elderly_meal", ["身份证110101199001011234能办助餐卡吗"], "身份证号"),
        ("greet", ["哈喽，小助理！"], "held-out"),  # nlu_data_holdout/intents/meta.yml
        ("elderly_meal", ["楼上天天半夜蹦迪吵死了"], "complaint_report"),  # hand-written elsewhere
        ("elderly_meal", "助餐在哪", "No examples"),
        ("elderly_meal", [], "没有例句"),
    ],
)
def test_bad_examples_are_refused_with_a_clear_message_and_nothing_is_written(
    project_copy, intent, texts, message
):
    data = TrainingData(project_copy)
    with pytest.raises(ValueError, match=message):
        data.add_examples(intent, ["助餐点周末开门吗", *texts] if isinstance(texts, list) and texts
                          else texts, reviewer="王芳")
    assert not (project_copy / "nlu_data" / "nlu" / "reviewed.yml").exists()


@pytest.mark.parametrize(
    "name, label, answer, examples, message",
    [
        ("parking_fee", "停车收费", PARKING_ANSWER, ["停车费怎么收"], "faq_"),
        ("faq_停车", "停车收费", PARKING_ANSWER, ["停车费怎么收"], "faq_"),
        ("faq_Parking", "停车收费", PARKING_ANSWER, ["停车费怎么收"], "faq_"),
        ("faq_" + "x" * 60, "停车收费", PARKING_ANSWER, ["停车费怎么收"], "faq_"),
        ("faq_parking", "", PARKING_ANSWER, ["停车费怎么收"], "label"),
        ("faq_parking", "停车收费", "", ["停车费怎么收"], "答复内容为空"),
        ("faq_parking", "停车收费", "<a href='x'>点这里</a>", ["停车费怎么收"], "markup"),
        ("faq_parking", "停车收费", "很长" * 600, ["停车费怎么收"], "1000"),
        ("faq_parking", "停车收费", PARKING_ANSWER, [], "at least one example"),
        ("faq_parking", "停车收费", PARKING_ANSWER, ["助餐点在哪<br>"], "markup"),
        ("faq_parking", "停车收费", PARKING_ANSWER, ["楼上天天半夜蹦迪吵死了"], "complaint_report"),
    ],
)
def test_bad_new_intents_are_refused_and_nothing_is_written(project_copy, name, label, answer,
                                                            examples, message):
    before = fingerprint(project_copy)
    with pytest.raises(ValueError, match=message):
        TrainingData(project_copy).create_intent(name, label, answer, examples, reviewer="王芳")
    assert fingerprint(project_copy) == before
    for path in ("domain/reviewed.yml", "nlu_data/nlu/reviewed.yml", "nlu_data/rules/reviewed.yml"):
        assert not (project_copy / path).exists()


def test_an_existing_intent_or_faq_cannot_be_created_again(project_copy):
    data = TrainingData(project_copy)
    data.create_intent("faq_parking_fee", "小区停车收费", PARKING_ANSWER, ["停车费怎么收"], reviewer="王芳")
    with pytest.raises(ValueError, match="already exists"):
        data.create_intent("faq_parking_fee", "别的", "别的答复", ["别的问题怎么办"], reviewer="王芳")
    with pytest.raises(ValueError, match="小区停车收费"):
        data.create_intent("faq_parking", "小区停车收费", PARKING_ANSWER, ["车停哪里"], reviewer="王芳")
    # The example of another FAQ cannot be taught as this one.
    with pytest.raises(ValueError, match="faq_parking_fee"):
        data.create_intent("faq_charging", "充电桩", "充电桩在东门", ["停车费怎么收"], reviewer="王芳")
    assert data.intents().count("faq_parking_fee") == 1


def test_staff_saving_at_once_do_not_lose_or_corrupt_anything(project_copy):
    data = TrainingData(project_copy)
    errors: list[BaseException] = []

    def save(worker: int) -> None:
        try:
            for i in range(5):
                TrainingData(project_copy).add_examples(
                    "elderly_meal", [f"第{worker}号楼助餐点第{i}个问题"], reviewer=f"staff{worker}")
            TrainingData(project_copy).create_intent(
                f"faq_topic_{worker}", f"话题{worker}", f"话题{worker}的答复", [f"关于话题{worker}的问题"],
                reviewer=f"staff{worker}")
        except BaseException as err:  # noqa: BLE001 - reported below
            errors.append(err)

    script = (
        "import sys; from pathlib import Path; from community.training_data import TrainingData\n"
        "w = int(sys.argv[2]); root = Path(sys.argv[1])\n"
        "for i in range(5):\n"
        "    TrainingData(root).add_examples('elderly_meal', [f'第{w}号楼助餐点第{i}个问题'], f'staff{w}')\n"
        "TrainingData(root).create_intent(f'faq_topic_{w}', f'话题{w}', f'话题{w}的答复',"
        " [f'关于话题{w}的问题'], f'staff{w}')\n"
    )
    # Three other web workers (processes) and six requests in this one (threads), all at once.
    processes = [subprocess.Popen([sys.executable, "-c", script, str(project_copy), str(w)], env=ENV,
                                  stderr=subprocess.PIPE, text=True) for w in range(6, 9)]
    threads = [threading.Thread(target=save, args=(w,)) for w in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for p in processes:
        _, stderr = p.communicate(timeout=120)
        assert p.returncode == 0, stderr
    assert not errors

    reviewed = data.reviewed_examples()
    assert sorted(reviewed["elderly_meal"]) == sorted(
        f"第{w}号楼助餐点第{i}个问题" for w in range(9) for i in range(5))
    assert sorted(data.faq_intents()) == sorted(f"faq_topic_{w}" for w in range(9))
    examples, domain, _ = load_with_rasa(project_copy)
    for w in range(9):
        assert (f"关于话题{w}的问题", f"faq_topic_{w}") in examples
        assert f"utter_faq_topic_{w}" in domain.responses
    leftovers = [p.name for p in project_copy.rglob(".*.tmp")]
    assert leftovers == []
