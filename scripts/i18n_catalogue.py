"""Extract greenlink's messages into the catalogue template and merge them into each language.

    python scripts/i18n_catalogue.py          # rewrite greenlink.pot, update zh_CN/…/greenlink.po
    python scripts/i18n_catalogue.py --check  # exit 1 when code and catalogue disagree

Messages are the string literals passed to ``_``, ``gettext``, ``N_``, ``ngettext`` and
``pgettext`` in ``src/greenlink/**.py``, ``_(…)`` / ``{% trans %}`` in the Jinja templates
(``report/templates``, ``web/templates``), and every help text of the ``greenlink`` command tree
(Typer takes a command's help from its docstring: those are messages too; ``--help`` shows them
translated). After an update, translate the new entries of the
``.po`` (empty ``msgstr``) and remove the ``fuzzy`` flag from those Babel guessed.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "greenlink"
LOCALE = PACKAGE / "locale"
POT = LOCALE / "greenlink.pot"
LANGS = ("zh_CN",)
KEYWORDS = {"_": None, "gettext": None, "N_": None, "ngettext": (1, 2), "pgettext": ((1, "c"), 2)}
METHODS = [("**/templates/**.j2", "jinja2"), ("web/templates/**.html", "jinja2"),
           ("**.py", "python")]
OPTIONS = {"**/templates/**": {"extensions": "jinja2.ext.i18n", "newstyle_gettext": "true"}}
#: fixed, so that re-extracting unchanged code leaves the files unchanged
_DATE = datetime(2026, 1, 1, tzinfo=UTC)


def po_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "greenlink.po"


def extract() -> Catalog:
    """Every message of the code and templates (locations without line numbers)."""
    catalog = Catalog(project="greenlink", domain="greenlink", creation_date=_DATE,
                      revision_date=_DATE, charset="utf-8", fuzzy=False)
    for filename, _lineno, message, comments, context in extract_from_dir(
            PACKAGE, method_map=METHODS, options_map=OPTIONS, keywords=KEYWORDS,
            comment_tags=("TRANSLATORS:",), strip_comment_tags=True):
        catalog.add(message, None, [(f"src/greenlink/{filename}", None)],
                    auto_comments=comments, context=context)
    for message, filename in cli_help():
        catalog.add(message, None, [(filename, None)])
    return catalog


def cli_help() -> list[tuple[str, str]]:
    """(help text, file) of every command, group and parameter of the ``greenlink`` app, as
    click holds them (a command's docstring cleaned as Typer does), in the English source."""
    import typer.main

    from greenlink.cli.main import app

    out: list[tuple[str, str]] = []

    def where(callback: object) -> str:
        module = getattr(callback, "__module__", "") or "greenlink.cli.main"
        return "src/" + module.replace(".", "/") + ".py"

    def walk(command: Any) -> None:
        file = where(command.callback)
        out.extend((text, file) for text in (command.help, command.short_help) if text)
        out.extend((p.help, file) for p in command.params if getattr(p, "help", None))
        for sub in getattr(command, "commands", {}).values():
            walk(sub)

    walk(typer.main.get_command(app))
    return out


def key(message_id: str | tuple[str, ...], context: str | None) -> tuple[str, str | None]:
    singular = message_id[0] if isinstance(message_id, tuple) else message_id
    return singular, context


def ids(catalog: Catalog) -> set[tuple[str, str | None]]:
    return {key(m.id, m.context) for m in catalog if m.id}


def read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh, locale=locale, domain="greenlink")


def write(path: Path, catalog: Catalog) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=100, sort_output=True, include_lineno=False,
                 ignore_obsolete=True)


def update() -> None:
    template = extract()
    write(POT, template)
    for lang in LANGS:
        path = po_path(lang)
        if path.exists():
            catalog = read(path, lang)
        else:
            catalog = Catalog(locale=lang, project="greenlink", domain="greenlink",
                              creation_date=_DATE, revision_date=_DATE, fuzzy=False)
        catalog.update(template, no_fuzzy_matching=False)
        catalog.obsolete.clear()
        catalog.revision_date = _DATE
        write(path, catalog)


def problems() -> list[str]:
    """What is wrong between the code, the template and each language's catalogue."""
    out: list[str] = []
    code = ids(extract())
    template = ids(read(POT))
    out += [f"greenlink.pot lacks {m!r} (run scripts/i18n_catalogue.py)"
            for m in sorted(code - template, key=str)]
    out += [f"greenlink.pot has {m!r}, no longer in the code (stale)"
            for m in sorted(template - code, key=str)]
    for lang in LANGS:
        catalog = read(po_path(lang), lang)
        have = ids(catalog)
        out += [f"{lang}: lacks {m!r}" for m in sorted(template - have, key=str)]
        out += [f"{lang}: stale {m!r}" for m in sorted(have - template, key=str)]
        for m in catalog:
            if not m.id:
                continue
            strings = m.string if isinstance(m.string, tuple) else (m.string,)
            if m.fuzzy:
                out.append(f"{lang}: fuzzy {key(m.id, m.context)!r}")
            elif not all(strings):
                out.append(f"{lang}: untranslated {key(m.id, m.context)!r}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="report, change nothing")
    args = parser.parse_args(argv)
    if not args.check:
        update()
    found = problems()
    for line in found:
        print(line)
    return 1 if found and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
