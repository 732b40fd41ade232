"""Which goods CBAM covers, their sector, and whether indirect emissions count — by CN year.

The Commission's CN list (data/cbam/cn_codes.csv, CN 2024) decides whether a code is a CBAM good;
the Combined Nomenclature changes every 1 January, so the list is kept per nomenclature year
(data/cbam/cn_years.csv) with the correlation between years (data/cbam/cn_correlation.csv: from
CN 2025 urea 3102 10 10 became 3102 10 12/15/19). A lookup takes the year of the date of import
(the latest CN year shipped when none is given). Prefix rules from Regulation (EU) 2023/956
Annex I/II, as amended by 2025/2083 (data/cbam/annex_rules.csv), give the sector and the Annex II
"direct emissions only" status. See data/cbam/SOURCES.md.

Codes are read leniently: spaces of any kind and dots between the digit groups, full-width and
other Unicode decimal digits (``７６０４ ２１ ００``). A heading (4 digits) or subheading (6 digits)
expands to the CBAM codes beneath it (:func:`lookup`).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import pandas as pd

from greenlink.errors import GreenlinkError, InputError, Problem

SECTORS = ("cement", "electricity", "fertilisers", "iron_steel", "aluminium", "hydrogen")
CN_BASE_YEAR = 2024
CN_LIST_SOURCE = ("European Commission, CBAM communication template for installations, "
                  "13 Dec 2024, sheet Parameters_CNCodes (CN 2024)")
_CN_RE = re.compile(r"\d{8}")
_PREFIX_RE = re.compile(r"\d{4}|\d{6}|\d{8}")
_SEPARATORS = {".", "\u00b7"}
EXPECTED_CODE = ("an 8-digit Combined Nomenclature code such as '7604 29 10' or '76042910' "
                 "(spaces and dots allowed)")


@dataclass(frozen=True)
class CbamGood:
    """CBAM status of one CN code in one CN year.

    Attributes
    ----------
    cn_code : str
        The code, 8 digits without spaces.
    is_cbam_good : bool
        The code is in the Commission's CN list of CBAM goods for that CN year.
    sector : str | None
        ``cement``, ``electricity``, ``fertilisers``, ``iron_steel``, ``aluminium`` or
        ``hydrogen``; ``None`` for other goods.
    goods_category : str | None
        The Commission template's aggregated goods category (e.g. ``"Aluminium products"``).
    indirect_emissions_counted : bool
        CBAM counts indirect (electricity) emissions for this good: ``False`` for Annex II goods
        (direct emissions only) and for goods outside CBAM.
    description : str | None
        CN description.
    source : str
        The list and legal rule the answer rests on.
    note : str | None
        Caveat, e.g. an ``ex`` code, a code retired or introduced in another CN year (with its
        correlation), or a code missing from the list but under an Annex I heading.
    cn_year : int
        The CN year the answer is for (the year of the date of import).
    """

    cn_code: str
    is_cbam_good: bool
    sector: str | None
    goods_category: str | None
    indirect_emissions_counted: bool
    description: str | None
    source: str
    note: str | None = None
    cn_year: int = CN_BASE_YEAR


def _read(name: str) -> pd.DataFrame:
    path = resources.files("greenlink").joinpath(f"data/cbam/{name}")
    with path.open("r", encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def cn_list() -> pd.DataFrame:
    """The Commission's list of CBAM CN codes in its template (CN 2024), by 8-digit ``cn_code``.

    Returns
    -------
    pandas.DataFrame
        Columns ``cn_display, description, goods_category``; 569 rows. For another CN year use
        :func:`cn_codes`.
    """
    return _read("cn_codes.csv").set_index("cn_code")


@lru_cache(maxsize=1)
def cn_years() -> pd.DataFrame:
    """The CN years shipped, with the act that set each nomenclature and its confidence."""
    table = _read("cn_years.csv")
    table["year"] = table["year"].astype(int)
    return table.set_index("year").sort_index()


@lru_cache(maxsize=1)
def cn_correlation() -> pd.DataFrame:
    """Codes retired and their successors: ``year`` (first year of the new code), ``old_code``,
    ``new_code``, ``description``, ``goods_category``, ``legal_source``, ``confidence``."""
    table = _read("cn_correlation.csv")
    table["year"] = table["year"].astype(int)
    return table


def shipped_cn_years() -> tuple[int, ...]:
    """The CN years greenlink ships a list for (2024 … 2026)."""
    return tuple(int(y) for y in cn_years().index)


def cn_year(when: int | dt.date | None = None) -> tuple[int, str | None]:
    """The CN year for a year or a date of import, and a note when it is not shipped.

    ``None``: the latest CN year shipped. A year before the first (after the last) shipped
    takes the first (last) and says so.
    """
    years = shipped_cn_years()
    if when is None:
        return years[-1], None
    year = when.year if isinstance(when, dt.date) else int(when)
    if year < years[0]:
        return years[0], f"CN {year} not shipped; CN {years[0]} used"
    if year > years[-1]:
        return years[-1], f"CN {year} not shipped; CN {years[-1]} (the latest) used"
    return year, None


@lru_cache(maxsize=16)
def cn_codes(year: int) -> pd.DataFrame:
    """The CBAM CN codes of a CN year: the CN 2024 list with every later change applied.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``cn_code``; columns ``cn_display, description, goods_category, since``
        (``since``: the CN year the code first appears in the list, 2024 for the base list).
    """
    year, _ = cn_year(year)
    table = cn_list().copy()
    table["since"] = CN_BASE_YEAR
    changes = cn_correlation()
    for y in sorted(set(changes["year"])):
        if y > year:
            break
        rows = changes[changes["year"] == y]
        table = table.drop(index=[c for c in set(rows["old_code"]) if c in table.index])
        new = pd.DataFrame({
            "cn_display": [f"{c[:4]} {c[4:6]} {c[6:]}" for c in rows["new_code"]],
            "description": list(rows["description"]),
            "goods_category": list(rows["goods_category"]), "since": y},
            index=pd.Index(list(rows["new_code"]), name="cn_code"))
        table = pd.concat([table, new])
    return table.sort_index()


@lru_cache(maxsize=1)
def annex_rules() -> pd.DataFrame:
    """Prefix rules: CN prefix → Annex I scope, sector, indirect emissions counted, legal source.

    Returns
    -------
    pandas.DataFrame
        Columns ``rule_id, cn_prefix, in_annex_i (bool), sector, indirect_emissions_counted
        (bool, False where out of scope), legal_source, confidence, note``; longest prefix first.
    """
    path = resources.files("greenlink").joinpath("data/cbam/annex_rules.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    table["in_annex_i"] = table["in_annex_i"] == "true"
    table["indirect_emissions_counted"] = table["indirect_emissions_counted"] == "true"
    order = table["cn_prefix"].str.len().sort_values(ascending=False, kind="stable").index
    return table.loc[order].reset_index(drop=True)


def cn_digits(text: str) -> str:
    """The digits of a CN code as typed: NFKC (full-width forms), every Unicode decimal digit
    as ASCII, spaces of any kind and dots between groups removed. Other characters are kept
    (the caller rejects them)."""
    out = []
    for ch in unicodedata.normalize("NFKC", str(text)).strip():
        if ch.isspace() or ch in _SEPARATORS:
            continue
        digit = unicodedata.decimal(ch, None)
        out.append(str(digit) if digit is not None else ch)
    return "".join(out)


def normalise_cn_code(cn_code: str, location: str = "cn_code", file: str | None = None) -> str:
    """Return the 8-digit form of a CN code written with or without spaces or dots.

    Parameters
    ----------
    cn_code : str
        E.g. ``"7604 29 10"``, ``"7604.29.10"``, ``"76042910"`` or ``"７６０４２９１０"``.
    location, file : str, optional
        Where the code came from, for the error message.

    Raises
    ------
    InputError
        The code is not exactly 8 digits.
    """
    digits = cn_digits(cn_code)
    if not _CN_RE.fullmatch(digits):
        raise InputError(Problem(f"malformed CN code {cn_code!r}", file=file, location=location,
                                 expected=EXPECTED_CODE))
    return digits


@lru_cache(maxsize=1)
def _rule_records() -> tuple[dict[str, object], ...]:
    return tuple({str(k): v for k, v in rec.items()} for rec in annex_rules().to_dict("records"))


def _rule_for(code: str) -> dict[str, object] | None:
    for rule in _rule_records():
        if code.startswith(str(rule["cn_prefix"])):
            return rule
    return None


def _year_source(year: int) -> str:
    if year == CN_BASE_YEAR:
        return CN_LIST_SOURCE
    row = cn_years().loc[year]
    return (f"{CN_LIST_SOURCE}, brought to CN {year}: {row['legal_source']} "
            f"[{row['confidence']}]")


def classify(cn_code: str, year: int | None = None, *, on: dt.date | None = None) -> CbamGood:
    """CBAM status of a CN code in the CN year of the import.

    Parameters
    ----------
    cn_code : str
        8-digit CN code; spaces or dots between groups and Unicode digits are allowed
        (``"7604 29 10"``).
    year : int, optional
        CN year (the year of the date of import). Default: the latest CN year shipped.
    on : date, optional
        The date of import instead of ``year``.

    Returns
    -------
    CbamGood
        ``is_cbam_good`` is ``False`` for a well-formed code that is not in that year's list;
        ``note`` then says whether it was retired (and by which codes) or introduced later.

    Raises
    ------
    InputError
        The code is not exactly 8 digits.

    Examples
    --------
    >>> classify("7604 29 10").indirect_emissions_counted
    False
    >>> classify("2523 29 00").sector
    'cement'
    >>> classify("3102 10 12", 2025).is_cbam_good, classify("3102 10 12", 2024).is_cbam_good
    (True, False)
    """
    code = normalise_cn_code(cn_code)
    used, year_note = cn_year(on if on is not None else year)
    rule = _rule_for(code)
    listed = cn_codes(used)
    if code not in listed.index:
        notes = [n for n in (year_note, _correlation_note(code, used)) if n]
        if not notes and rule is not None and bool(rule["in_annex_i"]):
            notes.append(f"not in the Commission's CN {used} list, but under Annex I heading "
                         f"{rule['cn_prefix']} ({rule['sector']}): check the CN code")
        return CbamGood(cn_code=code, is_cbam_good=False, sector=None, goods_category=None,
                        indirect_emissions_counted=False, description=None,
                        source=f"not in the list: {_year_source(used)}",
                        note="; ".join(notes) or None, cn_year=used)
    entry = listed.loc[code]
    if rule is None or not bool(rule["in_annex_i"]):  # guarded by the data tests
        raise InputError(Problem(f"no Annex I rule covers listed CN code {code}",
                                 file="data/cbam/annex_rules.csv",
                                 expected="a prefix rule for every code in cn_codes.csv"))
    notes = [n for n in (year_note, str(rule["note"]) or None) if n]
    since = int(str(entry["since"]))
    if since > CN_BASE_YEAR:
        old = cn_correlation()
        old = old[old["new_code"] == code]
        notes.append(f"CN {since} code, replacing "
                     + ", ".join(_spaced(c) for c in sorted(set(old["old_code"]))))
    return CbamGood(
        cn_code=code, is_cbam_good=True, sector=str(rule["sector"]),
        goods_category=str(entry["goods_category"]),
        indirect_emissions_counted=bool(rule["indirect_emissions_counted"]),
        description=str(entry["description"]),
        source=f"{_year_source(used)}; {rule['legal_source']} [{rule['confidence']}]",
        note="; ".join(notes) or None, cn_year=used)


def _spaced(code: str) -> str:
    return f"{code[:4]} {code[4:6]} {code[6:]}" if len(code) == 8 else code


def _correlation_note(code: str, year: int) -> str | None:
    """Why a code is not in CN ``year``: retired before (successors named) or introduced later
    (predecessor named)."""
    table = cn_correlation()
    retired = table[(table["old_code"] == code) & (table["year"] <= year)]
    if not retired.empty:
        first = int(retired["year"].min())
        succ = ", ".join(_spaced(c) for c in sorted(set(retired["new_code"])))
        return (f"not a code of CN {year}: retired in CN {first}, replaced by {succ} "
                f"({str(retired['legal_source'].iat[0]).split(';')[0]})")
    later = table[(table["new_code"] == code) & (table["year"] > year)]
    if not later.empty:
        first = int(later["year"].min())
        pred = ", ".join(_spaced(c) for c in sorted(set(later["old_code"])))
        return (f"a code of CN {first} (not of CN {year}); in CN {year} the good is under "
                f"{pred}")
    return None


@dataclass(frozen=True)
class GoodsAnswer:
    """The answer to one typed code: its goods (one, or every CBAM code under a heading or
    subheading), or the error that stops this code (and only this code)."""

    input: str
    goods: tuple[CbamGood, ...] = ()
    expanded_from: str | None = None
    error: Problem | None = None
    cn_year: int = CN_BASE_YEAR
    notes: tuple[str, ...] = field(default_factory=tuple)


def expand(prefix: str, year: int | None = None) -> tuple[CbamGood, ...]:
    """Every CBAM code of the CN year under a heading (4 digits) or subheading (6 digits)."""
    used, _ = cn_year(year)
    codes = [c for c in cn_codes(used).index if c.startswith(prefix)]
    return tuple(classify(c, used) for c in codes)


def lookup(text: str, year: int | None = None, *, on: dt.date | None = None) -> GoodsAnswer:
    """One typed code: an 8-digit code is classified; a 4-digit heading or a 6-digit
    subheading expands to the CBAM codes beneath it with their descriptions. A malformed code
    yields an answer with ``error`` set instead of raising."""
    used, year_note = cn_year(on if on is not None else year)
    notes = (year_note,) if year_note else ()
    digits = cn_digits(text)
    if not _PREFIX_RE.fullmatch(digits):
        return GoodsAnswer(input=str(text), cn_year=used, notes=notes, error=Problem(
            f"malformed CN code {text!r}", location=str(text),
            expected=EXPECTED_CODE + ", or a 4-digit heading / 6-digit subheading"))
    if len(digits) == 8:
        try:
            return GoodsAnswer(input=str(text), goods=(classify(digits, used),), cn_year=used,
                               notes=notes)
        except GreenlinkError as exc:
            return GoodsAnswer(input=str(text), cn_year=used, notes=notes,
                               error=exc.problems[0])
    goods = expand(digits, used)
    if not goods:
        rule = _rule_for(digits.ljust(8, "0"))
        hint = (f"no CBAM code of CN {used} lies under {_spaced(digits)}"
                + (f" (Annex I covers heading {rule['cn_prefix']} only in part)"
                   if rule is not None and bool(rule["in_annex_i"]) else ""))
        notes = (*notes, hint)
    return GoodsAnswer(input=str(text), goods=goods, expanded_from=digits, cn_year=used,
                       notes=notes)


def lookup_all(texts: Sequence[str], year: int | None = None, *,
               on: dt.date | None = None) -> list[GoodsAnswer]:
    """:func:`lookup` for each typed code: one bad code reports its error, the others answer."""
    return [lookup(t, year, on=on) for t in texts]
