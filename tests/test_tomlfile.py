"""One TOML loader: every problem at once, with file, line, field path and what was expected."""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from greenlink.errors import InputError, Problem
from greenlink.tomlfile import (
    TomlDocument,
    line_index,
    load_toml,
    parse_toml,
    read_toml,
    validate_toml_data,
)


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Site(_Strict):
    name: str
    capacity_kw: float = Field(gt=0)


class Load(_Strict):
    path: str
    column: str


class User(_Strict):
    id: str
    share: float
    load: Load


class Fixed(_Strict):
    kind: Literal["fixed"]
    price: float


class Indexed(_Strict):
    kind: Literal["indexed"]
    index: str


class Param(_Strict):
    type: Literal["bool", "int"]
    value: bool | int | None = None


class Park(_Strict):
    site: Site
    users: list[User] = Field(default_factory=list)
    prices: list[Annotated[Fixed | Indexed, Field(discriminator="kind")]] = Field(
        default_factory=list)
    parameters: dict[str, Param] = Field(default_factory=dict)


# Line numbers counted by hand; each line's number is in its comment.
THREE_ERRORS = """\
# a park with three mistakes in three tables   1
[site]                                       # 2
name = "test park"                           # 3
capacity_kw = -5                             # 4  <- must be > 0
                                             # 5
[[users]]                                    # 6
id = "a"                                     # 7
share = 0.5                                  # 8
load = { path = "a.csv", column = "a_kw" }   # 9
                                             # 10
[[users]]                                    # 11
id = "b"                                     # 12
share = "half"                               # 13 <- not a number
[users.load]                                 # 14
path = "b.csv"                               # 15
column = "b_kw"                              # 16
colunm = "kW"                                # 17 <- unknown key
"""


def _problems(fn: Callable[[], object]) -> list[Problem]:
    with pytest.raises(InputError) as err:
        fn()
    return err.value.problems


def test_three_errors_in_three_tables_all_reported_with_lines(tmp_path: Path) -> None:
    path = tmp_path / "park.toml"
    path.write_text(THREE_ERRORS, encoding="utf-8")
    problems = _problems(lambda: load_toml(path, Park))
    assert [p.location for p in problems] == [
        "line 4, site.capacity_kw",
        "line 13, users[1].share",
        "line 17, users[1].load.colunm",
    ]
    assert all(p.file == str(path) for p in problems)
    capacity, share, unknown = problems
    assert "greater than 0" in capacity.message and "(got -5)" in capacity.message
    assert share.expected == "a number" and "'half'" in share.message
    assert unknown.message == "unknown key 'colunm'; did you mean 'column'?"
    assert unknown.expected == "one of: column, path"
    assert f"{path}:line 13, users[1].share:" in str(_problems(lambda: load_toml(path, Park))[1])


def test_unknown_top_level_key_gets_suggestion() -> None:
    text = '[site]\nname = "x"\ncapacity_kw = 1\n\n[[user]]\nid = "a"\n'
    (problem,) = _problems(lambda: parse_toml(text, Park, name="p.toml"))
    assert problem.location == "line 5, user"
    assert "did you mean 'users'?" in problem.message
    assert problem.expected == "one of: parameters, prices, site, users"


def test_union_tags_and_table_keys_in_paths() -> None:
    text = """\
[site]
name = "x"
capacity_kw = 1

[[prices]]
kind = "fixed"
price = "cheap"

[parameters.flag]
type = "str"
"""
    problems = _problems(lambda: parse_toml(text, Park, name="p.toml"))
    locations = [p.location for p in problems]
    # no 'fixed' tag of the union in the path; the key of a free table ('flag') kept
    assert locations == ["line 7, prices[0].price", "line 10, parameters.flag.type"]


def test_missing_table_and_field() -> None:
    problems = _problems(lambda: parse_toml('[[users]]\nid = "a"\nshare = 1\n', Park,
                                            name="p.toml"))
    assert [(p.location, p.expected) for p in problems] == [
        ("line 1, users[0].load", "this field to be set"),
        ("site", "this field to be set"),
    ]


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[site]\nname = "unterminated\ncapacity_kw = 1\n', encoding="utf-8")
    (problem,) = _problems(lambda: load_toml(path, Park))
    assert problem.file == str(path)
    assert problem.location is not None and problem.location.startswith("line 2, column")
    assert problem.message.startswith("TOML syntax error: ")
    assert "at line" not in problem.message  # the position is in location, once
    assert problem.expected == "valid TOML (https://toml.io)"


def test_syntax_error_at_end_of_file() -> None:
    (problem,) = _problems(lambda: parse_toml("a = 1\nb = [1,\n", Park, name="p.toml"))
    assert problem.location == "line 2 (end of file)"


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[site]\nname = "Zürich"\n'.encode("latin-1"))
    (problem,) = _problems(lambda: load_toml(path, Park))
    assert problem.file == str(path) and problem.location == "line 2"
    assert "not a UTF-8 text file" in problem.message
    (problem,) = _problems(lambda: parse_toml(b"\xff\xfe", Park, name="upload.toml"))
    assert problem.file == "upload.toml" and problem.location == "line 1"


def test_utf8_with_byte_order_mark_is_read() -> None:
    park = parse_toml('\ufeff[site]\nname = "x"\ncapacity_kw = 1\n'.encode(), Park, name="p")
    assert park.site.name == "x"


def test_missing_file_and_folder(tmp_path: Path) -> None:
    (problem,) = _problems(lambda: load_toml(tmp_path / "nope.toml", Park, kind="park file",
                                             expected="a park"))
    assert (problem.message, problem.file, problem.expected) == (
        "park file not found", str(tmp_path / "nope.toml"), "a park")
    (problem,) = _problems(lambda: read_toml(tmp_path))
    assert problem.message == "TOML file is a folder"


def test_read_toml_raw_tables(tmp_path: Path) -> None:
    path = tmp_path / "raw.toml"
    path.write_text("a = 1\n[b]\nc = 2\n", encoding="utf-8")
    assert read_toml(path) == {"a": 1, "b": {"c": 2}}


def test_data_without_text_has_no_lines() -> None:
    problems = _problems(lambda: validate_toml_data({"site": {"name": 1, "capacity_kw": 1}},
                                                    Park, name="given"))
    assert [(p.file, p.location) for p in problems] == [("given", "site.name")]


def test_raw_checks_added_once_in_file_order() -> None:
    def check(doc: TomlDocument) -> list[Problem]:
        return [Problem("users[0] is odd", doc.name, doc.where(("users", 0, "id"))),
                Problem("Input should be greater than 0", doc.name, "x")]  # already reported

    text = '[[users]]\nid = "a"\nshare = 1\nload = { path = "a", column = "b" }\n' \
           '[site]\nname = "x"\ncapacity_kw = 0\n'
    problems = _problems(lambda: parse_toml(text, Park, name="p", raw_checks=check))
    assert [p.location for p in problems] == ["line 2, users[0].id", "line 7, site.capacity_kw"]


def test_id_labels() -> None:
    text = '[site]\nname = "x"\ncapacity_kw = 1\n[[users]]\nid = "alu"\nshare = 1\n'
    (problem,) = _problems(lambda: parse_toml(text, Park, name="p", id_key="id"))
    assert problem.location == "line 4, users[0] (id 'alu').load"


def test_line_index_nested_arrays_and_multiline_strings() -> None:
    text = """\
[[users]]
id = "a"
note = '''
fake = 1
'''
[[users.meters]]
id = "m1"
[[users]]
id = "b"
[[users.meters]]
"quoted.key" = 1
"""
    index = line_index(text)
    assert index[("users", 0, "meters", 0)] == 6
    assert index[("users", 1)] == 8
    assert index[("users", 1, "meters", 0)] == 10
    assert index[("users", 1, "meters", 0, "quoted.key")] == 11
    assert ("users", 0, "fake") not in index


# ---------------------------------------------------------------------------------------------
# every TOML entry point of greenlink gives the same kind of answer


def _entry_points() -> dict[str, Callable[[Path], object]]:
    from greenlink.economics.fees import load_fee_schedule
    from greenlink.economics.whatif import read_variant
    from greenlink.evidence.spec import load_claim_spec
    from greenlink.metering import validate as metering_validate
    from greenlink.optimize import costs
    from greenlink.policy.ruleset import load_ruleset_file
    from greenlink.scenario.load import load_scenario, parse_scenario
    from greenlink.service.uploads import UploadedFile, stage_bundle
    from tests.scenario.parks import park_toml

    def metering_defaults(path: Path) -> object:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(metering_validate, "_defaults_path", lambda: path)
            return metering_validate.ValidationParams.defaults()

    def cost_defaults(path: Path) -> object:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(costs, "_defaults_path", lambda: path)
            return costs.resolve_costs(None)

    def upload(path: Path) -> object:
        return stage_bundle([UploadedFile(path.name, path.read_bytes())],
                            path.parent / "staging")

    return {
        "scenario": load_scenario,
        "ruleset": load_ruleset_file,
        "metering_defaults": metering_defaults,
        "fees": lambda p: load_fee_schedule(path=p),
        "whatif_variant": lambda p: read_variant(p, parse_scenario(park_toml())),
        "upload": upload,
        "claim": load_claim_spec,
        "cost_defaults": cost_defaults,
    }


MALFORMED: dict[str, bytes] = {
    "syntax": b'id = "x"\n[validation\n',
    "wrong_shapes": b'validation = 3\ntd_capacity = "x"\nenergy_fees = [1]\nrules = 7\n'
                    b'contracts = "none"\nkind = 5\npv = []\n[[site]]\nname = 1\n',
    "empty": b"",
    "not_utf8": b'name = "\xe9t\xe9"\n',
}
#: every key of a fee file is optional (an empty one is a schedule without fees), and an empty
#: variant is the variant without contracts
VALID = {("fees", "empty"), ("whatif_variant", "empty")}
ENTRY_POINTS = ["scenario", "ruleset", "metering_defaults", "fees", "whatif_variant", "upload",
                "claim", "cost_defaults"]


@pytest.mark.parametrize("content", list(MALFORMED))
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_reports_input_errors(entry: str, content: str,
                                                tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_bytes(MALFORMED[content])
    try:
        _entry_points()[entry](path)
    except InputError as err:
        assert err.problems
        assert all(p.file and Path(p.file).name == "bad.toml" for p in err.problems), err
        if content in ("syntax", "not_utf8"):
            (problem,) = err.problems
            assert problem.location is not None and problem.location.startswith("line ")
    except (KeyError, TypeError, AttributeError, tomllib.TOMLDecodeError,
            ValidationError) as err:  # pragma: no cover - the failure this test is about
        pytest.fail(f"{entry} raised {type(err).__name__}: {err}")
    else:
        assert (entry, content) in VALID, f"{entry} accepted malformed content {content!r}"


def test_shipped_defaults_still_load() -> None:
    from greenlink.economics.fees import load_fee_schedule
    from greenlink.metering.validate import ValidationParams
    from greenlink.optimize.costs import default_costs, resolve_costs

    assert ValidationParams.defaults().stuck_min_intervals == 8
    assert default_costs()["pv"]["lifetime_years"] == 25
    assert resolve_costs(None).raw["lifetimes_years"] == {"pv": 25, "battery": 15, "wind": 25}
    fees = load_fee_schedule("CN-JS")
    assert fees.td_capacity is not None and len(fees.energy_fees) == 4
    assert str(fees.energy_fees[0].price_per_kwh) == "0.02"
