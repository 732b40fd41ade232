"""Reading the national platform's GEC export: the mapping file and CSV parsing."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from greenlink.certificates.gec.facts import GecStatus, SerialRange
from greenlink.certificates.models import (
    GEC_CANCELLED,
    GEC_ISSUED,
    GEC_STATUSES,
    GEC_TRANSFERRED,
)
from greenlink.errors import InputError, Problem
from greenlink.tomlfile import load_toml

# ---------------------------------------------------------------------------------- mapping

FieldName = Literal["device", "production_month", "serial_start", "serial_end", "count",
                    "status", "tradable", "holder", "beneficiary"]
Headers = str | list[str]


class _CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    encoding: Literal["auto", "utf-8", "gbk", "gb18030"] = "auto"
    delimiter: str = Field(default=",", min_length=1, max_length=1)
    skip_rows: int = Field(default=0, ge=0)


class _Columns(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    device: Headers
    production_month: Headers
    serial_start: Headers
    serial_end: Headers | None = None
    count: Headers | None = None
    status: Headers | None = None
    tradable: Headers | None = None
    holder: Headers | None = None
    beneficiary: Headers | None = None


class _Values(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: dict[str, GecStatus] = {}
    tradable: dict[str, bool] = {}


class _Serial(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    pattern: str = r"^(?P<prefix>.*?)(?P<number>\d+)$"

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            rx = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression: {exc}") from None
        if "number" not in rx.groupindex:
            raise ValueError("the pattern needs a group (?P<number>\\d+): the serial's "
                             "running number")
        unknown = set(rx.groupindex) - {"prefix", "number", "suffix"}
        if unknown:
            raise ValueError(f"unknown groups {sorted(unknown)} (use prefix, number, suffix)")
        return value


class _Defaults(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: GecStatus | None = None
    tradable: bool | None = None


class GecMapping(BaseModel):
    """A mapping file (TOML): how the columns and values of a GEC export map to greenlink's
    fields. See docs/registry.md and ``data/gec/example-mapping.toml``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    csv: _CsvOptions = _CsvOptions()
    columns: _Columns
    values: _Values = _Values()
    serial: _Serial = _Serial()
    devices: dict[str, str] = {}
    accounts: dict[str, str] = {}
    external: dict[str, str] = {}
    defaults: _Defaults = _Defaults()

    @model_validator(mode="after")
    def _status_and_tradable_known(self) -> GecMapping:
        if self.columns.status is None and self.defaults.status is None:
            raise ValueError("give columns.status or defaults.status (every record needs a "
                             "status)")
        return self


def load_mapping(path: str | Path) -> GecMapping:
    """Read a mapping file (problems name file, line and key)."""
    return load_toml(path, GecMapping, kind="GEC mapping file",
                     expected="a GEC mapping file (TOML, see docs/registry.md)")


# ------------------------------------------------------------------------------- CSV parsing


def _norm(text: str) -> str:
    """Compare headers and values: NFKC (full-width → ASCII), trimmed, case-folded."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


@dataclass(frozen=True)
class ParsedRow:
    """One data row of an export, parsed (no database needed)."""

    row: int
    device: str
    month: date
    serials: SerialRange
    status: str
    tradable: bool | None  # None: take it from the issuance (non-issued rows only)
    holder: str | None
    beneficiary: str | None


@dataclass(frozen=True)
class ParsedFile:
    name: str
    sha256: str
    headers: Mapping[str, str]  # field → the file's header
    rows: tuple[ParsedRow, ...]
    problems: tuple[Problem, ...] = ()

    def where(self, row: int, fld: str) -> str:
        return f"row {row}, column {self.headers.get(fld, fld)}"


def _decode(content: bytes, encoding: str, name: str) -> str:
    if encoding in ("auto", "utf-8"):
        try:
            return content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            if encoding == "utf-8":
                line = content[:exc.start].count(b"\n") + 1
                raise InputError(Problem(f"not UTF-8 text (byte {exc.start + 1} cannot be read)",
                                         file=name, location=f"row {line}",
                                         expected="a CSV saved as UTF-8, or encoding = \"gbk\" "
                                                  "in the mapping's [csv]")) from None
    try:
        return content.decode("gb18030")
    except UnicodeDecodeError as exc:
        line = content[:exc.start].count(b"\n") + 1
        raise InputError(Problem(f"neither UTF-8 nor GBK text (byte {exc.start + 1} cannot be "
                                 "read)", file=name, location=f"row {line}",
                                 expected="a CSV saved as UTF-8, UTF-8 with BOM or GBK")) from None


#: Most digits of a serial's running number: every such number, and every count of a range of
#: them, fits the signed 64-bit integers the database stores (the platform's serials have far
#: fewer digits). A longer number is refused, naming its row and column.
MAX_SERIAL_DIGITS = 18
#: Most GECs one record may count (the largest signed 64-bit integer).
MAX_COUNT = 2**63 - 1
#: Longest serial cell read (prefix, number and suffix together), and the longest prefix and
#: suffix stored (``gc_gec_record.serial_prefix``, ``serial_suffix``).
MAX_SERIAL_CHARS, MAX_PREFIX_CHARS, MAX_SUFFIX_CHARS = 200, 64, 32
#: Longest device code, month, holder or beneficiary name read (``gc_gec_record.holder_name``).
MAX_NAME_CHARS = 200


def _shown(text_: str, limit: int = 40) -> str:
    """A cell as a message shows it: quoted, and cut in the middle when long."""
    if len(text_) <= limit:
        return repr(text_)
    return f"{text_[:limit // 2]!r}…{text_[-8:]!r} ({len(text_):,} characters)"


_MONTH_PATTERNS = (re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?"),
                   re.compile(r"(\d{4})(\d{2})"))
_SCIENTIFIC = re.compile(r"^[0-9.]+[eE][+-]?\d+$")


def _parse_month(cell: str) -> date | None:
    text_ = unicodedata.normalize("NFKC", cell).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T].*)?", text_)
    if m:
        y, mo, d = (int(g) for g in m.groups())
        try:
            date(y, mo, d)
        except ValueError:
            return None
        return date(y, mo, 1)
    for rx in _MONTH_PATTERNS:
        m = rx.fullmatch(text_)
        if m and 1 <= int(m.group(2)) <= 12:
            return date(int(m.group(1)), int(m.group(2)), 1)
    return None


def _clean_serial(cell: str) -> str:
    s = unicodedata.normalize("NFKC", cell).strip()
    if s.startswith('="') and s.endswith('"'):  # Excel's text guard
        s = s[2:-1]
    return s.lstrip("'\t").strip()


def _split_serial(cell: str, rx: re.Pattern[str]) -> tuple[str, str, str] | str:
    """``(prefix, number text, suffix)``, or the reason it cannot be read."""
    s = _clean_serial(cell)
    if not s:
        return "empty"
    if len(s) > MAX_SERIAL_CHARS:
        return (f"{_shown(s)} is longer than {MAX_SERIAL_CHARS} characters: not a GEC "
                "serial")
    if _SCIENTIFIC.match(s):
        return (f"{s!r} is a number in scientific notation (a spreadsheet rounded the serial); "
                "export the serials as text")
    m = rx.fullmatch(s)
    if not m:
        return f"{_shown(s)} does not match the serial pattern {rx.pattern!r}"
    number = m.group("number") or ""
    if not (number.isascii() and number.isdigit()):
        return (f"{_shown(s)}: its running number {_shown(number)} is not digits 0-9 (check "
                "the [serial] pattern's number group)")
    if len(number) > MAX_SERIAL_DIGITS:
        return (f"{_shown(s)}: its running number has {len(number):,} digits, more than "
                f"{MAX_SERIAL_DIGITS}")
    return (m.groupdict().get("prefix") or "", number, m.groupdict().get("suffix") or "")


def _parse_int(cell: str) -> int | None:
    """A whole number of at most 19 digits 0-9 (``1,000`` and ``5.0`` too), else ``None``."""
    s = unicodedata.normalize("NFKC", cell).strip().replace(",", "").replace(" ", "")
    if len(s) > 40:
        return None
    m = re.fullmatch(r"([0-9]{1,19})(?:\.0*)?", s)
    return int(m.group(1)) if m else None


_STATUS_WORDS = {s: s for s in GEC_STATUSES}
_BOOL_WORDS = {"true": True, "false": False, "yes": True, "no": False, "1": True, "0": False}
MAX_PROBLEMS = 50


def parse_gec_csv(content: bytes, mapping: GecMapping, *, name: str) -> ParsedFile:
    """Parse an export with a mapping (pure). Rows are numbered as a spreadsheet shows them
    (the first line of the file is row 1); blank rows are skipped.

    Returns the rows and every problem found (row and column named); callers refuse the file
    when there is any (:meth:`greenlink.certificates.registry.Registry.import_gec_file`).
    """
    sha = hashlib.sha256(content).hexdigest()
    text_ = _decode(content, mapping.csv.encoding, name)
    reader = csv.reader(io.StringIO(text_, newline=""), delimiter=mapping.csv.delimiter)
    records: list[list[str]] = []
    try:
        for record in reader:
            records.append(record)
    except csv.Error as exc:  # e.g. a cell above the csv module's field limit
        raise InputError(Problem(f"not readable as CSV: {exc}", file=name,
                                 location=f"row {reader.line_num}",
                                 expected="a CSV export of GEC records")) from None
    header_row = mapping.csv.skip_rows + 1
    if len(records) < header_row:
        raise InputError(Problem("the file has no header row", file=name,
                                 location=f"row {header_row}",
                                 expected="a header row naming the columns of the mapping"))
    header = [_norm(h) for h in records[header_row - 1]]
    columns: dict[str, int] = {}
    headers: dict[str, str] = {}
    problems: list[Problem] = []
    for fld, names in mapping.columns.model_dump().items():
        if names is None:
            continue
        wanted = [names] if isinstance(names, str) else list(names)
        hits = [i for i, h in enumerate(header) if h in {_norm(n) for n in wanted}]
        if len(hits) > 1:
            problems.append(Problem(f"{len(hits)} columns match {fld}", file=name,
                                    location=f"row {header_row}",
                                    expected=f"one column named {' or '.join(wanted)}"))
        elif not hits:
            problems.append(Problem(f"no column for {fld}", file=name,
                                    location=f"row {header_row}",
                                    expected=f"a column named {' or '.join(wanted)} "
                                             f"(mapping [columns].{fld})"))
        else:
            columns[fld] = hits[0]
            headers[fld] = records[header_row - 1][hits[0]].strip().lstrip("\ufeff")
    if problems:
        raise InputError(problems)
    status_values = {_norm(k): v for k, v in mapping.values.status.items()}
    tradable_values = {_norm(k): v for k, v in mapping.values.tradable.items()}
    rx = re.compile(mapping.serial.pattern)
    to_device = {_norm(k): v for k, v in mapping.devices.items()}
    rows: list[ParsedRow] = []
    for number, record in enumerate(records[header_row:], start=header_row + 1):
        if not any(c.strip() for c in record):
            continue
        bad: list[Problem] = []

        def cell(fld: str, record: list[str] = record) -> str:
            i = columns.get(fld)
            return record[i].strip() if i is not None and i < len(record) else ""

        def problem(fld: str, message: str, expected: str | None = None,
                    number: int = number, bad: list[Problem] = bad) -> None:
            bad.append(Problem(message, file=name,
                               location=f"row {number}, column {headers.get(fld, fld)}",
                               expected=expected))

        device = cell("device")
        if not device:
            problem("device", "no device", "the device's code or name")
        elif len(device) > MAX_NAME_CHARS:
            problem("device", f"{_shown(device)} is longer than {MAX_NAME_CHARS} characters",
                    "the device's code or name")
        month = _parse_month(cell("production_month")) \
            if len(cell("production_month")) <= MAX_NAME_CHARS else None
        if month is None:
            problem("production_month", f"{_shown(cell('production_month'))} is not a month",
                    "a month such as 2025-06, 2025/06, 202506 or 2025年6月")
        start = _split_serial(cell("serial_start"), rx)
        end_cell = cell("serial_end")
        end = _split_serial(end_cell, rx) if end_cell else start
        serials: SerialRange | None = None
        if isinstance(start, str):
            problem("serial_start", f"serial {start}", "a GEC serial")
        elif isinstance(end, str):
            problem("serial_end", f"serial {end}", "a GEC serial")
        elif len(start[0]) > MAX_PREFIX_CHARS or len(start[2]) > MAX_SUFFIX_CHARS:
            problem("serial_start", f"serial {_shown(''.join(start))}: its prefix or suffix is "
                    f"longer than {MAX_PREFIX_CHARS} or {MAX_SUFFIX_CHARS} characters",
                    "a GEC serial")
        elif (start[0], start[2]) != (end[0], end[2]):
            problem("serial_end", f"serials {''.join(start)} and {''.join(end)} are not of one "
                    "series", "serials that differ only in their running number")
        else:
            lo, hi = int(start[1]), int(end[1])
            padded = start[1].startswith("0") or end[1].startswith("0")
            if padded and len(start[1]) != len(end[1]):
                problem("serial_end", f"serial numbers {start[1]} and {end[1]} differ in width",
                        "serials of one width")
            elif hi < lo:
                problem("serial_end", f"serial {''.join(end)} comes before "
                        f"{''.join(start)}", "the last serial of the range")
            else:
                digits = len(start[1]) if len(start[1]) == len(end[1]) else 0
                serials = SerialRange(start[0], start[2], lo, hi, digits)
        if cell("count"):
            count = _parse_int(cell("count"))
            if count is None or not 0 < count <= MAX_COUNT:
                problem("count", f"{_shown(cell('count'))} is not a whole positive number of "
                    f"GECs up to {MAX_COUNT:,}", "a whole number of certificates (1 GEC = 1 MWh)")
            elif serials is not None and count != serials.count:
                problem("count", f"{count} GECs, but the serials {serials} are "
                        f"{serials.count}", "the number of serials from first to last")
        status: str | None = mapping.defaults.status
        if cell("status"):
            status = status_values.get(_norm(cell("status"))) \
                or _STATUS_WORDS.get(_norm(cell("status")))
            if status is None:
                known = sorted(set(mapping.values.status) | set(GEC_STATUSES))
                problem("status", f"unknown status {_shown(cell('status'))}",
                        f"one of {', '.join(known)} (mapping [values.status])")
        elif status is None:
            problem("status", "no status", "a status (or defaults.status in the mapping)")
        tradable: bool | None = mapping.defaults.tradable
        if cell("tradable"):
            word = _norm(cell("tradable"))
            tradable = tradable_values[word] if word in tradable_values \
                else _BOOL_WORDS.get(word)
            if tradable is None:
                known = sorted(set(mapping.values.tradable) | {"true", "false"})
                problem("tradable", f"unknown GEC type {_shown(cell('tradable'))}",
                        f"one of {', '.join(known)} (mapping [values.tradable])")
        elif tradable is None and status == GEC_ISSUED:
            problem("tradable", "an issuance that does not say whether its GECs are tradable",
                    "a tradable column ([values.tradable]) or defaults.tradable")
        holder = cell("holder") or None
        beneficiary = cell("beneficiary") or None
        for fld, who in (("holder", holder), ("beneficiary", beneficiary)):
            if who is not None and len(who) > MAX_NAME_CHARS:
                problem(fld, f"{_shown(who)} is longer than {MAX_NAME_CHARS} characters",
                        "a holder's or beneficiary's name")
        if status == GEC_TRANSFERRED and holder is None:
            problem("holder", "a transfer without the holder it went to",
                    "the receiving holder")
        if status == GEC_CANCELLED and beneficiary is None:
            problem("beneficiary", "a cancellation without its beneficiary",
                    "the beneficiary the GECs were used for")
        if bad:
            problems.extend(bad)
            continue
        assert serials is not None and month is not None and status is not None
        rows.append(ParsedRow(number, to_device.get(_norm(device), device), month,
                              replace(serials, tradable=bool(tradable)), status, tradable,
                              holder, beneficiary))
    if not rows and not problems:
        problems.append(Problem("no GEC records in the file", file=name,
                                location=f"row {header_row + 1}",
                                expected="rows below the header"))
    return ParsedFile(name, sha, headers, tuple(rows), tuple(problems))


def _refuse(problems: list[Problem]) -> None:
    if len(problems) > MAX_PROBLEMS:
        extra = len(problems) - MAX_PROBLEMS
        problems = [*problems[:MAX_PROBLEMS], Problem(f"… and {extra} more problems")]
    raise InputError(problems)
