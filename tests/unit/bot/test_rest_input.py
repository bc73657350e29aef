"""What Rasa's resident REST channel lets through to NLU (bot.rest_input)."""

import json

import pytest

from bot.rest_input import MAX_INPUT_CHARS, InputRefused, command_or_text, parse_body

INTENTS = ["greet", "elderly_meal", "human_handoff", "request_service", "restart", "session_start", "back"]
ENTITIES = ["service", "menu", "request_kind"]


def body(**fields) -> bytes:
    return json.dumps(fields, ensure_ascii=False).encode("utf-8")


def test_a_resident_message_passes_with_its_metadata():
    message = parse_body(body(sender="web-1", message="助餐在哪", metadata={"channel": "web"}))
    assert (message.sender, message.text, message.metadata) == ("web-1", "助餐在哪", {"channel": "web"})


@pytest.mark.parametrize(
    "raw, status, words",
    [
        (b"not json", 400, "请求格式不对"),
        (b"[1, 2]", 400, "请求格式不对"),
        (body(sender="a", message=42), 400, "请先输入"),
        (body(sender="a", message=None), 400, "请先输入"),
        (body(sender="a", message=["你好"]), 400, "请先输入"),
        (body(sender=7, message="你好"), 400, "请求格式不对"),
        (body(message="你好"), 400, "请求格式不对"),
        (body(sender="a", message="高" * (MAX_INPUT_CHARS + 1)), 413, "太长"),
        (b'{"sender": "a", "message": "x", "m": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", 413, "太长"),
        (b'{"sender": "a", "message": "x", "m": ' + b"[" * 50 + b"]" * 50 + b"}", 400, "请求格式不对"),
        ("{\"sender\": \"a\", \"message\": \"你好\"}".encode("gbk"), 400, "请求格式不对"),
    ],
)
def test_bad_bodies_are_refused_before_nlu_with_a_chinese_message(raw, status, words):
    with pytest.raises(InputRefused) as refused:
        parse_body(raw)
    assert refused.value.status == status and words in refused.value.resident
    assert refused.value.operator.isascii()


def test_an_empty_message_goes_on_so_the_assistant_can_say_so():
    assert parse_body(body(sender="a", message="  ")).text == "  "


@pytest.mark.parametrize(
    "typed, read_as",
    [
        ("/restart", "restart"),
        ("/session_start", "session_start"),
        ("//back", "back"),
        ("/", "？"),
        ('/request_service{"person_name": "张三"}', 'request_service{"person_name": "张三"}'),
        ('/elderly_meal{"service": "' + "x" * 200 + '"}', 'elderly_meal{"service": "' + "x" * 200 + '"}'),
        ("/unknown_intent", "unknown_intent"),
        ("/elderly_meal{not json}", "elderly_meal{not json}"),
    ],
)
def test_typed_commands_are_read_as_words(typed, read_as):
    assert command_or_text(typed, INTENTS, ENTITIES) == read_as


@pytest.mark.parametrize(
    "payload",
    ["/human_handoff", '/elderly_meal{"menu":"domain"}', '/request_service{"request_kind":"meal"}', "/greet"],
)
def test_button_payloads_pass(payload):
    assert command_or_text(payload, INTENTS, ENTITIES) == payload


def test_plain_text_is_untouched():
    assert command_or_text("我想问 /restart 是什么", INTENTS, ENTITIES) == "我想问 /restart 是什么"
