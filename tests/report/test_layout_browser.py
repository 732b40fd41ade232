"""report.html in a real browser (Debian's Chromium driven by Playwright, as
``tests/service/test_browser.py`` launches it): at 1280 px on screen and at A4 width in print
media, nothing is wider than the page, nothing is cut off in a scrolled box, and no two pieces of
text overlap — table cells, headings and every label of the inline figures (issue 14, point 7).

Two reports, each in English and in Chinese: the Jiangsu example park simulated (five users with
long names, 13 policy rules, products, CBAM tables of up to 16 columns) and a small park through
``greenlink finance --optimize`` (the optimisation and lifetime-finance sections). Screenshots of
each are saved in the test's temporary folder, ``{report}_{lang}_{width}.png``:
``jiangsu_en_1280.png``, ``jiangsu_en_a4_print.png``, ``jiangsu_zh-CN_1280.png``,
``jiangsu_zh-CN_a4_print.png``, ``optimised_en_1280.png``, ``optimised_en_a4_print.png``,
``optimised_zh-CN_1280.png``, ``optimised_zh-CN_a4_print.png`` (and ``jiangsu_a4.pdf``, printed
by Chromium). The Chinese pages draw with the CJK font they embed: the test machine has none.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from greenlink import i18n
from greenlink.workflows.finance import run_finance, write_finance
from greenlink.workflows.run import run_scenario, write_outputs
from tests.scenario.parks import park_toml, write_park

playwright = pytest.importorskip("playwright.sync_api")

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "src" / "greenlink" / "examples" / "jiangsu_park" / "park.toml"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: A4 is 210 mm wide: 794 CSS px at 96 px per inch; the page's own print margins sit inside it.
A4_WIDTH_PX = 794
SCREEN_WIDTH_PX = 1280
OPTIMIZE = """
[optimize]
rules = "none"
battery = { max_energy_kwh = 0 }
wind = { max_capacity_kw = { w = 6000 }, capex_per_kw = 4000 }
targets = [ { metric = "green_share_of_consumption", scope = "park", min = 0.3 } ]
"""

# Everything measured in the page: what sticks out of the viewport, boxes whose content is
# cut off (scrolled or hidden overflow), and pairs of text boxes that overlap (> 1 px each way).
LAYOUT_JS = r"""
() => {
  const vw = document.documentElement.clientWidth;
  const out = {viewport: vw, page_width: document.documentElement.scrollWidth,
               too_wide: [], cut_off: [], overlaps: [], texts: 0, svg_texts: 0};
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ')[0] : '');
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if ((r.width === 0 && r.height === 0) || !el.checkVisibility()) continue;
    if (r.right > vw + 0.5 || r.left < -0.5)
      out.too_wide.push([name(el), Math.round(r.left), Math.round(r.right)]);
    const cs = getComputedStyle(el);
    if (el.tagName !== 'svg' && cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
      out.cut_off.push([name(el), el.scrollWidth, el.clientWidth]);
  }
  const boxes = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;  // text in a closed <details> is not drawn
    if (!node.textContent.trim() || parent.closest('svg') ||
        !parent.checkVisibility({visibilityProperty: true})) continue;
    const range = document.createRange();
    range.selectNodeContents(node);
    for (const r of range.getClientRects())
      if (r.width > 0.5 && r.height > 0.5) boxes.push([node.textContent.trim().slice(0, 40), r]);
    out.texts += 1;
  }
  for (const t of document.querySelectorAll('svg text')) {
    const r = t.getBoundingClientRect();
    if (t.textContent.trim() && r.width > 0.5 && r.height > 0.5) {
      boxes.push(['svg: ' + t.textContent.trim().slice(0, 40), r]);
      out.svg_texts += 1;
    }
  }
  boxes.sort((a, b) => a[1].top - b[1].top);
  for (let i = 0; i < boxes.length; i++) {
    const a = boxes[i][1];
    for (let j = i + 1; j < boxes.length && boxes[j][1].top < a.bottom; j++) {
      const b = boxes[j][1];
      const w = Math.min(a.right, b.right) - Math.max(a.left, b.left);
      const h = Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top);
      if (w > 1 && h > 1)
        out.overlaps.push([boxes[i][0], boxes[j][0], Math.round(w), Math.round(h)]);
    }
  }
  return out;
}
"""


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    with playwright.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """``{report}`` (English) and ``{report}_zh-CN``: the same results written in each
    language."""
    folder = tmp_path_factory.mktemp("reports")
    simulated = run_scenario(EXAMPLE)
    park = write_park(folder / "park", park_toml() + OPTIMIZE)
    optimised = run_finance(park, optimise=True)
    out = {}
    for lang in i18n.LANGUAGES:
        suffix = "" if lang == "en" else f"_{lang}"
        with i18n.use_lang(lang):
            write_outputs(simulated, folder / f"jiangsu{suffix}")
            write_finance(optimised, folder / f"optimised{suffix}")
        out[f"jiangsu{suffix}"] = folder / f"jiangsu{suffix}" / "report.html"
        out[f"optimised{suffix}"] = folder / f"optimised{suffix}" / "report.html"
    return out


def _measure(browser: Any, report: Path, width: int, media: str, shot: Path) -> dict[str, Any]:
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.emulate_media(media=media)
    page.goto(report.as_uri())
    page.evaluate("() => document.fonts.ready.then(() => true)")
    result: dict[str, Any] = page.evaluate(LAYOUT_JS)
    result["fonts"] = page.evaluate(
        "() => [...document.fonts].map(f => [f.family.replace(/\"/g, ''), f.status])")
    page.screenshot(path=str(shot), full_page=True)
    page.close()
    return result


@pytest.mark.parametrize("lang", i18n.LANGUAGES)
@pytest.mark.parametrize("which", ["jiangsu", "optimised"])
@pytest.mark.parametrize(("width", "media", "suffix"), [
    (SCREEN_WIDTH_PX, "screen", "1280"), (A4_WIDTH_PX, "print", "a4_print")])
def test_report_fits_and_no_text_overlaps(browser: Any, reports: dict[str, Path],
                                          tmp_path: Path, which: str, width: int, media: str,
                                          suffix: str, lang: str) -> None:
    shot = tmp_path / f"{which}_{lang}_{suffix}.png"
    report = reports[which if lang == "en" else f"{which}_{lang}"]
    got = _measure(browser, report, width, media, shot)
    assert got["viewport"] == width
    assert got["page_width"] <= width, got["too_wide"][:5]
    assert got["too_wide"] == []
    assert got["cut_off"] == []
    assert got["overlaps"] == []
    # the measurement saw the page: text of the tables and every figure's labels
    assert got["texts"] > 300 and got["svg_texts"] > 40
    assert shot.stat().st_size > 50_000
    # the embedded CJK font (every page shows 绿电直连) loaded and drew
    assert ["Greenlink Sans SC", "loaded"] in got["fonts"], got["fonts"]


def test_policy_table_and_user_labels_are_whole_at_1280(browser: Any,
                                                       reports: dict[str, Path]) -> None:
    """The two cases issue 14 names: the policy table's last column on the page, the long user
    names of the per-user figure each on its own line."""
    page = browser.new_page(viewport={"width": SCREEN_WIDTH_PX, "height": 900})
    page.goto(reports["jiangsu"].as_uri())
    right = page.evaluate("() => document.querySelector('#policy table').getBoundingClientRect()"
                          ".right")
    section = page.evaluate("() => document.querySelector('#policy').getBoundingClientRect()"
                            ".right")
    assert right <= section
    labels = page.evaluate("() => [...document.querySelectorAll('svg[aria-label=users] text')]"
                           ".map(t => t.textContent)")
    assert "Park" in labels and any(t.startswith("Aluminium extrusion") for t in labels)
    page.close()


def test_a4_pdf_prints(browser: Any, reports: dict[str, Path], tmp_path: Path) -> None:
    page = browser.new_page()
    page.goto(reports["jiangsu"].as_uri())
    pdf = tmp_path / "jiangsu_a4.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=True)
    page.close()
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 100_000


def test_chinese_report_is_in_chinese(browser: Any, reports: dict[str, Path]) -> None:
    """The zh-CN pages: figure labels, the optimisation and finance headings, and no Chinese
    character drawn with a font that lacks it."""
    page = browser.new_page(viewport={"width": SCREEN_WIDTH_PX, "height": 900})
    page.goto(reports["optimised_zh-CN"].as_uri())
    assert page.evaluate("() => document.documentElement.lang") == "zh-CN"
    headings = page.evaluate("() => [...document.querySelectorAll('h2')].map(h => h.textContent)")
    assert "容量优化（HiGHS）" in headings and "全生命周期财务" in headings
    labels = page.evaluate("() => [...document.querySelectorAll('svg text')]"
                           ".map(t => t.textContent).join(' ')")
    assert "平均功率" in labels and "项目现金流（税后）" in labels
    assert no_tofu(page) > 100
    page.goto(reports["jiangsu_zh-CN"].as_uri())
    assert no_tofu(page) > 300
    page.close()


#: Each element with Chinese in its own text: how many such characters.
_CJK_OWN_TEXT = r"""
() => [...document.querySelectorAll('body *')].map((el, i) => {
  el.dataset.cjk = i;
  const own = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
  return [i, [...own].filter(c => c.codePointAt(0) >= 0x2E80 && !/\s/.test(c)).length];
}).filter(([, n]) => n > 0)
"""


_OUTER = "i => document.querySelector(`[data-cjk='${i}']`).outerHTML.slice(0, 160)"


def no_tofu(page: Any) -> int:
    """Every Chinese character of the page's HTML text is drawn with the embedded CJK font (the
    browser's own account of the fonts it used, per element); returns how many elements were
    checked. Machines without CJK fonts would otherwise draw boxes."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("DOM.enable")
    cdp.send("CSS.enable")
    root = cdp.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
    elements = page.evaluate(_CJK_OWN_TEXT)
    wrong = []
    for index, count in elements:
        node = cdp.send("DOM.querySelector",
                        {"nodeId": root, "selector": f'[data-cjk="{index}"]'})["nodeId"]
        fonts = cdp.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        if not fonts:  # not drawn: in a closed <details>
            continue
        drawn = sum(f["glyphCount"] for f in fonts if f["familyName"] == "Greenlink Sans SC")
        if drawn < count:
            wrong.append((page.evaluate(_OUTER, index), count, fonts))
    cdp.detach()
    assert wrong == [], wrong[:5]
    return len(elements)
