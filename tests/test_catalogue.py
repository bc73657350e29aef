import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from community.catalogue import DOMAINS, CatalogueError, load_catalogue

ROOT = Path(__file__).resolve().parent.parent
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
