"""``scripts/untranslated.py`` finds no unmarked English in the report's and dashboard's
templates, the statements' templates, the report modules and the CLI (messages and --help
texts)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location("untranslated",
                                                  ROOT / "scripts" / "untranslated.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pages_have_no_untranslated_text() -> None:
    found = _tool().findings()
    assert found == [], "\n".join(found)


def test_the_scan_sees_unmarked_text(tmp_path: Path) -> None:
    tool = _tool()
    page = tmp_path / "page.html"
    page.write_text('{% block main %}<h1>{{ _("Parks") }}</h1><p>Plain words here</p>'
                    '<img alt="a chart"><code>greenlink run</code>{% trans %}Marked text'
                    '{% endtrans %} kWh{% endblock %}', encoding="utf-8")
    tool.ROOT = tmp_path
    found = list(tool.template_findings(page))
    assert sorted(f.split(": ", 1)[1] for f in found) == ["'Plain words here'", "'a chart'"]
    module = tmp_path / "m.py"
    module.write_text('say("wrote the file")\nsay(_("marked text"))\n'
                      'page = "<h2>Heading here</h2>"\n'
                      'opt = typer.Option(help="output folder here")\n'
                      'ok = typer.Option(help=N_("marked help text"))\n'
                      'console.print(f"wrote {n} files to the folder")\n', encoding="utf-8")
    found = list(tool.module_findings(module))
    assert sorted(f.split(": ", 1)[1] for f in found) == [
        "' files to the folder'", "'Heading here'", "'output folder here'", "'wrote the file'"]
