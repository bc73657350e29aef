"""How `make eval` judges what a resident got back (tools/eval_outcomes.judge)."""

from pathlib import Path

import pytest

from community.catalogue import load_catalogue
from tools.eval_outcomes import Outcome, judge

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def catalogue():
    return load_catalogue(ROOT / "catalogue")


def report_form(asks: str) -> Outcome:
    outcome = Outcome("complaint_report", 0.9, "request_form", form_kind="report")
    outcome.texts.append(f"好的，帮您办问题反映（接诉即办）。\n{asks}")
    return outcome


def test_a_complaint_is_answered_by_taking_the_report(catalogue):
    taken = report_form("在什么位置？比如“5栋东边的路口”。")
    assert judge("service:community_complaint_noise", taken, catalogue)


def test_a_report_that_asks_again_what_kind_of_problem_is_not_an_answer(catalogue):
    asks_again = report_form("反映哪类问题？噪音、环境卫生、设施报修、电梯、路灯、物业，还是其他？")
    assert not judge("service:community_complaint_parking", asks_again, catalogue)


def test_the_report_form_answers_only_complaints(catalogue):
    assert not judge("service:community_assistance_dibao", report_form("在什么位置？"), catalogue)


def test_a_question_about_the_assistant_is_answered_by_what_it_says_about_itself(catalogue):
    about = Outcome("bot_challenge", 1.0, "utter_iamabot", texts=["我是社区的智能服务助手，不是真人。"])
    assert judge("fallback|menu:any", about, catalogue)
    assert judge("about", about, catalogue)
    out_of_scope = Outcome("out_of_scope", 0.9, "action_answer_out_of_scope", texts=["抱歉"])
    assert not judge("about", out_of_scope, catalogue)
