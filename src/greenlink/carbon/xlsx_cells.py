"""Write values into input cells of an ``.xlsx`` workbook without rewriting the rest of it.

openpyxl rebuilds a workbook from its own model when it saves, and drops what it does not model:
the Commission template's data bars (the ``x14`` conditional-format extensions of
``F_Tools`` and ``Summary_Processes``), its custom XML parts, printer settings and the
calculation chain. This module instead copies every member of the file byte for byte and edits
only the ``<c>`` elements of the cells written, in the sheet XML (SpreadsheetML, ECMA-376 Part 1
§18.3.1). Numbers are written as ``<v>`` values, text as inline strings; the cell's style is
kept. A cell that holds a formula is never overwritten (that would break the template). The
results the template had cached for its formula cells (computed for the empty template) are
dropped and the workbook is marked for a full recalculation when it is next opened (``calcPr
fullCalcOnLoad="1"``), so no reader shows a stale result: Excel and LibreOffice compute every
formula from the values written.
"""

from __future__ import annotations

import math
import re
import zipfile
from collections.abc import Mapping
from pathlib import Path
from xml.sax.saxutils import escape

from greenlink.errors import InputError, Problem

CellValue = float | int | str
_ROW_RE = re.compile(r'<row\b[^>]*?\br="(\d+)"[^>]*?(/?)>')
_CELL_RE = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?(/?)>')
_COORD_RE = re.compile(r"([A-Z]+)(\d+)")
_CACHED_RE = re.compile(r"(<f\b[^>]*/>|<f\b[^>]*>[^<]*</f>)<v>[^<]*</v>")
_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"


def column_index(letters: str) -> int:
    """``"A"`` → 1, ``"L"`` → 12, ``"AA"`` → 27."""
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _split(coord: str) -> tuple[str, int]:
    m = _COORD_RE.fullmatch(coord)
    if m is None:
        raise ValueError(f"not a cell reference: {coord!r}")
    return m.group(1), int(m.group(2))


def sheet_paths(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name → member path of its XML (from ``workbook.xml`` and its relationships)."""
    book = zf.read("xl/workbook.xml").decode("utf-8")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {m.group(1): m.group(2) for m in re.finditer(
        r'<Relationship\b[^>]*?\bId="([^"]+)"[^>]*?\bTarget="([^"]+)"', rels)}
    targets.update({m.group(2): m.group(1) for m in re.finditer(
        r'<Relationship\b[^>]*?\bTarget="([^"]+)"[^>]*?\bId="([^"]+)"', rels)})
    out: dict[str, str] = {}
    for m in re.finditer(r"<sheet\b([^>]*)/?>", book):
        attrs = m.group(1)
        name = re.search(r'\bname="([^"]*)"', attrs)
        rid = re.search(r'\br:id="([^"]*)"', attrs)
        if name is None or rid is None:
            continue
        target = targets[rid.group(1)].lstrip("/")
        path = target if target.startswith("xl/") else f"xl/{target}"
        out[_unescape(name.group(1))] = path
    return out


def _unescape(text: str) -> str:
    return (text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", '"')
            .replace("&apos;", "'").replace("&amp;", "&"))


def _cell_xml(coord: str, value: CellValue, style: str | None) -> str:
    s = f' s="{style}"' if style is not None else ""
    if isinstance(value, str):
        return (f'<c r="{coord}"{s} t="inlineStr"><is><t xml:space="preserve">'
                f"{escape(value)}</t></is></c>")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"cell {coord}: {value!r} is not a finite number")
    text = repr(int(number)) if number.is_integer() and abs(number) < 1e15 else repr(number)
    return f'<c r="{coord}"{s}><v>{text}</v></c>'


def _set_in_row(row_body: str, row_no: int, col: str, value: CellValue, sheet: str) -> str:
    """The inner XML of a row with cell ``col`` set (replaced or inserted in column order)."""
    target = column_index(col)
    coord = f"{col}{row_no}"
    pos = 0
    while True:
        m = _CELL_RE.search(row_body, pos)
        if m is None:
            return row_body + _cell_xml(coord, value, None)
        end = m.end() if m.group(3) == "/" else row_body.index("</c>", m.end()) + len("</c>")
        here = column_index(m.group(1))
        if here == target:
            element = row_body[m.start():end]
            if "<f" in element:
                raise InputError(Problem(f"cell {sheet}!{coord} holds a formula; greenlink "
                                         "writes input cells only", location=f"{sheet}!{coord}",
                                         expected="an input cell of the template"))
            style = re.search(r'\bs="(\d+)"', m.group(0))
            new = _cell_xml(coord, value, style.group(1) if style else None)
            return row_body[:m.start()] + new + row_body[end:]
        if here > target:
            return row_body[:m.start()] + _cell_xml(coord, value, None) + row_body[m.start():]
        pos = end


def set_cells(xml: str, cells: Mapping[str, CellValue], sheet: str = "sheet") -> str:
    """The sheet XML with ``cells`` (``{"L16": 650000.0, "E62": "Cement"}``) written."""
    by_row: dict[int, list[tuple[str, CellValue]]] = {}
    for coord, value in cells.items():
        col, row = _split(coord)
        by_row.setdefault(row, []).append((col, value))
    if "<sheetData/>" in xml:
        xml = xml.replace("<sheetData/>", "<sheetData></sheetData>", 1)
    start = xml.index("<sheetData>") + len("<sheetData>")
    for row_no in sorted(by_row):
        stop = xml.index("</sheetData>", start)
        found = None
        pos = start
        while True:
            m = _ROW_RE.search(xml, pos, stop)
            if m is None or int(m.group(1)) >= row_no:
                found = m if m is not None and int(m.group(1)) == row_no else None
                insert_at = m.start() if m is not None else stop
                break
            pos = m.end() if m.group(2) == "/" else xml.index("</row>", m.end()) + 6
        if found is None:
            body = ""
            for col, value in by_row[row_no]:
                body = _set_in_row(body, row_no, col, value, sheet)
            xml = xml[:insert_at] + f'<row r="{row_no}">{body}</row>' + xml[insert_at:]
            continue
        if found.group(2) == "/":
            open_tag = found.group(0)[:-2] + ">"
            body, close_end = "", found.end()
        else:
            open_tag = found.group(0)
            close = xml.index("</row>", found.end())
            body, close_end = xml[found.end():close], close + len("</row>")
        for col, value in by_row[row_no]:
            body = _set_in_row(body, row_no, col, value, sheet)
        xml = xml[:found.start()] + open_tag + body + "</row>" + xml[close_end:]
    return xml


def drop_cached_results(xml: str) -> str:
    """Sheet XML without the cached ``<v>`` result of any formula cell (formulas kept)."""
    return _CACHED_RE.sub(r"\1", xml)


def _full_calc_on_load(book: str) -> str:
    m = re.search(r"<calcPr\b([^>]*?)(/?)>", book)
    if m is None:
        return book.replace("</workbook>", '<calcPr fullCalcOnLoad="1"/></workbook>', 1)
    attrs = re.sub(r'\s*\bfullCalcOnLoad="[^"]*"', "", m.group(1))
    return book[:m.start()] + f'<calcPr{attrs} fullCalcOnLoad="1"{m.group(2)}>' + book[m.end():]


def write_cells(src: str | Path, dest: str | Path,
                cells: Mapping[str, Mapping[str, CellValue]]) -> None:
    """Copy workbook ``src`` to ``dest`` with ``cells`` (sheet name → {coord: value}) written.

    Every other member is copied unchanged (data bars, custom XML and printer settings kept),
    but the cached results of formula cells are dropped (:func:`drop_cached_results`) and
    ``workbook.xml`` gets ``fullCalcOnLoad="1"``.

    Raises
    ------
    InputError
        An unknown sheet, or a target cell that holds a formula.
    """
    with zipfile.ZipFile(src) as zin:
        paths = sheet_paths(zin)
        unknown = sorted(set(cells) - set(paths))
        if unknown:
            raise InputError(Problem(f"no sheet {unknown[0]!r} in {src}",
                                     expected="one of " + ", ".join(paths)))
        edits = {paths[name]: (name, values) for name, values in cells.items()}
        sheets = set(paths.values())
        with zipfile.ZipFile(dest, "w") as zout:
            for info in zin.infolist():
                data = zin.read(info.filename)
                if info.filename in sheets:
                    xml = drop_cached_results(data.decode("utf-8"))
                    if info.filename in edits:
                        name, values = edits[info.filename]
                        xml = set_cells(xml, values, name)
                    data = xml.encode("utf-8")
                elif info.filename == "xl/workbook.xml":
                    data = _full_calc_on_load(data.decode("utf-8")).encode("utf-8")
                zout.writestr(info, data, compress_type=info.compress_type)
