"""A service name split by a question word (义工怎么报名: 义工报名) is still found, also as the
first of two questions in one message."""


def ids(catalogue, text):
    return [m.service.id for m in catalogue.asked(text)]


def test_a_name_split_by_a_question_word_is_found(catalogue):
    assert ids(catalogue, "义工怎么报名") == ["volunteer_signup_register"]


def test_a_split_name_and_a_whole_one_are_two_questions(catalogue):
    assert ids(catalogue, "义工咋报名 服务时长在哪查") == [
        "volunteer_signup_register", "volunteer_signup_hours"
    ]


def test_a_clause_that_names_a_service_is_not_read_twice(catalogue):
    assert ids(catalogue, "高龄津贴怎么申请") == ["elderly_allowance_age"]
