"""The HTML report in both languages: ``<html lang>``, translated headings, Chinese clause text
in the verdict table, numbers and units unchanged."""

from __future__ import annotations

import re
from typing import Any

import pandas as pd
import pytest

from greenlink import i18n
from greenlink.report.html import render_report
from tests.report.test_html import synthetic_flows, synthetic_summary


@pytest.fixture(scope="module")
def small() -> tuple[pd.DataFrame, dict[str, Any]]:
    flows = synthetic_flows()
    summary = synthetic_summary(flows)
    summary["policy"]["results"][0]["clause"] = {"zh": "并网型项目整体新能源年自发自用电量占总"
                                                       "可用发电量的比例应不低于60%",
                                                 "en": "Across the whole project …"}
    return flows, summary


def _numbers(html: str) -> list[str]:
    body = re.sub(r"<svg.*?</svg>|<style.*?</style>", "", html, flags=re.S)
    return re.findall(r"\d[\d,]*\.\d+ ?(?:%|kWh|pp)", body)


def test_english_by_default(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    html = render_report(*small)
    assert '<html lang="en">' in html
    assert "<h2>Policy check" in html and "Energy flows" in html


def test_chinese_report(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    html = render_report(*small, lang="zh-CN")
    assert '<html lang="zh-CN">' in html
    for text in ("绿电直连", "政策核验", "电量流向", "绿电消费占比", "自发自用比例", "上网电量比例",
                 "并网型项目整体新能源年自发自用电量占总可用发电量的比例应不低于60%"):
        assert text in html, text
    assert "<h2>Policy check" not in html
    # the same figures, in the same notation
    assert _numbers(html) == _numbers(render_report(*small, lang="en"))


def test_language_from_context(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    with i18n.use_lang("zh-CN"):
        assert '<html lang="zh-CN">' in render_report(*small)
    assert '<html lang="en">' in render_report(*small)


def test_chinese_figures_use_the_shipped_font(small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    """Figure labels in Chinese, measured with the shipped CJK font (no glyph is missing from
    the fonts matplotlib lays them out with) and drawn by the page with the same font, which the
    page embeds: a WOFF subset holding every CJK character of the page."""
    import base64
    import io
    import warnings

    from fontTools.ttLib import TTFont

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph … missing from font(s)" would fail here
        html = render_report(*small, lang="zh-CN")
    svgs = re.findall(r"<svg.*?</svg>", html, flags=re.S)
    labels = "".join(re.findall(r"<text[^>]*>([^<]*)</text>", "".join(svgs)))
    for text in ("冬季", "平均功率", "绿电（直供）", "负荷", "1月", "储存电量", "园区", "按年匹配"):
        assert text in labels, text
    assert "'Greenlink Sans SC'" in "".join(svgs)
    assert 'font: 14px/1.5 "Greenlink Sans SC", system-ui' in html  # the page's font stack
    assert "unicode-range: U+2E80-FFFF" in html  # Latin text keeps the system's fonts
    face = re.search(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html)
    assert face is not None
    font = TTFont(io.BytesIO(base64.b64decode(face.group(1))))
    cmap = font.getBestCmap()
    used = {c for c in re.sub(r"<style.*?</style>", "", html, flags=re.S) if ord(c) >= 0x2E80}
    assert used and all(ord(c) in cmap for c in used), sorted(c for c in used
                                                              if ord(c) not in cmap)
    assert len(face.group(1)) < 400_000  # a subset, not the 2.2 MB font


def test_english_report_embeds_only_its_few_chinese_glyphs(
        small: tuple[pd.DataFrame, dict[str, Any]]) -> None:
    """The English subtitle names the term 绿电直连: those four glyphs, no more."""
    html = render_report(*small, lang="en")
    faces = re.findall(r"url\(data:font/woff;base64,([A-Za-z0-9+/=]+)\)", html)
    assert len(faces) == 1 and len(faces[0]) < 20_000
    assert "@font-face" not in i18n.embed_cjk_font("<html><head></head><body>Park</body></html>")


def test_chinese_finance_and_optimisation_sections() -> None:
    from greenlink.report.finance import _fmt_years, headline_rows
    from greenlink.report.optimization import _cost_label

    with i18n.use_lang("zh-CN"):
        assert _cost_label("fee_system_operation") == "直连线路费用：系统运行费"
        assert _cost_label("fee_new_thing").startswith("直连线路费用：")
        assert _fmt_years(None) == "项目寿命内无法回收"
        assert _fmt_years(6.25) == "6.2 年"
    assert headline_rows is not None
