"""Build ``src/greenlink/fonts/GreenlinkSansSC-Regular.ttf``: the PDF font of zh-CN documents.

A subset of Noto Sans CJK SC Regular (SIL Open Font License 1.1) to the characters of GB 2312
(6,763 hanzi and its symbols), ASCII, Latin-1 and the punctuation and symbols greenlink
writes, with the outlines converted from CFF to TrueType (quadratic) so that matplotlib embeds
it in PDFs as a Type 42 font, itself subset to the glyphs each PDF uses. Renamed (a Modified
Version under the OFL), so that it never shadows an installed Noto Sans CJK.

    python scripts/make_cjk_font.py /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc

(The source file is in Debian's fonts-noto-cjk package; face 2 of the collection is SC.)
"""

from __future__ import annotations

import argparse
from pathlib import Path

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTCollection, TTFont, newTable

OUT = Path(__file__).resolve().parent.parent / "src" / "greenlink" / "fonts"
NAME = "Greenlink Sans SC"
FILE = "GreenlinkSansSC-Regular.ttf"
SC_FACE = 2


def gb2312() -> set[int]:
    """Every character of GB 2312 (rows 0xA1–0xF7, cells 0xA1–0xFE)."""
    chars = set()
    for row in range(0xA1, 0xF8):
        for cell in range(0xA1, 0xFF):
            try:
                chars.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return chars


def characters() -> set[int]:
    extra = set(range(0x20, 0x7F)) | set(range(0xA0, 0x180))  # ASCII, Latin-1, Latin Ext-A
    extra |= set(range(0x2000, 0x2070))  # general punctuation (– — ‘ ’ “ ” … ‰ ′ ″)
    extra |= set(range(0x2070, 0x20A0))  # super- and subscripts (CO₂)
    extra |= set(range(0x20AC, 0x20AD)) | {0x00A5, 0x2103, 0x2116, 0x2122}  # € ¥ ℃ № ™
    extra |= set(range(0x2190, 0x2200))  # arrows
    extra |= set(range(0x2200, 0x2300))  # mathematical operators (≥ ≤ ≠ − × ÷ ±)
    extra |= set(range(0x2460, 0x24FF)) | set(range(0x2500, 0x25A0))  # ① …, box drawing
    extra |= set(range(0x25A0, 0x2600))  # geometric shapes (■ ● ▲)
    extra |= set(range(0x3000, 0x3040))  # CJK symbols and punctuation (、。〔〕《》「」)
    extra |= set(range(0xFF00, 0xFFF0))  # full-width forms (，：（）％)
    return gb2312() | extra


def to_truetype(font: TTFont) -> None:
    """Replace the CFF outlines with TrueType (quadratic) ones, in place."""
    glyph_order = font.getGlyphOrder()
    glyph_set = font.getGlyphSet()
    glyphs = {}
    for name in glyph_order:
        pen = TTGlyphPen(glyph_set)
        glyph_set[name].draw(Cu2QuPen(pen, max_err=1.0, reverse_direction=True))
        glyphs[name] = pen.glyph()
    del font["CFF "]
    if "VORG" in font:
        del font["VORG"]
    glyf = font["glyf"] = newTable("glyf")
    glyf.glyphOrder = glyph_order
    glyf.glyphs = glyphs
    font["loca"] = newTable("loca")
    maxp = font["maxp"]
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs",
                 "maxInstructionDefs", "maxStackElements", "maxSizeOfInstructions",
                 "maxComponentElements"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.maxComponentDepth = 0
    font["head"].indexToLocFormat = 1
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = glyph_order
    font.sfntVersion = "\x00\x01\x00\x00"


def rename(font: TTFont) -> None:
    names = font["name"]
    for record in list(names.names):
        if record.nameID in (1, 3, 4, 6, 16, 17, 18):
            names.removeNames(nameID=record.nameID)
    family, style = NAME, "Regular"
    for name_id, text in ((1, family), (2, style), (3, f"greenlink:{family}-{style}"),
                          (4, f"{family} {style}"), (6, f"{family.replace(' ', '')}-{style}")):
        names.setName(text, name_id, 3, 1, 0x409)
        names.setName(text, name_id, 1, 0, 0)
    names.setName(
        "Subset of Noto Sans CJK SC Regular 2.004 (GB 2312, ASCII, Latin-1, punctuation), "
        "outlines converted to TrueType, for greenlink's PDFs.", 10, 3, 1, 0x409)


def build(source: Path, out: Path) -> Path:
    font = TTCollection(str(source)).fonts[SC_FACE]
    font.recalcTimestamp = False  # the same file on every run
    options = subset.Options()
    options.layout_features = []  # matplotlib sets no OpenType features
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["VORG", "vhea", "vmtx", "DSIG"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=characters())
    subsetter.subset(font)
    to_truetype(font)
    rename(font)
    out.mkdir(parents=True, exist_ok=True)
    target = out / FILE
    font.save(str(target))
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path, help="NotoSansCJK-Regular.ttc")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    path = build(args.source, args.out)
    print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")


if __name__ == "__main__":
    main()
