"""CBAM liability per shipment and year of the phase-in: certificates due and their cost.

Per good (Reg 2023/956 Art 7, 21, 22, 31 and Art 9 as replaced by Reg 2025/2083; IR 2025/2620;
IR 2025/2621 as corrected by IR 2026/1740)::

    embedded   = M × (SEE_dir + SEE_ind,counted)                 actual data
               = M × round3((D_dir + D_ind,counted) × (1 + markup_y))  default values
    FAA        = M × CBAM_y × CSCF_y × BM_g      (BM column A with actual data, B with defaults;
                                                  0 for electricity)
    deduction  = M × SEE_dir × min(1, P_paid / P_CBAM)            only with actual data
    certificates = max(0, embedded − FAA − deduction)
    cost       = certificates × P_CBAM

``CBAM_y`` is the share of free allocation kept (``data/cbam/phase_in.csv``). An importer whose
net mass of CBAM goods (electricity and hydrogen excepted) in a calendar year does not exceed
50 t owes nothing that year (Art 2a, Annex VII). Mark-up rounding to 3 decimals reproduces the
published "with mark-up" columns (e.g. 1.210 → 1.331). The floor at zero per good is an
inference, not a quoted rule (cbam.md §3.1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from greenlink.carbon.cbam_data import (
    benchmark,
    cbam_factor,
    default_value,
    markup,
    parameter,
    parameters,
    phase_in_years,
)
from greenlink.carbon.cbam_goods import classify, normalise_cn_code
from greenlink.carbon.embedded import round_half_up
from greenlink.economics.money import money_float, money_total
from greenlink.errors import InputError, Problem

NEVER_DE_MINIMIS = ("electricity", "hydrogen")
#: EUR amounts of a liability table: per line rounded half-up to the cent (economics.money)
MONEY_COLUMNS = ("cost_grid_eur", "cost_dc_eur", "cost_default_eur", "saving_eur")


def certificates_due(embedded_t: float, faa_t: float, deduction_t: float) -> float:
    """``max(0, embedded − FAA − deduction)``, t CO2e (= certificates)."""
    return max(0.0, embedded_t - faa_t - deduction_t)


def free_allocation_adjustment_t(mass_t: float, year: int, benchmark_t_per_t: float,
                                 cscf: float = 1.0, sector: str | None = None) -> float:
    """``FAA = M × CBAM_y × CSCF × BM`` (IR 2025/2620 Eq 1–3); 0 for electricity."""
    if sector == "electricity":
        return 0.0
    return mass_t * cbam_factor(year) * cscf * benchmark_t_per_t


def carbon_price_deduction_t(direct_embedded_t: float, paid_eur_per_t: float,
                             cbam_price_eur_per_t: float) -> float:
    """Certificates saved by a carbon price effectively paid abroad on the direct emissions.

    ``direct × min(1, max(0, paid / P_CBAM))``; only allowed with actual emissions
    (Art 9(1) as replaced by 2025/2083). The conversion act under Art 9(5) is a draft, so this
    is the plain ratio.
    """
    if cbam_price_eur_per_t <= 0:
        return 0.0
    ratio = min(1.0, max(0.0, paid_eur_per_t / cbam_price_eur_per_t))
    return direct_embedded_t * ratio


@dataclass(frozen=True)
class DefaultWithMarkup:
    """A default value with the year's mark-up, t CO2e/t."""

    cn_code: str
    country: str
    year: int
    base_t_per_t: float
    markup: float
    value_t_per_t: float
    source: str
    unverified: bool
    route: str = ""


def default_with_markup(cn_code: str, year: int, country: str = "CN") -> DefaultWithMarkup:
    """Default SEE counted for CBAM, with the mark-up of ``year``, rounded to 3 decimals.

    The published total (direct + indirect) for goods whose indirect emissions count, the direct
    value for Annex II goods; the mark-up applies to that value (IR 2025/2621 Annex I as
    replaced by IR 2026/1740).
    """
    good = classify(cn_code, year)
    if not good.is_cbam_good or good.sector is None:
        raise InputError(Problem(f"CN {cn_code} is not a CBAM good in CN {good.cn_year}"
                                 + (f" ({good.note})" if good.note else ""),
                                 location="cn_code",
                                 expected="a code of the Commission's CBAM list"))
    dv = default_value(good.cn_code, country)
    base = dv.total_t_per_t if good.indirect_emissions_counted else dv.direct_t_per_t
    m = markup(good.sector, year)
    return DefaultWithMarkup(cn_code=good.cn_code, country=dv.country, year=year,
                             base_t_per_t=base, markup=m,
                             value_t_per_t=round_half_up(base * (1.0 + m), 3),
                             source=dv.source + (f" ({dv.fallback})" if dv.fallback else ""),
                             unverified=dv.unverified, route=dv.route)


@dataclass(frozen=True)
class PriceAssumptions:
    """Prices used: CBAM certificate price per year (EUR/t) and carbon price paid in China."""

    cbam_price_eur_per_t: dict[int, float]
    paid_eur_per_t: float
    cscf: float
    notes: tuple[str, ...]


def price_assumptions(cbam_price_eur_per_t: float | None = None,
                      paid_eur_per_t: float | None = None,
                      cscf: float | None = None) -> PriceAssumptions:
    """Default assumptions, each flagged: Q1 2026 price for every year unless given, China's
    ETS price × the share effectively paid (0 unless documented) × EUR/CNY, CSCF 1.0."""
    notes: list[str] = []
    pars = parameters()
    if cbam_price_eur_per_t is None:
        cbam_price_eur_per_t = parameter("cbam_price_q1_2026_eur_per_t")
        notes.append(f"CBAM price {cbam_price_eur_per_t:g} EUR/t (Q1 2026, "
                     f"{pars['cbam_price_q1_2026_eur_per_t'].source}) assumed for every year")
    if paid_eur_per_t is None:
        paid_eur_per_t = (parameter("cn_ets_price_cny_per_t")
                          * parameter("cn_ets_effectively_paid_share") * parameter("eur_per_cny"))
        notes.append("carbon price paid in China: CEA price × share effectively paid "
                     f"({parameter('cn_ets_effectively_paid_share'):g}, UNVERIFIED parameter) × "
                     f"EUR/CNY {parameter('eur_per_cny'):g} (UNVERIFIED) = "
                     f"{paid_eur_per_t:.2f} EUR/t")
    if cscf is None:
        cscf = parameter("cscf_default")
        notes.append(f"cross-sectoral correction factor {cscf:g} (UNVERIFIED parameter)")
    return PriceAssumptions({y: float(cbam_price_eur_per_t) for y in phase_in_years()},
                            float(paid_eur_per_t), float(cscf), tuple(notes))


#: Net mass of CBAM goods per (importer, calendar year) [t], electricity and hydrogen left out.
ImporterMass = dict[tuple[str, int], float]


def importer_masses(shipments: pd.DataFrame) -> ImporterMass:
    """Net mass per importer and calendar year of import (Reg 2025/2083 Art 2a: cumulated over
    all CBAM goods of the importer that year), electricity and hydrogen not counted (Art 2a(4)).

    ``shipments`` needs ``importer, year, tonnes, cn_code``; pass every shipment of the
    scenario (all installations), not one installation's, so an importer buying from several
    installations is judged on its whole mass.
    """
    if shipments.empty:
        return {}
    codes = shipments["cn_code"].astype(str).map(normalise_cn_code)
    years = shipments["year"].astype(int)
    sector = [classify(c, y).sector for c, y in zip(codes, years, strict=True)]
    counted = ~pd.Series(sector, index=shipments.index).isin(NEVER_DE_MINIMIS)
    mass = shipments["tonnes"].astype(float).where(counted, 0.0).groupby(
        [shipments["importer"].astype(str), years]).sum()
    return {(str(key[0]), int(key[1])): float(t)  # type: ignore[index]
            for key, t in mass.items()}


def projected_masses(masses: ImporterMass, years: tuple[int, ...]) -> ImporterMass:
    """Each importer's mass per year of data, projected onto ``years`` (the exposure map
    projects every shipment onto every phase-in year): the mean over its years of data."""
    per: dict[str, list[float]] = {}
    for (imp, _year), t in masses.items():
        per.setdefault(imp, []).append(t)
    return {(imp, y): sum(v) / len(v) for imp, v in per.items() for y in years}


def de_minimis_exempt(shipments: pd.DataFrame,
                      masses: ImporterMass | None = None) -> pd.Series:
    """Whether each shipment's importer is under the 50 t threshold in that calendar year.

    ``shipments`` needs ``importer, year, tonnes, sector``; electricity and hydrogen never
    count as exempt (Art 2a(4)) and do not count towards the mass. ``masses``: the importer's
    mass per year over every shipment of the scenario (:func:`importer_masses`); default: the
    shipments given here only.
    """
    threshold = parameter("de_minimis_threshold_t")
    counted = ~shipments["sector"].isin(NEVER_DE_MINIMIS)
    own = shipments["tonnes"].where(counted, 0.0).groupby(
        [shipments["importer"], shipments["year"]]).transform("sum")
    if masses is not None:
        keys = zip(shipments["importer"].astype(str), shipments["year"].astype(int),
                   strict=True)
        whole = pd.Series([masses.get(k, np.nan) for k in keys], index=shipments.index)
        own = pd.Series(np.maximum(whole.fillna(own), own),  # the scenario's mass includes
                        index=shipments.index)         # these shipments
    return (own <= threshold) & counted


def shipment_liability(shipments: pd.DataFrame, *, years: tuple[int, ...] | None = None,
                       country: str = "CN", prices: PriceAssumptions | None = None,
                       benchmark_route: str = "",
                       importer_mass: ImporterMass | None = None) -> pd.DataFrame:
    """Certificates and cost per shipment and year: grid-only, with direct connection, default.

    Parameters
    ----------
    shipments : DataFrame
        From :func:`greenlink.carbon.batches.shipment_footprints`: ``shipment_id, customer, sku,
        cn_code, tonnes, year, importer, see_direct_t_per_t, see_counted_grid_t_per_t,
        see_counted_dc_t_per_t``.
    years : tuple of int, optional
        Project each shipment onto these years (exposure: ``phase_in_years()``); default: its
        own year.
    country : str
        Country of production (default values).
    prices : PriceAssumptions, optional
    importer_mass : mapping (importer, year) → t, optional
        Each importer's net mass per year over every shipment of the scenario
        (:func:`importer_masses`; projected with :func:`projected_masses` for ``years``): the
        de-minimis threshold is judged on it. Default: these shipments only.

    Returns
    -------
    DataFrame
        One row per shipment and year with ``embedded_*_t``, ``faa_*_t``, ``deduction_*_t``,
        ``certificates_grid``, ``certificates_dc``, ``certificates_default``, ``cost_*_eur``,
        ``saving_eur`` (grid − dc), ``de_minimis`` and the factors used.
    """
    prices = prices or price_assumptions()
    base = shipments.copy()
    if years is not None:
        base = base.drop(columns=["year"]).merge(pd.DataFrame({"year": list(years)}),
                                                 how="cross")
    codes = base["cn_code"].astype(str).map(normalise_cn_code)
    base["cn_code"] = codes
    pairs = list(zip(codes, base["year"].astype(int), strict=True))
    info = {key: classify(key[0], key[1]) for key in set(pairs)}  # CN year = year of import
    base["sector"] = [info[k].sector for k in pairs]
    if base["sector"].isna().any():
        cn, year = pairs[int(np.flatnonzero(base["sector"].isna().to_numpy())[0])]
        good = info[(cn, year)]
        raise InputError(Problem(f"CN {cn} is not a CBAM good in CN {good.cn_year} (import "
                                 f"year {year})" + (f": {good.note}" if good.note else ""),
                                 location="cn_code",
                                 expected="codes of the Commission's CBAM list of the year of "
                                          "import"))
    keys = base[["cn_code", "year"]].drop_duplicates()
    factors = []
    for cn, year in keys.itertuples(index=False):
        sector = info[(cn, int(year))].sector
        try:
            dv: DefaultWithMarkup | None = default_with_markup(cn, int(year), country)
        except InputError:
            dv = None
        bm_a = benchmark(cn, "A", benchmark_route)
        bm_b = benchmark(cn, "B", benchmark_route or (dv.route if dv else ""))
        factors.append({
            "cn_code": cn, "year": year, "cbam_factor": cbam_factor(int(year)),
            "bm_a": bm_a.benchmark_t_per_t if bm_a else np.nan,
            "bm_b": bm_b.benchmark_t_per_t if bm_b else np.nan,
            "default_t_per_t": dv.value_t_per_t if dv else np.nan,
            "markup": dv.markup if dv else np.nan,
            "electricity": sector == "electricity",
            "price": prices.cbam_price_eur_per_t.get(int(year),
                                                     prices.cbam_price_eur_per_t[
                                                         phase_in_years()[-1]]),
            "factor_notes": "; ".join(filter(None, [
                "" if bm_a else "no column-A benchmark shipped: FAA not deducted (conservative)",
                "default value UNVERIFIED parameter" if dv and dv.unverified else "",
                "" if dv else "no default value shipped"])),
        })
    f = pd.DataFrame(factors)
    out = base.merge(f, on=["cn_code", "year"], how="left")
    m = out["tonnes"].to_numpy(dtype=float)
    k = out["cbam_factor"].to_numpy(dtype=float) * prices.cscf
    no_fa = out["electricity"].to_numpy(dtype=bool)
    if "benchmark_a_t_per_t" in out.columns:  # complex goods: BM_A + Σ m_i × BM_i per tonne
        out["bm_a"] = out["benchmark_a_t_per_t"]
    faa_a = np.where(no_fa, 0.0, m * k * np.nan_to_num(out["bm_a"].to_numpy(dtype=float)))
    faa_b = np.where(no_fa, 0.0, m * k * np.nan_to_num(out["bm_b"].to_numpy(dtype=float)))
    price = out["price"].to_numpy(dtype=float)
    ratio = np.clip(prices.paid_eur_per_t / price, 0.0, 1.0)
    ded = m * out["see_direct_t_per_t"].to_numpy(dtype=float) * ratio
    out["embedded_grid_t"] = m * out["see_counted_grid_t_per_t"].to_numpy(dtype=float)
    out["embedded_dc_t"] = m * out["see_counted_dc_t_per_t"].to_numpy(dtype=float)
    out["embedded_default_t"] = m * out["default_t_per_t"].to_numpy(dtype=float)
    out["faa_actual_t"] = faa_a
    out["faa_default_t"] = faa_b
    out["deduction_t"] = ded
    exempt = de_minimis_exempt(out, importer_mass).to_numpy(dtype=bool)
    out["de_minimis"] = exempt
    for name, emb, faa, dd in (("grid", out["embedded_grid_t"], faa_a, ded),
                               ("dc", out["embedded_dc_t"], faa_a, ded),
                               ("default", out["embedded_default_t"], faa_b, 0.0)):
        cert = np.maximum(0.0, emb.to_numpy(dtype=float) - faa - dd)
        cert = np.where(exempt, 0.0, cert)
        out[f"certificates_{name}"] = cert
        out[f"cost_{name}_eur"] = [money_float(c) for c in cert * price]  # one rounding a line
    out["saving_eur"] = [money_float(g - d) for g, d in  # a difference of cents, in cents
                         zip(out["cost_grid_eur"], out["cost_dc_eur"], strict=True)]
    return out


def annual_summary(liability: pd.DataFrame) -> pd.DataFrame:
    """Certificates and cost per year; certificates of the period to full tonnes (A.1(6)); a
    year's cost is the sum of its shipments' costs, each rounded to the cent."""
    cols = ["certificates_grid", "certificates_dc", "certificates_default",
            "cost_grid_eur", "cost_dc_eur", "cost_default_eur", "saving_eur", "tonnes"]
    table = liability.groupby("year")[cols].sum()
    for c in MONEY_COLUMNS:
        table[c] = liability.groupby("year")[c].agg(money_total)
    for c in cols[:3]:
        table[c] = table[c].map(lambda v: round_half_up(v, 0))
    return table.reset_index()
