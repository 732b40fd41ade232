"""Which goods CBAM covers, their sector, and whether indirect emissions count.

The Commission's CN list (data/cbam/cn_codes.csv) decides whether a code is a CBAM good; prefix
rules from Regulation (EU) 2023/956 Annex I/II, as amended by 2025/2083 (data/cbam/annex_rules.csv),
give the sector and the Annex II "direct emissions only" status. See data/cbam/SOURCES.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from greenlink.errors import InputError, Problem

SECTORS = ("cement", "electricity", "fertilisers", "iron_steel", "aluminium", "hydrogen")
CN_LIST_SOURCE = ("European Commission, CBAM communication template for installations, "
                  "13 Dec 2024, sheet Parameters_CNCodes (CN 2024)")
_CN_RE = re.compile(r"\d{8}")


@dataclass(frozen=True)
class CbamGood:
    """CBAM status of one CN code.

    Attributes
    ----------
    cn_code : str
        The code, 8 digits without spaces.
    is_cbam_good : bool
        The code is in the Commission's CN list of CBAM goods.
    sector : str | None
        ``cement``, ``electricity``, ``fertilisers``, ``iron_steel``, ``aluminium`` or
        ``hydrogen``; ``None`` for other goods.
    goods_category : str | None
        The Commission template's aggregated goods category (e.g. ``"Aluminium products"``).
    indirect_emissions_counted : bool
        CBAM counts indirect (electricity) emissions for this good: ``False`` for Annex II goods
        (direct emissions only) and for goods outside CBAM.
    description : str | None
        CN description from the Commission list.
    source : str
        The list and legal rule the answer rests on.
    note : str | None
        Caveat, e.g. an ``ex`` code, or a code missing from the CN 2024 list but under an
        Annex I heading.
    """

    cn_code: str
    is_cbam_good: bool
    sector: str | None
    goods_category: str | None
    indirect_emissions_counted: bool
    description: str | None
    source: str
    note: str | None = None


@lru_cache(maxsize=1)
def cn_list() -> pd.DataFrame:
    """The Commission's list of CBAM CN codes, indexed by 8-digit ``cn_code``.

    Returns
    -------
    pandas.DataFrame
        Columns ``cn_display, description, goods_category``; 569 rows.
    """
    path = resources.files("greenlink").joinpath("data/cbam/cn_codes.csv")
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return table.set_index("cn_code")


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


def normalise_cn_code(cn_code: str, location: str = "cn_code", file: str | None = None) -> str:
    """Return the 8-digit form of a CN code written with or without spaces or dots.

    Parameters
    ----------
    cn_code : str
        E.g. ``"7604 29 10"``, ``"7604.29.10"`` or ``"76042910"``.
    location, file : str, optional
        Where the code came from, for the error message.

    Raises
    ------
    InputError
        The code is not exactly 8 digits.
    """
    digits = re.sub(r"[ .\u00a0]", "", str(cn_code).strip())
    if not _CN_RE.fullmatch(digits):
        raise InputError(Problem(f"malformed CN code {cn_code!r}", file=file, location=location,
                                 expected="an 8-digit Combined Nomenclature code such as "
                                          "'7604 29 10' or '76042910'"))
    return digits


@lru_cache(maxsize=1)
def _rule_records() -> tuple[dict[str, object], ...]:
    return tuple({str(k): v for k, v in rec.items()} for rec in annex_rules().to_dict("records"))


def _rule_for(code: str) -> dict[str, object] | None:
    for rule in _rule_records():
        if code.startswith(str(rule["cn_prefix"])):
            return rule
    return None


def classify(cn_code: str) -> CbamGood:
    """CBAM status of a CN code.

    Parameters
    ----------
    cn_code : str
        8-digit CN code; spaces or dots between groups are allowed (``"7604 29 10"``).

    Returns
    -------
    CbamGood
        ``is_cbam_good`` is ``False`` for a well-formed code that is not in the Commission's list.

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
    """
    code = normalise_cn_code(cn_code)
    rule = _rule_for(code)
    listed = cn_list()
    if code not in listed.index:
        note = None
        if rule is not None and bool(rule["in_annex_i"]):
            note = (f"not in the Commission's CN 2024 list, but under Annex I heading "
                    f"{rule['cn_prefix']} ({rule['sector']}); the CN nomenclature may have "
                    "changed since 2024: check the CN year in force")
        return CbamGood(cn_code=code, is_cbam_good=False, sector=None, goods_category=None,
                        indirect_emissions_counted=False, description=None,
                        source=f"not in the list: {CN_LIST_SOURCE}", note=note)
    entry = listed.loc[code]
    if rule is None or not bool(rule["in_annex_i"]):  # guarded by the data tests
        raise InputError(Problem(f"no Annex I rule covers listed CN code {code}",
                                 file="data/cbam/annex_rules.csv",
                                 expected="a prefix rule for every code in cn_codes.csv"))
    return CbamGood(
        cn_code=code, is_cbam_good=True, sector=str(rule["sector"]),
        goods_category=str(entry["goods_category"]),
        indirect_emissions_counted=bool(rule["indirect_emissions_counted"]),
        description=str(entry["description"]),
        source=f"{CN_LIST_SOURCE}; {rule['legal_source']} [{rule['confidence']}]",
        note=str(rule["note"]) or None)
