"""Every ``greenlink …`` command of README.md and docs/*.md runs as written (issue 14, point 4).

The fenced shell blocks (```` ```sh ````, ``bash``, ``shell``, ``console`` or no language) are
read; each line that starts with ``greenlink`` is a command (a following line indented under it,
or a ``\\`` continuation, continues it). Synopses are run in their shortest form: optional parts
in ``[…]`` and ``...`` are left out. Arguments are split as a POSIX shell would (``shlex``,
comments dropped). Each document's commands run in order in one temporary folder, through the
``greenlink`` app in-process, with the files they name prepared by :data:`PREPARE` (the example
park as ``park.toml``, a claim file …) and with keys and keyrings kept in the folder. A command
is expected to exit 0 unless an ``exit`` marker says otherwise.

Markers — HTML comments between the previous block and a block, invisible when rendered:

    <!-- docs-test: skip "PREFIX" REASON -->   commands starting with PREFIX are not run
    <!-- docs-test: exit N "PREFIX" -->        commands starting with PREFIX exit with N

A skip needs its reason; the test lists what it ran and what it skipped.
"""

from __future__ import annotations

import re
import shlex
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import pytest
from typer.testing import CliRunner

from greenlink.cli.main import app, example_dir

REPO = Path(__file__).resolve().parents[1]
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
SHELL = {"", "sh", "bash", "shell", "console"}
_FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.M | re.S)
_MARKER = re.compile(r'<!--\s*docs-test:\s*(skip|exit)\s+(?:(\d+)\s+)?"([^"]+)"\s*(.*?)\s*-->')
_OPTIONAL = re.compile(r"\s\[[^\[\]]*\]")


@dataclass(frozen=True)
class Command:
    doc: str
    line: int
    text: str  # as written (continuations joined)
    args: tuple[str, ...]  # what is run, without "greenlink"
    exit_code: int = 0
    skip: str | None = None  # why it is not run


def _joined(lines: list[tuple[int, str]]) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    for number, line in lines:
        if out and (out[-1][1].rstrip().endswith("\\") or (
                line.startswith((" ", "\t")) and line.strip().startswith(("[", "--")))):
            previous = out[-1][1].rstrip().removesuffix("\\")
            out[-1] = (out[-1][0], f"{previous} {line.strip()}")
        else:
            out.append((number, line))
    return out


def commands(path: Path) -> list[Command]:
    """The ``greenlink`` commands of one document, with their markers applied."""
    text = path.read_text(encoding="utf-8")
    found: list[Command] = []
    previous_end = 0
    for block in _FENCE.finditer(text):
        markers = _MARKER.findall(text[previous_end:block.start()])
        previous_end = block.end()
        if block.group(1) not in SHELL:
            continue
        first = text[:block.start(2)].count("\n") + 1
        lines = [(first + i, line) for i, line in enumerate(block.group(2).splitlines())]
        for number, line in _joined(lines):
            written = line.strip().removeprefix("$ ")
            if not written.startswith("greenlink "):
                continue
            runnable = _OPTIONAL.sub("", written).replace(" ...", "")
            args = tuple(shlex.split(runnable, comments=True))[1:]
            exit_code, skip = 0, None
            for kind, code, prefix, reason in markers:
                if written.startswith(prefix):
                    if kind == "skip":
                        assert reason, f"{path.name}: the skip of {prefix!r} needs a reason"
                        skip = reason
                    else:
                        exit_code = int(code)
            found.append(Command(path.name, number, written, args, exit_code, skip))
    return found


# ---------------------------------------------------------------------------------------------
# what the commands need


def _example(folder: Path, name: str = "park.toml") -> None:
    source = example_dir("jiangsu")
    shutil.copytree(source, folder, dirs_exist_ok=True)
    if name != "park.toml":
        (folder / "park.toml").rename(folder / name)


_CLAIM = """\
kind = "user_green_share"
scenario = "park.toml"
user = "alu_extruder"
start = 2025-01-01
end = 2025-02-01
[topology]
single_line_diagram = "sld/park-rev3.pdf"
single_line_diagram_sha256 = "{sha}"
description = "35 kV private line (docs test)"
"""

#: "my park" of docs/footprints.md: the example park making PV modules as well.
_PV_MODULES = """
[[products]]
sku = "PV-M"
name = "PV modules (docs test)"
cn_code = "8541 43 00"
user = "battery_cells"
electricity_kwh_per_t = 2500
annual_output_t = 1000
declared_unit = "kWp"
declared_units_per_t = 45.0
"""


def _evidence(folder: Path) -> None:
    _example(folder)
    (folder / "claim.toml").write_text(_CLAIM.format(sha="0" * 64), encoding="utf-8")


def _my_park(folder: Path) -> None:
    _example(folder, "my_park.toml")
    text = (folder / "my_park.toml").read_text(encoding="utf-8")
    at = text.index("[policy]")
    (folder / "my_park.toml").write_text(text[:at] + _PV_MODULES.lstrip() + "\n" + text[at:],
                                         encoding="utf-8")


def _minimal(folder: Path) -> None:
    """The starter park (``greenlink init``'s) as ``park.toml``: hourly, one factory — quick
    enough to run a 25-year finance case and many weather years here."""
    src = Path(str(resources.files("greenlink") / "examples" / "minimal"))
    shutil.copytree(src, folder, dirs_exist_ok=True)


PREPARE: dict[str, Callable[[Path], None]] = {
    "evidence.md": _evidence,
    "finance.md": _minimal,
    "risk.md": _minimal,
    "footprints.md": _my_park,
    "settlement.md": _example,
    "languages.md": _minimal,
}


def _public_key(folder: Path) -> None:
    shutil.copy(folder / "keys" / "signing_key.pub", folder / "operator.pub")


def _older_pack(folder: Path) -> None:
    shutil.copy(folder / "pack.zip", folder / "older-pack.zip")


#: Run just before a command that starts with the key: files made by the commands before it.
BEFORE: dict[str, Callable[[Path], None]] = {
    "greenlink evidence verify pack.zip --key operator.pub": _public_key,
    "greenlink evidence verify pack.zip --against": _older_pack,
}
#: Answers to prompts (a password asked twice).
INPUT = {"greenlink users create": "docs-test-password\ndocs-test-password\n"}


ALL = {path.name: commands(path) for path in DOCS}


def test_the_docs_have_commands_and_every_skip_says_why() -> None:
    listed = [c for cs in ALL.values() for c in cs]
    assert len(listed) >= 30
    assert any(c.args[:2] == ("cbam", "goods") for c in ALL["README.md"])
    for c in listed:
        assert c.skip is None or len(c.skip) > 20, c


@pytest.mark.parametrize("doc", [name for name, cs in ALL.items() if cs])
def test_commands_run_as_written(doc: str, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GREENLINK_KEY_DIR", str(tmp_path / "keys"))
    monkeypatch.setenv("GREENLINK_KEYRING", str(tmp_path / "trusted_keys.json"))
    monkeypatch.setenv("COLUMNS", "200")
    if doc in PREPARE:
        PREPARE[doc](tmp_path)
    runner = CliRunner()
    ran, skipped = [], []
    for c in ALL[doc]:
        if c.skip is not None:
            skipped.append(f"{doc}:{c.line} {c.text}  — {c.skip}")
            continue
        for prefix, prepare in BEFORE.items():
            if c.text.startswith(prefix):
                prepare(tmp_path)
        stdin = next((v for k, v in INPUT.items() if c.text.startswith(k)), None)
        result = runner.invoke(app, list(c.args), input=stdin)
        assert result.exit_code == c.exit_code, (
            f"{doc}:{c.line}: `{c.text}` exited {result.exit_code}, documented "
            f"{c.exit_code}\n{result.output}")
        ran.append(f"{doc}:{c.line} {c.text}")
    print("\nran:\n  " + "\n  ".join(ran) + ("\nskipped:\n  " + "\n  ".join(skipped)
                                          if skipped else ""))
    assert ran or skipped
