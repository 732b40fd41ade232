"""List user-facing English text that is not marked for translation.

    python scripts/untranslated.py            # every finding, one per line; exit 0
    python scripts/untranslated.py --check    # exit 1 when there is any

Two scans, both heuristics tuned to this code base:

* Jinja templates (``report/templates``, ``web/templates``, ``economics/templates``): text between
  tags and outside ``{{ … }}`` / ``{% … %}`` that holds a word, not inside ``{% trans %}`` or
  ``<code>``, and not a unit (``kWh``, ``t/MWh`` …);
* Python modules that write for people (``report/``, ``cli/``, ``web/pages.py``): string literals
  handed to ``say``, ``warn``, ``print``, ``console.print``, ``Text``, ``Problem`` or Typer's
  ``help=``, and literals holding HTML text (``<h2>Heading</h2>``), unless wrapped in ``_()``,
  ``gettext()`` or ``N_()``.

Machine-readable text (JSON keys, column names, ids) is not user-facing and is not reported;
neither are the engine's own problem texts (``InputError``), which stay as written.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "greenlink"
TEMPLATES = [*(PACKAGE / "report" / "templates").glob("*.j2"),
             *(PACKAGE / "web" / "templates").glob("*.html"),
             *(PACKAGE / "economics" / "templates").glob("*.j2")]
MODULES = [*(PACKAGE / "report").glob("*.py"), *(PACKAGE / "cli").glob("*.py"),
           PACKAGE / "web" / "pages.py"]
#: Text that reads the same in every language: units, symbols, names.
SAME = {"kWp", "kW", "kWh", "MWh", "GWh", "t", "Wh", "t/MWh", "kWh /", "/kWh", "UTC", "greenlink",
        "greenlink 绿电直连", "· greenlink", "min", "P10", "P50", "P90", "P99", "JSON", "CSV",
        "XLSX", "SKU", "EUR", "CNY"}
_WORD = re.compile(r"[A-Za-z]{2,}")
_USER_CALLS = {"say", "warn", "print", "Text", "Problem", "echo", "secho", "GreenlinkError",
               "InputError", "BadParameter", "Exit"}
_MARKERS = {"_", "gettext", "N_", "ngettext", "pgettext"}
_FILE_NAME = re.compile(r"^[\w.-]+\.[a-z]{2,5}$")
_HTML_TEXT = re.compile(r">([^<>{}]*[A-Za-z]{2,}[^<>{}]*)<")


def template_findings(path: Path) -> Iterator[str]:
    text = path.read_text(encoding="utf-8")
    start = text.find("{% block")
    body = text if start < 0 else text[start:]
    offset = len(text) - len(body)
    i, in_trans, in_code, in_style = 0, False, False, False
    while i < len(body):
        two = body[i:i + 2]
        if two in ("{{", "{%", "{#"):
            end = body.index({"{{": "}}", "{%": "%}", "{#": "#}"}[two], i) + 2
            tag = body[i:end]
            if re.match(r"\{%-?\s*trans\b", tag):
                in_trans = True
            elif re.match(r"\{%-?\s*endtrans\b", tag):
                in_trans = False
            i = end
            continue
        if body[i] == "<":
            end = _tag_end(body, i)
            tag = body[i:end].lower()
            in_code = tag.startswith("<code") or (in_code and not tag.startswith("</code"))
            in_style = tag.startswith(("<style", "<script")) or (
                in_style and not tag.startswith(("</style", "</script")))
            for attr in re.findall(r'\b(?:alt|placeholder|title)="([^"{]*)"', body[i:end]):
                if _WORD.search(attr):
                    yield _where(path, text, offset + i, attr)
            i = end
            continue
        j = i + 1  # a lone "{" (CSS) is text
        while j < len(body) and body[j] not in "<{":
            j += 1
        run = " ".join(body[i:j].split())
        if run and _WORD.search(run) and not (in_trans or in_code or in_style) \
                and run not in SAME and not _FILE_NAME.match(run):
            yield _where(path, text, offset + i, run)
        i = j


def _tag_end(body: str, start: int) -> int:
    """Index after the ``>`` closing the tag at ``start`` (a ``>`` inside ``{% … %}`` or
    ``{{ … }}`` in the tag does not close it)."""
    i = start
    while True:
        if body.startswith(("{{", "{%"), i):
            i = body.index("}}" if body[i + 1] == "{" else "%}", i) + 2
        elif body[i] == ">":
            return i + 1
        else:
            i += 1


def _where(path: Path, text: str, index: int, found: str) -> str:
    line = text.count("\n", 0, index) + 1
    return f"{path.relative_to(ROOT)}:{line}: {found!r}"


def _call_name(node: ast.Call) -> str:
    func = node.func
    return func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")


def module_findings(path: Path) -> Iterator[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    marked: set[int] = set()
    docstrings: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in _MARKERS:
            marked.update(id(n) for arg in node.args for n in ast.walk(arg))
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) \
                and node.body and isinstance(node.body[0], ast.Expr) \
                and isinstance(node.body[0].value, ast.Constant):
            docstrings.add(id(node.body[0].value))
    seen: set[tuple[int, str]] = set()

    def report(node: ast.AST, text: str) -> Iterator[str]:
        key = (getattr(node, "lineno", 0), text)
        if key not in seen:
            seen.add(key)
            yield f"{path.relative_to(ROOT)}:{key[0]}: {text!r}"

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _call_name(node) in _USER_CALLS:
            for arg in [*node.args, *(k.value for k in node.keywords if k.arg is None)]:
                for const in _strings(arg):
                    if id(const) not in marked and _is_prose(const.value):
                        yield from report(const, const.value)
        if isinstance(node, ast.keyword) and node.arg == "help":
            for const in _strings(node.value):
                if id(const) not in marked and _is_prose(const.value):
                    yield from report(const, const.value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                and id(node) not in marked and id(node) not in docstrings:
            for piece in _HTML_TEXT.findall(node.value):
                if piece.strip() not in SAME and not _FILE_NAME.match(piece.strip()):
                    yield from report(node, piece.strip())


def _strings(node: ast.AST) -> Iterator[ast.Constant]:
    """String constants of an argument, through f-strings, ``+`` and ``.format`` chains."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node
    elif isinstance(node, ast.JoinedStr):
        for part in node.values:
            yield from _strings(part)
    elif isinstance(node, ast.BinOp):
        yield from _strings(node.left)
        yield from _strings(node.right)
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
            and node.func.attr == "format":
        yield from _strings(node.func.value)


def _is_prose(text: str) -> bool:
    """At least two words: a sentence or a label, not an id, a path or a style name."""
    words = _WORD.findall(text)
    return len(words) >= 2 and " " in text.strip() and not text.startswith(("bold ", "dim "))


def findings() -> list[str]:
    out: list[str] = []
    for path in sorted(TEMPLATES):
        out += template_findings(path)
    for path in sorted(MODULES):
        out += module_findings(path)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when anything is found")
    args = parser.parse_args(argv)
    found = findings()
    for line in found:
        print(line)
    print(f"{len(found)} untranslated", file=sys.stderr)
    return 1 if found and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
