import pytest

from community.answers import (
    MAX_LINES,
    MENU_SIZE,
    MORE,
    Reply,
    aspect_answer,
    clarification,
    domain_menu,
    emergency_answer,
    menu_page,
    service_answer,
)
from community.catalogue import DOMAINS


def test_every_service_answer_is_short_with_detail_buttons(catalogue):
    for service in catalogue.services:
        reply = service_answer(service)
        assert 1 <= len(reply.lines) <= MAX_LINES
        assert reply.buttons, service.id
        if not service.no_longer_issued:
            assert service.phone in reply.text


def test_retired_certificate_answer_says_no_and_where(catalogue):
    reply = service_answer(catalogue.find("无犯罪记录证明"))
    assert reply.lines[0].startswith("居委会现在不开")
    assert "派出所" in reply.lines[1]


def test_detail_buttons_carry_the_service_and_aspect(catalogue):
    service = catalogue.find("高龄津贴")
    payloads = [b.payload for b in service_answer(service).buttons]
    assert f'/elderly_allowance{{"service":"{service.id}","aspect":"eligibility"}}' in payloads
    detail = aspect_answer(service, "eligibility")
    assert service.eligibility in detail.text


def test_domain_menu_offers_that_domains_services(catalogue):
    for domain in DOMAINS:
        reply = domain_menu(catalogue, "", domain)
        titles = [b.title for b in reply.buttons]
        assert titles[-1] == "找人工"
        assert set(titles[:-1]) - {MORE} <= {s.name for s in catalogue.for_domain(domain)}


def test_a_resident_who_only_taps_reaches_every_service_most_asked_kinds_first(catalogue):
    for domain in DOMAINS:
        first = domain_menu(catalogue, "", domain)
        kinds = {s.intent for s in catalogue.for_domain(domain)}
        shown = {p.payload.split("{")[0].lstrip("/") for p in first.buttons if '"service"' in p.payload}
        assert shown == kinds or len(shown) == MENU_SIZE, domain  # every kind on the first page
        reached, page, reply = set(), 1, first
        while True:
            reached |= {b.payload for b in reply.buttons if '"service"' in b.payload}
            more = [b for b in reply.buttons if b.title == MORE]
            if not more:
                break
            assert more[0].payload.endswith(f'{{"menu":"domain-{page + 1}"}}')
            page += 1
            reply = domain_menu(catalogue, "", domain, menu_page(f"domain-{page}"))
        assert len(reached) == len(catalogue.for_domain(domain)), domain
    elderly = [b.title for b in domain_menu(catalogue, "", "elderly").buttons]
    assert "高龄津贴" in elderly and "在线办理" not in elderly and len(elderly) <= MENU_SIZE + 2


@pytest.mark.parametrize(
    "text, number",
    [("家里煤气味好大", "119"), ("楼下着火了", "119"), ("我爸突然晕倒了", "120"),
     ("老公又打我了", "110"), ("救命", "110")],
)
def test_emergency_first_line_says_which_number_to_call(text, number):
    reply = emergency_answer(text, "010-8765-4300")
    assert number in reply.lines[0]
    assert "拨打" in reply.lines[0]


def test_clarification_offers_both_meanings():
    reply = clarification("legal_aid", "legal_mediation")
    assert reply.text.startswith("您是想问")
    assert [b.payload for b in reply.buttons][:2] == ["/legal_aid", "/legal_mediation"]


def test_reply_refuses_more_than_three_lines():
    with pytest.raises(ValueError):
        Reply(("1", "2", "3", "4"))
