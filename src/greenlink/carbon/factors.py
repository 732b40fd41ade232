"""Grid electricity emission factors shipped as data (see data/carbon/SOURCES.md).

China: MEE/NBS national, regional-grid and provincial factors (three bases). EU CBAM: the default
factors of Implementing Regulation (EU) 2025/2621 Annex II that could be verified.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import pandas as pd

from greenlink.errors import InputError, Problem

_FILE = "data/carbon/emission_factors.csv"
CHINA_BASES = ("location_average", "excl_market_nonfossil", "fossil_only")
_PROVINCE_RE = re.compile(r"CN-[A-Z]{2}")


@dataclass(frozen=True)
class EmissionFactor:
    """One electricity emission factor and where it comes from.

    Attributes
    ----------
    factor_id : str
        Row id in ``emission_factors.csv``.
    ef_t_per_mwh : float
        The factor, t CO2 per MWh consumed.
    region_kind, region : str
        ``national``/``CN``, ``regional``/grid id, ``provincial``/``CN-XX`` or ``cbam_default``/key.
    year : int
        Data year of the factor (for CBAM defaults: first year of application).
    basis : str
        ``location_average``, ``excl_market_nonfossil``, ``fossil_only`` or ``cbam_default``.
    publisher, document, url, published, confidence, note : str
        Provenance as in the data file (``url`` may be empty).
    requested_region : str | None
        What the caller asked for (``None``: national).
    requested_year : int | None
        Year asked for (``None``: latest available).
    fallback : str | None
        Why the factor differs from the request (other region or earlier year); ``None`` if exact.
    """

    factor_id: str
    ef_t_per_mwh: float
    region_kind: str
    region: str
    year: int
    basis: str
    publisher: str
    document: str
    url: str
    published: str
    confidence: str
    note: str
    requested_region: str | None = None
    requested_year: int | None = None
    fallback: str | None = None

    @property
    def source(self) -> str:
        """One-line citation: publisher, document, publication date and confidence."""
        text = f"{self.publisher}: {self.document} ({self.published}; confidence {self.confidence})"
        if self.fallback:
            text += f" [{self.fallback}]"
        return text


@lru_cache(maxsize=1)
def _table() -> pd.DataFrame:
    path = resources.files("greenlink").joinpath(_FILE)
    with path.open("r", encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    table["year"] = table["year"].astype(int)
    table["ef_t_per_mwh"] = table["ef_t_per_mwh"].astype(float)
    return table


def list_factors() -> pd.DataFrame:
    """All shipped emission factors, one row per factor (a copy; columns as in the data file).

    Returns
    -------
    pandas.DataFrame
        Columns ``factor_id, region_kind, region, year, ef_t_per_mwh, basis, publisher, document,
        url, confidence, published, note``.
    """
    return _table().copy()


def _row_to_factor(row: pd.Series, requested_region: str | None, requested_year: int | None,
                   fallback: str | None) -> EmissionFactor:
    return EmissionFactor(
        factor_id=str(row["factor_id"]), ef_t_per_mwh=float(row["ef_t_per_mwh"]),
        region_kind=str(row["region_kind"]), region=str(row["region"]), year=int(row["year"]),
        basis=str(row["basis"]), publisher=str(row["publisher"]), document=str(row["document"]),
        url=str(row["url"]), published=str(row["published"]), confidence=str(row["confidence"]),
        note=str(row["note"]), requested_region=requested_region, requested_year=requested_year,
        fallback=fallback)


def _latest(rows: pd.DataFrame, year: int | None) -> pd.Series | None:
    if year is not None:
        rows = rows[rows["year"] <= year]
    if rows.empty:
        return None
    return rows.sort_values("year").iloc[-1]


def grid_factor(province: str | None = None, year: int | None = None,
                basis: str = "location_average", *,
                grid_region: str | None = None) -> EmissionFactor:
    """China grid emission factor for a province (or regional grid, or the nation) and year.

    Takes the latest data year not after ``year`` for the province; where the province (or the
    basis, or a year that early) is not shipped, falls back to the national factor and says so in
    ``EmissionFactor.fallback``. Only national factors exist for the ``excl_market_nonfossil`` and
    ``fossil_only`` bases.

    Parameters
    ----------
    province : str, optional
        ISO 3166-2 code such as ``"CN-JS"`` (``"JS"`` and lower case are accepted). ``None`` or
        ``"CN"``: national.
    year : int, optional
        Data year wanted; ``None`` takes the latest published.
    basis : str
        ``"location_average"`` (default), ``"excl_market_nonfossil"`` or ``"fossil_only"``.
    grid_region : str, optional
        A regional grid id instead of a province (``"east_china"``, ``"south_china"``, ...).

    Returns
    -------
    EmissionFactor

    Raises
    ------
    InputError
        Unknown basis, malformed province code, unknown grid region, both ``province`` and
        ``grid_region`` given, or no factor published for ``year`` or earlier.

    Notes
    -----
    For the EU CBAM default factors use :func:`cbam_default_factor`.
    """
    table = _table()
    if basis not in CHINA_BASES:
        raise InputError(Problem(f"unknown emission-factor basis {basis!r}", location="basis",
                                 expected="one of " + ", ".join(CHINA_BASES)
                                 + " (CBAM defaults: cbam_default_factor())"))
    if province is not None and grid_region is not None:
        raise InputError(Problem("give either a province or a grid region, not both",
                                 location="province"))
    rows = table[table["basis"] == basis]
    national = rows[rows["region_kind"] == "national"]

    requested: str | None = None
    reason = ""
    local = rows.iloc[0:0]
    if grid_region is not None:
        regions = sorted(set(table.loc[table["region_kind"] == "regional", "region"]))
        if grid_region not in regions:
            raise InputError(Problem(f"unknown grid region {grid_region!r}", location="grid_region",
                                     expected="one of " + ", ".join(regions)))
        requested = grid_region
        local = rows[(rows["region_kind"] == "regional") & (rows["region"] == grid_region)]
    elif province is not None and province.strip().upper() != "CN":
        code = province.strip().upper()
        if len(code) == 2:
            code = "CN-" + code
        if not _PROVINCE_RE.fullmatch(code):
            raise InputError(Problem(f"malformed province code {province!r}", location="province",
                                     expected="an ISO 3166-2 code such as 'CN-JS'"))
        requested = code
        local = rows[(rows["region_kind"] == "provincial") & (rows["region"] == code)]

    if requested is not None:
        row = _latest(local, year)
        if row is not None:
            return _row_to_factor(row, requested, year, _year_note(int(row["year"]), year))
        reason = (f"no {basis} factor for {requested}" if local.empty
                  else f"no {basis} factor for {requested} for {year} or earlier")
    row = _latest(national, year)
    if row is None:
        years = sorted(set(national["year"]))
        raise InputError(Problem(f"no {basis} grid emission factor for {year} or earlier",
                                 location="year", expected=f"a year from {years[0]} on"))
    notes = [f"{reason}; national factor used"] if requested is not None else []
    year_note = _year_note(int(row["year"]), year)
    if year_note:
        notes.append(year_note)
    return _row_to_factor(row, requested, year, "; ".join(notes) or None)


def _year_note(found: int, wanted: int | None) -> str | None:
    if wanted is None or found == wanted:
        return None
    return f"no {wanted} factor shipped; latest earlier year {found} used"


def cbam_default_factor(country: str = "other_countries") -> EmissionFactor:
    """EU CBAM default emission factor of electricity (Implementing Regulation 2025/2621 Annex II).

    Parameters
    ----------
    country : str
        A shipped country key (``"AU"``, ``"BR"``) or ``"other_countries"`` (default).

    Returns
    -------
    EmissionFactor

    Raises
    ------
    InputError
        The country's default is not shipped. China's value was not verified and is deliberately
        absent: the "other countries" value is *not* China's default.
    """
    table = _table()
    rows = table[table["basis"] == "cbam_default"]
    hit = rows[rows["region"] == country]
    if hit.empty:
        raise InputError(Problem(
            f"the CBAM default electricity factor for {country!r} is not shipped (unverified); "
            "look it up in Implementing Regulation (EU) 2025/2621 Annex II and pass it explicitly",
            location="country", expected="one of " + ", ".join(sorted(rows["region"]))))
    return _row_to_factor(hit.sort_values("year").iloc[-1], country, None, None)
