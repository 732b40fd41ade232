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
