"""A kept intent (applying, cancelling, ...) the classifier is unsure of yields to a service
named in full; an emergency never does, and a sure kept intent stays."""

from community.catalogue import Match
from nlu_components.service_matcher import choose_intent


def ranking(top, confidence):
    return [{"name": top, "confidence": confidence}, {"name": "community_assistance", "confidence": 0.1},
            {"name": "out_of_scope", "confidence": 0.05}]


def named(catalogue, service_id, alias):
    return [Match(catalogue.get(service_id), 0, len(alias), alias)]


def choose(top, confidence, asked):
    return choose_intent(ranking(top, confidence), asked, 0.5, 0.25, 0.9, kept_confidence=0.4)


def test_an_unsure_kept_intent_yields_to_a_service_named_in_full(catalogue):
    chosen = choose("request_service", 0.29, named(catalogue, "community_assistance_housing", "公租房"))
    assert chosen[0] == {"name": "community_assistance", "confidence": 0.9}


def test_a_sure_kept_intent_stays(catalogue):
    assert choose("request_service", 0.75, named(catalogue, "community_assistance_housing", "公租房")) is None


def test_a_short_name_does_not_overrule_a_kept_intent(catalogue):
    assert choose("request_service", 0.29, named(catalogue, "community_assistance_dibao", "低保")) is None


def test_an_emergency_is_never_overruled(catalogue):
    assert choose("emergency_help", 0.2, named(catalogue, "volunteer_signup_blood", "无偿献血")) is None


def test_a_danger_named_outright_weighs_like_a_full_name(catalogue):
    lost = [Match(catalogue.get("emergency_help_missing"), 2, 4, "走失")]
    ranking = [{"name": "elderly_homecare", "confidence": 0.46},
               {"name": "emergency_help", "confidence": 0.18},
               {"name": "elderly_allowance", "confidence": 0.12}]
    chosen = choose_intent(ranking, lost, 0.5, 0.25, 0.9, kept_confidence=0.4)
    assert chosen[0]["name"] == "emergency_help"
    # a short name of any other service stays a weak hint
    meal = [Match(catalogue.get("elderly_meal_canteen"), 0, 2, "助餐")]
    ranking = [{"name": "elderly_homecare", "confidence": 0.46}, {"name": "elderly_meal", "confidence": 0.18}]
    assert choose_intent(ranking, meal, 0.5, 0.25, 0.9, kept_confidence=0.4) is None
