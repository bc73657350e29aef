"""The trained model on the held-out split (never trained on): accuracy must stay ≥ 90%."""

import pytest

from community.intents import report_domain
from community.training_data import HOLDOUT_DIR
from nlu_eval import runner as nlu_runner
from nlu_eval.metrics import summarise

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def summary(trained_model):
    nlu_runner.quiet()
    examples = nlu_runner.load_examples(nlu_runner.Path(__file__).parents[2] / HOLDOUT_DIR)
    return summarise(nlu_runner.classify(trained_model, examples), report_domain)


def test_held_out_intent_accuracy_at_least_90_percent(summary):
    assert summary["examples"] >= 300
    assert summary["intent_accuracy"] >= 0.90, summary["top_confusions"]


def test_out_of_scope_questions_are_rejected(summary):
    assert summary["oos_rejection_rate"] >= 0.85


def test_every_domain_is_recognised(summary):
    for domain, acc in summary["per_domain_accuracy"].items():
        assert acc >= 0.75, (domain, acc)
