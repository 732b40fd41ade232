"""Settlement statements in zh-CN: Chinese titles and column names, the CJK font embedded (a
subset), the text extractable from the PDF; JSON unchanged; numbers as in English."""

from __future__ import annotations

import json
from pathlib import Path

from pypdf import PdfReader

from greenlink import i18n
from greenlink.economics.settlement import settle
from greenlink.economics.statements import write_settlement

from .conftest import tiny_fees, tiny_flows, tiny_scenario


def pdf_text(path: Path) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(path).pages)


def pdf_fonts(path: Path) -> dict[str, bool]:
    """BaseFont of every font the PDF uses → whether its font program is embedded."""
    out: dict[str, bool] = {}
    for page in PdfReader(path).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            for f in [font, *[d.get_object() for d in font.get("/DescendantFonts", [])]]:
                desc = f.get("/FontDescriptor")
                if desc is not None:
                    desc = desc.get_object()
                    out[str(f["/BaseFont"])] = any(k in desc for k in
                                                    ("/FontFile", "/FontFile2", "/FontFile3"))
    return out


def test_zh_statements(tmp_path: Path) -> None:
    s = settle(tiny_flows(), tiny_scenario(), "2025-01", fees=tiny_fees())
    with i18n.use_lang("zh-CN"):
        files = write_settlement(s, tmp_path / "zh")
    en_files = write_settlement(s, tmp_path / "en")
    tenant_pdf = next(p for p in files if p.parent.name == "tenants" and p.suffix == ".pdf")
    text = pdf_text(tenant_pdf)
    for word in ("结算单", "合计", "单价", "金额", "舍入规则"):
        assert word in text, (word, text[:500])
    fonts = pdf_fonts(tenant_pdf)
    cjk = [name for name in fonts if "GreenlinkSansSC" in name]
    assert cjk and all(fonts[n] for n in cjk), fonts
    assert all("+" in n for n in cjk), "the CJK font is embedded as a subset"
    assert tenant_pdf.stat().st_size < 400_000, "a subset, not the whole 2 MB font"

    html = tenant_pdf.with_suffix(".html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in html and "计量电量" in html and "结算单" in html

    # machine-readable output does not change with the language
    for zh in files:
        if zh.suffix == ".json":
            en = tmp_path / "en" / zh.relative_to(tmp_path / "zh")
            assert json.loads(zh.read_text("utf-8")) == json.loads(en.read_text("utf-8"))
    en_pdf = next(p for p in en_files if p.parent.name == "tenants" and p.suffix == ".pdf")
    assert "Statement" in pdf_text(en_pdf) and "结算单" not in pdf_text(en_pdf)


def test_zh_buyer_statement_and_embedded_font(tmp_path: Path) -> None:
    """An overseas buyer's statement in zh-CN: its parties, FX and attribute lines in Chinese in
    the PDF's text and the HTML page, and the HTML page carries the CJK font for its own
    characters (a reader without CJK fonts still sees them); in English no font is embedded."""
    from .test_cross_border import FX, NO_FEES, SLEEVED

    s = settle(tiny_flows(months=1), tiny_scenario(SLEEVED), "2025-01", fees=NO_FEES, fx=FX)
    with i18n.use_lang("zh-CN"):
        files = write_settlement(s, tmp_path / "zh")
    en_files = write_settlement(s, tmp_path / "en")
    pdf = next(p for p in files if p.parent.name == "buyers" and p.suffix == ".pdf")
    text = pdf_text(pdf).replace("\n", "")
    for words in ("买方", "卖方", "电量交付给", "交付电量", "小时级证书", "中国绿色电力证书",
                  "碳足迹声明", "电量：合同"):
        assert words in text, (words, text[:800])
    html = pdf.with_suffix(".html").read_text(encoding="utf-8")
    assert "@font-face" in html and "登记簿账户" in html and "以 EUR 计价" in html
    en_html = next(p for p in en_files if p.parent.name == "buyers" and p.suffix == ".html")
    page = en_html.read_text(encoding="utf-8")
    assert "@font-face" not in page and "energy delivered to" in page
