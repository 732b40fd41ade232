"""Reading tables as users have them: CSV from any Excel (UTF-8, UTF-8 with BOM, GBK, GB18030),
xlsx workbooks and Parquet — the one reader of series, meter, batch and shipment files.

Verbs as in pvlib's ``iotools``: :func:`read_table` reads a file, :func:`parse_table` a buffer
(an upload). Both return a :class:`Table`: the cells and a :class:`TableSource` that says how
the file was read (format, detected encoding, separator, decimal mark, sheet) for validation
reports.

* **Encoding.** A byte-order mark decides; else text that is valid UTF-8 is UTF-8; else
  ``charset-normalizer`` ranks the candidates (GB18030 and its subset GBK preferred when they
  read the bytes about as well as the best, because Chinese Excel saves GBK). The name reported
  is the narrowest that reads the file: ``GBK`` when GBK decodes it, else ``GB18030``.
* **Separator.** Excel's ``sep=;`` first line, else ``separator``, else whichever of ``,``
  ``;`` tab is most frequent in the header line (``;`` or tab first for decimal commas; a
  ``,``-separated file with decimal commas needs those cells quoted, as Excel writes them).
* **Decimal commas** only where declared (``decimal=","``): cells such as ``1,5`` become
  ``1.5``; nothing else changes.
* **xlsx** through openpyxl (read-only, cached values): the first row is the header; dates
  become ISO text (to the second), empty cells empty text. ``sheet`` names the worksheet
  (default: the first). A number cell must hold a finite number that a spreadsheet can store
  (a double): an integer of 200,000 digits, ``inf``, ``nan`` or text in a cell typed as a
  number is refused (:class:`InputError` naming file, sheet, row, column and cell), as are
  rows beyond Excel's 1,048,576 (openpyxl would yield every missing row up to a stated row
  number); columns beyond Excel's 16,384 are not read.

CSV and xlsx cells come back as text (empty cell = ``""``), so every caller parses numbers and
time stamps the same way whatever the file type; Parquet keeps its column types. Column names
are stripped of surrounding white space.
"""

from __future__ import annotations

import codecs
import csv
import io
import math
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from greenlink.errors import InputError, Problem

TableFormat = Literal["csv", "xlsx", "parquet"]
Decimal = Literal[".", ","]

#: File name endings of each format.
SUFFIXES: dict[str, TableFormat] = {".csv": "csv", ".txt": "csv", ".xlsx": "xlsx",
                                    ".xlsm": "xlsx", ".parquet": "parquet", ".pq": "parquet"}
#: Bytes looked at to name the encoding of a large file before it is read (meter fast path).
SNIFF_BYTES = 1 << 16

# user-facing texts of this module (one place, for translation later)
_EXPECTED_TABLE = "a CSV (UTF-8, GBK or GB18030), xlsx or Parquet table"
_MSG_NOT_FOUND = "file not found"
_MSG_FOLDER = "is a folder, not a file"
_MSG_TYPE = "unsupported file type {suffix!r}"
_MSG_ENCODING = ("cannot tell the text encoding (byte {pos} is neither UTF-8 nor GBK/GB18030 "
                 "text)")
_EXPECTED_ENCODING = "text saved as UTF-8 (Excel: 'CSV UTF-8'), GBK or GB18030"
_MSG_DECODE = "not {encoding} text after all: byte {pos} cannot be read"
_MSG_UNREADABLE = "cannot read the table: {error}"
_MSG_NO_SHEET = "no worksheet {sheet!r}"
_EXPECTED_SHEET = "one of the workbook's sheets: {sheets}"
_MSG_EMPTY = "the table is empty (no header row)"
_MSG_DUPLICATE = "column {name!r} appears more than once"
_MSG_CELL = "cell {cell}: {shown} {why}"
_EXPECTED_CELL = "a finite number (at most about 1.8e308, as Excel stores it), or text"
_MSG_ROWS = "more than {limit:,} rows"
_EXPECTED_ROWS = "at most Excel's {limit:,} rows (a sheet as Excel, WPS or LibreOffice save it)"
_MSG_CELL_UNREADABLE = "a cell after row {row} cannot be read ({error})"
_EXPECTED_CELLS = "cells as Excel, WPS or LibreOffice save them"

#: Excel's sheet size. openpyxl yields an empty row for every row number skipped, so a row
#: numbered 100,000,000 in a tiny file would cost minutes: rows past the limit are refused.
XLSX_MAX_ROWS = 1_048_576
XLSX_MAX_COLUMNS = 16_384
#: What the text of a number cell (``<c t="n"><v>…</v>``) may be: a decimal number of bounded
#: length (a double needs at most ~330 characters; Excel writes 17 significant digits).
_NUMBER_TEXT = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d{1,4})?")
_MAX_NUMBER_CHARS = 400

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", "UTF-8-BOM"),
         (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
         (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"))
#: Python codec → the name reported to users.
_NAMES = {"utf_8": "UTF-8", "utf-8": "UTF-8", "gb18030": "GB18030", "gbk": "GBK",
          "gb2312": "GBK", "big5": "Big5", "cp1252": "Windows-1252", "utf_16": "UTF-16"}
_CODECS = {"UTF-8": "utf-8", "UTF-8-BOM": "utf-8-sig", "GBK": "gbk", "GB18030": "gb18030",
           "Big5": "big5", "Windows-1252": "cp1252", "UTF-16": "utf-16"}
_CANDIDATES = ["gb18030", "big5", "cp1252"]


@dataclass(frozen=True)
class TableSource:
    """How a table file was read (for validation reports and for locating rows)."""

    name: str
    format: TableFormat
    encoding: str | None = None  # CSV: "UTF-8", "UTF-8-BOM", "GBK", "GB18030" ...
    separator: str | None = None  # CSV
    decimal: Decimal = "."
    sheet: str | None = None  # xlsx: the worksheet read
    header_line: int = 1  # CSV: line of the header (2 after an Excel "sep=" line)

    def describe(self) -> str:
        """``CSV, GBK (detected), ';'-separated, decimal comma`` / ``xlsx, sheet 'loads'``."""
        if self.format == "parquet":
            return "Parquet"
        if self.format == "xlsx":
            parts = ["xlsx", f"sheet {self.sheet!r}"]
        else:
            sep = {"\t": "tab"}.get(self.separator or ",", repr(self.separator))
            parts = ["CSV", f"{self.encoding} (detected)", f"{sep}-separated"]
        if self.decimal == ",":
            parts.append("decimal comma")
        return ", ".join(parts)

    def row(self, i: int) -> str:
        """Where data row ``i`` (0-based) is: a CSV line, a sheet row, a Parquet row."""
        if self.format == "csv":
            return f"line {i + self.header_line + 1}"
        if self.format == "xlsx":
            return f"row {i + 2} of sheet {self.sheet!r}"
        return f"row {i}"


@dataclass(frozen=True)
class Table:
    """The cells of a table file and how it was read."""

    frame: pd.DataFrame
    source: TableSource


def table_format(name: str) -> TableFormat:
    """The format of a file from its name; :class:`InputError` for other endings."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUFFIXES:
        raise InputError(Problem(_MSG_TYPE.format(suffix=suffix), file=name,
                                 expected=_EXPECTED_TABLE))
    return SUFFIXES[suffix]


# ---------------------------------------------------------------------------------------------
# text encodings


def detect_encoding(data: bytes) -> str:
    """The name of the encoding of CSV bytes: ``UTF-8``, ``UTF-8-BOM``, ``GBK``, ``GB18030``, or
    what ``charset-normalizer`` finds best (``Big5``, ``Windows-1252`` …).

    Raises
    ------
    InputError
        No candidate reads the bytes.
    """
    for bom, _codec, name in _BOMS:
        if data.startswith(bom):
            return name
    try:
        data.decode("utf-8")
        return "UTF-8"
    except UnicodeDecodeError as exc:
        bad = exc.start
    import charset_normalizer

    matches = list(charset_normalizer.from_bytes(data, cp_isolation=_CANDIDATES))
    if not matches:
        raise InputError(Problem(_MSG_ENCODING.format(pos=bad + 1), expected=_EXPECTED_ENCODING))
    best = matches[0]
    chinese = next((m for m in matches if m.encoding in ("gb18030", "gbk", "gb2312")), None)
    if chinese is not None and chinese.chaos <= best.chaos + 0.1:
        try:
            data.decode("gbk")
            return "GBK"
        except UnicodeDecodeError:
            return "GB18030"
    return _NAMES.get(best.encoding, best.encoding)


def decode_text(data: bytes, name: str, encoding: str | None = None) -> tuple[str, str]:
    """The text of CSV bytes and the name of its encoding (detected unless given)."""
    try:
        found = encoding or detect_encoding(data)
    except InputError as exc:
        for p in exc.problems:
            p.file = name
        raise
    try:
        return data.decode(_CODECS.get(found, found)), found
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise InputError(Problem(_MSG_DECODE.format(encoding=found, pos=exc.start + 1),
                                 file=name, location=f"line {line}",
                                 expected=_EXPECTED_ENCODING)) from None
    except LookupError:
        raise InputError(Problem(_MSG_ENCODING.format(pos=1), file=name,
                                 expected=_EXPECTED_ENCODING)) from None


def sniff_encoding(path: Path) -> str:
    """The encoding of a CSV file named from its first :data:`SNIFF_BYTES` (a cut multi-byte
    character at the end of the sample is ignored)."""
    with path.open("rb") as fh:
        sample = fh.read(SNIFF_BYTES)
    full = len(sample) < SNIFF_BYTES
    if not full:
        cut = sample.rfind(b"\n")
        sample = sample[:cut + 1] if cut > 0 else sample
    try:
        return detect_encoding(sample)
    except InputError as exc:
        for p in exc.problems:
            p.file = str(path)
        raise


# ---------------------------------------------------------------------------------------------
# cells


_SEP_LINE = re.compile(r"^sep=(.)\s*$", re.IGNORECASE)
_DECIMAL_COMMA = re.compile(r"^(\s*[+-]?\d*),(\d+(?:[eE][+-]?\d+)?\s*)$")


def _separator(header: str, decimal: Decimal) -> str:
    """The column separator of a header line: with decimal commas ``;`` or tab when the header
    has one (a ``,``-separated file then needs its decimal-comma cells quoted)."""
    counts = {sep: header.count(sep) for sep in (",", ";", "\t")}
    if decimal == "," and (counts[";"] or counts["\t"]):
        return ";" if counts[";"] >= counts["\t"] else "\t"
    best = max(counts, key=lambda s: counts[s])
    return best if counts[best] else ","


def _check_header(columns: list[str], name: str, where: str) -> None:
    seen: set[str] = set()
    for c in columns:
        if c in seen:
            raise InputError(Problem(_MSG_DUPLICATE.format(name=c), file=name, location=where,
                                     expected="one column per name"))
        seen.add(c)


def _decimal_commas(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells written with a decimal comma (``-1,5``, ``2,0e3``) as numbers with a point."""
    return pd.DataFrame({c: frame[c].astype(str).str.replace(_DECIMAL_COMMA, r"\1.\2", regex=True)
                         for c in frame.columns}, index=frame.index)


def _parse_csv(data: bytes, name: str, decimal: Decimal, separator: str | None,
               encoding: str | None) -> Table:
    text, found = decode_text(data, name, encoding)
    text = text.removeprefix("\ufeff")
    header_line = 1
    first, _, rest = text.partition("\n")
    declared = _SEP_LINE.match(first.rstrip("\r"))
    if declared:  # Excel's "sep=;" line names the separator
        separator = declared.group(1)
        text, header_line = rest, 2
        first = rest.partition("\n")[0]
    if not first.strip():
        raise InputError(Problem(_MSG_EMPTY, file=name, expected=_EXPECTED_TABLE))
    sep = separator or _separator(first, decimal)
    header = next(csv.reader(io.StringIO(first), delimiter=sep), [])
    _check_header([h.strip() for h in header], name, f"line {header_line}")
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            na_filter=False, skip_blank_lines=True)
    except (ValueError, pd.errors.ParserError) as exc:
        raise InputError(Problem(_MSG_UNREADABLE.format(error=str(exc).strip()[:200]), file=name,
                                 expected=_EXPECTED_TABLE)) from None
    frame.columns = [str(c).strip() for c in frame.columns]
    if decimal == ",":
        frame = _decimal_commas(frame)
    return Table(frame, TableSource(name, "csv", encoding=found, separator=sep, decimal=decimal,
                                    header_line=header_line))


class _BadCell(Exception):
    """A cell value no spreadsheet stores; the caller names file, sheet, row and column."""

    def __init__(self, shown: str, why: str) -> None:
        super().__init__(why)
        self.shown, self.why = shown, why


def _shown(text: str) -> str:
    return repr(text) if len(text) <= 40 else f"{text[:20]!r}… ({len(text):,} characters)"


def _number_problem(text: str) -> str | None:
    """Why the text of a number cell is not a finite double (``None``: it is one)."""
    text = text.strip()
    if len(text) > _MAX_NUMBER_CHARS:
        return "is too long for a number"
    if not _NUMBER_TEXT.fullmatch(text):
        return "is not a number (in a cell typed as a number)"
    if not math.isfinite(float(text)):
        return _TOO_LARGE
    return None


_TOO_LARGE = "is too large for a number a spreadsheet stores (a double, at most about 1.8e308)"


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        stamp = pd.Timestamp(value).round("s")
        return stamp.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _BadCell(str(value), "is not a finite number (or too large for a double)")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
    if isinstance(value, int) and value.bit_length() > 1024:  # beyond any double
        digits = int(value.bit_length() * math.log10(2)) + 1
        raise _BadCell(f"an integer of about {digits:,} digits", _TOO_LARGE)
    return str(value).strip() if isinstance(value, str) else str(value)


def _not_a_date(text: str) -> bool:
    from openpyxl.utils.datetime import from_ISO8601

    try:
        from_ISO8601(text)
    except (ValueError, TypeError, OverflowError):
        return True
    return False


def _first_bad_cell(data: bytes, path: str | None) -> tuple[str, str, str, str] | None:
    """(cell reference, shown value, why, expected) of the first cell of a worksheet (its
    member ``path`` in the xlsx zip) that openpyxl cannot convert, or ``None``; looked for only
    after openpyxl failed, to name the cell."""
    from openpyxl.utils import get_column_letter
    from openpyxl.xml.functions import iterparse

    if not path:
        return None

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    row, column = 0, 0  # as openpyxl counts cells without a reference
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive, \
                archive.open(path.lstrip("/")) as src:
            for event, element in iterparse(src, events=("start", "end")):
                if event == "start":
                    if element.tag == f"{ns}row":
                        stated = element.get("r", "")
                        row = int(stated) if re.fullmatch(r"\d{1,7}", stated) else row + 1
                        column = 0
                    continue
                if element.tag != f"{ns}c":
                    continue
                kind, text = element.get("t", "n"), element.findtext(f"{ns}v")
                ref = element.get("r")
                if ref is not None and not re.fullmatch(r"[A-Z]{1,3}[1-9]\d{0,6}", ref):
                    return "", _shown(ref), "is not a cell reference", _EXPECTED_CELLS
                column = _column_index(ref.rstrip("0123456789")) + 1 if ref else column + 1
                why, expected = None, _EXPECTED_CELLS
                if kind == "n" and text:
                    why, expected = _number_problem(text), _EXPECTED_CELL
                elif kind == "s" and text and not re.fullmatch(r"\d{1,9}", text.strip()):
                    why = "is not an index of the workbook's shared texts"
                elif kind == "b" and text and text.strip() not in ("0", "1"):
                    why = "is not 0 or 1 (a true/false cell)"
                elif kind == "d" and text and _not_a_date(text):
                    why = "is not an ISO 8601 date (a date cell)"
                if why is not None:
                    return (ref or f"{get_column_letter(max(column, 1))}{row}",
                            _shown(text or ""), why, expected)
                element.clear()
    except (KeyError, OSError, zipfile.BadZipFile, SyntaxError):  # ParseError: SyntaxError
        return None
    return None


def _parse_xlsx(data: bytes, name: str, sheet: str | None, decimal: Decimal) -> Table:
    import openpyxl
    from openpyxl.utils import get_column_letter

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, SyntaxError) as exc:
        raise InputError(Problem(_MSG_UNREADABLE.format(error=str(exc)[:200]), file=name,
                                 expected="an xlsx workbook saved by Excel, WPS or LibreOffice"))\
            from None
    try:
        names = list(book.sheetnames)
        chosen = sheet if sheet is not None else (names[0] if names else None)
        if chosen not in names:
            raise InputError(Problem(_MSG_NO_SHEET.format(sheet=sheet), file=name,
                                     location=f"sheet {sheet!r}",
                                     expected=_EXPECTED_SHEET.format(sheets=", ".join(
                                         repr(n) for n in names))))
        ws = book[chosen]
        where = f"sheet {chosen!r}"
        row_no, columns = 1, [""]

        def column_of(j: int) -> str:
            heading = columns[j] if j < len(columns) else ""
            return f"column {heading!r}" if heading else f"column {get_column_letter(j + 1)}"

        def bad_value(bad: _BadCell, j: int) -> InputError:
            cell = f"{get_column_letter(j + 1)}{row_no}"
            return InputError(Problem(
                _MSG_CELL.format(cell=cell, shown=bad.shown, why=bad.why), file=name,
                location=f"row {row_no} of {where}, {column_of(j)}", expected=_EXPECTED_CELL))

        try:
            header = next(ws.iter_rows(min_row=1, max_row=1, max_col=XLSX_MAX_COLUMNS,
                                       values_only=True), None)
            if header is None or all(v is None for v in header):
                raise InputError(Problem(_MSG_EMPTY, file=name, location=where,
                                         expected=_EXPECTED_TABLE))
            width = max(i + 1 for i, v in enumerate(header) if v is not None)
            columns = []
            for j, v in enumerate(header[:width]):
                try:
                    columns.append(_cell_text(v))
                except _BadCell as bad:
                    raise bad_value(bad, j) from None
            _check_header(columns, name, f"row 1 of {where}")
            cells = []
            rows = ws.iter_rows(min_row=2, max_row=XLSX_MAX_ROWS + 1, max_col=width,
                                values_only=True)
            for row_no, row in enumerate(rows, start=2):
                if row_no > XLSX_MAX_ROWS:
                    raise InputError(Problem(_MSG_ROWS.format(limit=XLSX_MAX_ROWS), file=name,
                                             location=f"row {row_no} of {where}",
                                             expected=_EXPECTED_ROWS.format(
                                                 limit=XLSX_MAX_ROWS)))
                if row.count(None) == len(row):  # empty (openpyxl fills skipped rows)
                    continue
                values = []
                for j, v in enumerate(row[:width]):
                    try:
                        values.append(_cell_text(v))
                    except _BadCell as bad:
                        raise bad_value(bad, j) from None
                if not any(values):
                    continue
                cells.append(values + [""] * (width - len(values)))
        except (ValueError, TypeError, IndexError, KeyError, OverflowError, SyntaxError) as exc:
            # openpyxl could not convert a cell (int() of 200,000 digits, "nan" typed as a
            # number, a shared-text index out of range …) or the sheet's XML is broken
            found = _first_bad_cell(data, getattr(ws, "_worksheet_path", None))
            if found is None:
                raise InputError(Problem(_MSG_CELL_UNREADABLE.format(
                    row=row_no, error=str(exc)[:120]), file=name, location=where,
                    expected=_EXPECTED_CELLS)) from None
            ref, shown, why, expected = found
            location = where
            if ref:
                letters = ref.rstrip("0123456789")
                j = _column_index(letters)
                heading = columns[j] if 0 <= j < len(columns) and columns[j] else None
                location = (f"row {ref[len(letters):]} of {where}, "
                            + (f"column {heading!r}" if heading else f"column {letters}"))
            raise InputError(Problem(_MSG_CELL.format(cell=ref or "?", shown=shown, why=why),
                                     file=name, location=location, expected=expected)) from None
    finally:
        book.close()
    frame = pd.DataFrame(np.array(cells, dtype=object).reshape(len(cells), width),
                         columns=columns)
    if decimal == ",":
        frame = _decimal_commas(frame)
    return Table(frame, TableSource(name, "xlsx", decimal=decimal, sheet=chosen))


def _column_index(letters: str) -> int:
    """0-based index of a column's letters (``A`` → 0); -1 when they are not letters."""
    if not re.fullmatch(r"[A-Z]{1,3}", letters):
        return -1
    index = 0
    for ch in letters:
        index = index * 26 + ord(ch) - 64
    return index - 1


def parse_table(data: bytes, name: str, *, format: TableFormat | None = None,
                sheet: str | None = None, decimal: Decimal = ".", separator: str | None = None,
                encoding: str | None = None) -> Table:
    """A table from the bytes of a CSV, xlsx or Parquet file (``name`` is used in errors and
    gives the format unless ``format`` does).

    Parameters
    ----------
    sheet : xlsx: the worksheet (default: the first)
    decimal : ``","`` for files written with decimal commas
    separator : CSV column separator (default: detected)
    encoding : CSV encoding name (default: detected)

    Raises
    ------
    InputError
        An unknown file type, an encoding that cannot be told, an unreadable file, no such
        sheet, an empty table, a column name used twice.
    """
    fmt = format or table_format(name)
    if fmt == "csv":
        return _parse_csv(data, name, decimal, separator, encoding)
    if fmt == "xlsx":
        return _parse_xlsx(data, name, sheet, decimal)
    import pyarrow as pa

    try:
        frame = pd.read_parquet(io.BytesIO(data))
    except (ValueError, OSError, pa.ArrowException) as exc:  # ArrowNotImplementedError …
        raise InputError(Problem(_MSG_UNREADABLE.format(error=str(exc)[:200]), file=name,
                                 expected=_EXPECTED_TABLE)) from None
    return Table(frame, TableSource(name, "parquet"))


def read_table(path: str | Path, *, sheet: str | None = None, decimal: Decimal = ".",
               separator: str | None = None, encoding: str | None = None) -> Table:
    """Read a CSV, xlsx or Parquet file (see :func:`parse_table`); a missing file is an
    :class:`InputError` naming it."""
    p = Path(path)
    name = str(path)
    if not p.is_file():
        raise InputError(Problem(_MSG_FOLDER if p.is_dir() else _MSG_NOT_FOUND, file=name,
                                 expected=_EXPECTED_TABLE))
    fmt = table_format(name)
    return parse_table(p.read_bytes(), name, format=fmt, sheet=sheet, decimal=decimal,
                       separator=separator, encoding=encoding)


# ---------------------------------------------------------------------------------------------
# time stamps


_YEAR_FIRST = re.compile(r"^\s*(\d{4})[/.\-](\d{1,2})[/.\-](\d{1,2})"
                         r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?\s*$")


def parse_datetimes(text: pd.Series) -> pd.DatetimeIndex:
    """Time stamps from text: ISO 8601 (with or without UTC offset; mixed offsets as instants in
    UTC), else the year-first forms Chinese Excel writes (``2025/1/1 0:15``, ``2025-1-1 0:15:00``,
    naive).

    Raises
    ------
    ValueError
        Neither form reads every value (the caller names the file and row).
    """
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601"))
    except (ValueError, TypeError):
        pass
    try:
        return pd.DatetimeIndex(pd.to_datetime(text, format="ISO8601", utc=True))
    except (ValueError, TypeError):
        pass
    parts = text.astype(str).str.extract(_YEAR_FIRST)
    if parts[0].isna().any():
        raise ValueError("unreadable time stamp "
                         f"{text.iloc[int(np.flatnonzero(parts[0].isna().to_numpy())[0])]!r}")
    numbers = parts.fillna("0").astype(int)
    return pd.DatetimeIndex(pd.to_datetime(pd.DataFrame({
        "year": numbers[0], "month": numbers[1], "day": numbers[2], "hour": numbers[3],
        "minute": numbers[4], "second": numbers[5]})))
