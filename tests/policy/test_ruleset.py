"""Rule-set files: shipped sets load, malformed files are reported, override, diff, CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.cli.rules_cmd import rules_app
from greenlink.errors import InputError
from greenlink.policy.ruleset import (
    diff,
    list_rulesets,
    load_ruleset,
    load_ruleset_file,
    override,
    parse_assignments,
    shipped_ruleset_paths,
)

SINGLE = "cn-ndrc-nea-2025-650"
MULTI = "cn-ndrc-nea-2026-688-multi-user"

MINIMAL = """
id = "test-set"
version = "1"
title = "测试"
title_en = "Test"
issuing_bodies = ["nobody"]
document_number = "X-1"
status = "draft"

[dates]
in_force = 2020-01-01

[parameters.flag]
type = "bool"
value = true
confidence = "assumption"

[[rules]]
id = "share_min"
title = "Green share ≥ 50 %"
metric = "{metric}"
operator = ">="
threshold = 0.5
scope = "each_user"
period = "month"
clause_en = "Half green."
source = "test"
confidence = "secondary"
"""


def write(tmp_path: Path, text: str, name: str = "rules.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_rulesets_load() -> None:
    ids = [rs.id for rs in list_rulesets()]
    assert ids == [SINGLE, MULTI]
    assert set(shipped_ruleset_paths()) == {SINGLE, MULTI}
    rs = load_ruleset(SINGLE)
    assert rs.document_number == "发改能源〔2025〕650号"
    assert rs.rule("self_use_share_of_generation_min").threshold == 0.60
    assert rs.parameters["share_2030_reading"].value == "650_by_2030"
    multi = load_ruleset(MULTI)
    assert multi.rule("hourly_matched_share_min").confidence == "assumption"
    for r in rs.rules + multi.rules:
        assert r.clause_en and r.source


def test_file_id_matches_stem() -> None:
    for stem, path in shipped_ruleset_paths().items():
        assert load_ruleset_file(path).id == stem


def test_unknown_ruleset_id_lists_known() -> None:
    with pytest.raises(InputError) as err:
        load_ruleset("cn-nowhere")
    assert SINGLE in str(err.value) and MULTI in str(err.value)


def test_load_from_path(tmp_path: Path) -> None:
    rs = load_ruleset(write(tmp_path, MINIMAL.replace("{metric}", "green_share_of_consumption")))
    assert rs.id == "test-set" and rs.rules[0].scope == "each_user"


def test_unknown_metric_names_file_and_rule(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("{metric}", "happiness_share"))
    with pytest.raises(InputError) as err:
        load_ruleset(str(path))
    text = str(err.value)
    assert str(path) in text and "share_min" in text and "happiness_share" in text


def test_park_only_metric_with_user_scope_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, MINIMAL.replace("{metric}", "self_use_share_of_generation"))
    with pytest.raises(InputError, match="no per-user value"):
        load_ruleset(path)


def test_schema_error_names_rule(tmp_path: Path) -> None:
    text = MINIMAL.replace("{metric}", "green_share_of_consumption").replace(
        'clause_en = "Half green."\n', "")
    path = write(tmp_path, text)
    with pytest.raises(InputError) as err:
        load_ruleset(path)
    assert "rules[0] (id 'share_min').clause_en" in str(err.value)
    assert str(path) in str(err.value)


def test_bad_operator_and_toml_syntax(tmp_path: Path) -> None:
    text = MINIMAL.replace("{metric}", "green_share_of_consumption").replace(
        'operator = ">="', 'operator = "__import__"')
    with pytest.raises(InputError, match="operator"):
        load_ruleset(write(tmp_path, text))
    with pytest.raises(InputError, match=r"broken\.toml:line 1.*TOML syntax error"):
        load_ruleset(write(tmp_path, "id = ", "broken.toml"))


def test_bad_condition_parameter(tmp_path: Path) -> None:
    text = MINIMAL.replace("{metric}", "green_share_of_consumption") + \
        'applies_if = [{ parameter = "nope", operator = "==", value = true }]\n'
    with pytest.raises(InputError, match="unknown parameter 'nope'"):
        load_ruleset(write(tmp_path, text))


def test_override_threshold_and_parameter() -> None:
    rs = load_ruleset(SINGLE)
    changed = override(rs, {"export_share_of_generation_max": "0.15",
                            "spot_market_continuous": "true",
                            "share_2030_reading": "1192_new_projects_from_2030",
                            "check_year": 2031})
    assert changed.rule("export_share_of_generation_max").threshold == 0.15
    assert changed.parameters["spot_market_continuous"].value is True
    assert changed.parameters["check_year"].value == 2031
    assert rs.rule("export_share_of_generation_max").threshold == 0.20  # original unchanged


@pytest.mark.parametrize(("changes", "match"), [
    ({"no_such_rule": 1}, "no rule or parameter"),
    ({"export_share_of_generation_max": "lots"}, "cannot read"),
    ({"export_share_of_generation_max": True}, "does not fit"),
    ({"no_reverse_flow_setup": 0.5}, "does not fit"),
    ({"share_2030_reading": "someday"}, "not a choice"),
    ({"spot_market_continuous": "maybe"}, "cannot read"),
])
def test_override_rejects(changes: dict[str, object], match: str) -> None:
    with pytest.raises(InputError, match=match):
        override(load_ruleset(SINGLE), changes)


def test_parse_assignments() -> None:
    assert parse_assignments(["a=1", " b = true "]) == {"a": "1", "b": "true"}
    with pytest.raises(InputError):
        parse_assignments(["novalue"])


def test_diff() -> None:
    a, b = load_ruleset(SINGLE), load_ruleset(MULTI)
    d = diff(a, b)
    assert "single_user" in d.rules_only_in_a
    assert "multiple_users" in d.rules_only_in_b
    assert "hourly_traceability_check" in d.parameters_only_in_b
    paths = {c.path for c in d.changed}
    assert "document_number" in paths
    assert "rules.self_use_share_of_generation_min.confidence" in paths
    assert diff(a, a).identical
    what_if = override(a, {"export_share_of_generation_max": 0.1})
    (change,) = diff(a, what_if).changed
    assert (change.path, change.a, change.b) == (
        "rules.export_share_of_generation_max.threshold", 0.2, 0.1)
    json.dumps(d.to_dict(), ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# CLI

runner = CliRunner()


def test_cli_list() -> None:
    result = runner.invoke(rules_app, ["list"])
    assert result.exit_code == 0, result.output
    assert SINGLE in result.output and MULTI in result.output


def test_cli_show_and_json(tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["show", SINGLE])
    assert result.exit_code == 0, result.output
    assert "self_use_share_of_generation_min" in result.output
    result = runner.invoke(rules_app, ["show", SINGLE, "--json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["id"] == SINGLE and data["dates"]["published"] == "2025-05-30"
    path = write(tmp_path, MINIMAL.replace("{metric}", "green_share_of_consumption"))
    result = runner.invoke(rules_app, ["show", str(path), "--json"])
    assert result.exit_code == 0 and json.loads(result.stdout)["id"] == "test-set"


def test_cli_diff() -> None:
    result = runner.invoke(rules_app, ["diff", SINGLE, MULTI])
    assert result.exit_code == 0, result.output
    assert "single_user" in result.output
    result = runner.invoke(rules_app, ["diff", SINGLE, SINGLE])
    assert "no differences" in result.output
    result = runner.invoke(rules_app, ["diff", SINGLE, MULTI, "--json"])
    assert json.loads(result.stdout)["identical"] is False


def test_cli_errors_exit_2(tmp_path: Path) -> None:
    result = runner.invoke(rules_app, ["show", "cn-nowhere"])
    assert result.exit_code == 2
    assert SINGLE in result.output
    bad = write(tmp_path, MINIMAL.replace("{metric}", "happiness_share"))
    result = runner.invoke(rules_app, ["show", str(bad)])
    assert result.exit_code == 2 and "happiness_share" in result.output
