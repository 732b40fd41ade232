"""The message catalogue matches the code: every message the code and templates mark is in
``greenlink.pot``, nothing there is stale, and every zh_CN entry is translated, not fuzzy, and
keeps the message's placeholders. Fix a failure with ``python scripts/i18n_catalogue.py``, then
translate what it reports."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("i18n_catalogue",
                                                  ROOT / "scripts" / "i18n_catalogue.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_catalogue_matches_code_and_is_translated() -> None:
    problems = _tool().problems()
    assert not problems, "\n".join(problems)


_BRACES = re.compile(r"\{[^{}]*\}")
_PERCENT = re.compile(r"%\([a-z_]+\)[sdf]|%[sdf]")


def test_translations_keep_placeholders() -> None:
    tool = _tool()
    catalog = tool.read(tool.po_path("zh_CN"), "zh_CN")
    wrong = []
    for m in catalog:
        if not m.id or not m.string:
            continue
        source = m.id if isinstance(m.id, str) else m.id[0]
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        for text in strings:
            for pattern in (_BRACES, _PERCENT):
                if sorted(pattern.findall(source)) != sorted(pattern.findall(text)):
                    wrong.append(f"{source!r} -> {text!r}")
    assert not wrong, "\n".join(wrong)


def test_catalogue_files_ship_with_the_package() -> None:
    tool = _tool()
    assert tool.POT.is_file()
    assert tool.po_path("zh_CN").is_file()
    assert not list((ROOT / "src" / "greenlink" / "locale").rglob("*.mo")), \
        "the .po is read directly; a checked-in .mo would go stale"


_IN_FSTRING = re.compile(r"""\bf(?:"|'|\"\"\"|''')[^\n]*\{\s*(?:_|gettext|N_)\(""")


def test_no_message_inside_an_f_string() -> None:
    """The extractor cannot see ``_("…")`` inside an f-string: such a message would never reach
    the catalogue. Translate first, then put the result in the f-string."""
    found = [f"{path.relative_to(ROOT)}:{n}"
             for path in (ROOT / "src" / "greenlink").rglob("*.py")
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
             if _IN_FSTRING.search(line)]
    assert not found, found
