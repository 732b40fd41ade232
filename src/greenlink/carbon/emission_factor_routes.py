"""Which electricity emission factor a process may use under CBAM, and why.

Routes (Reg 2023/956 Annex IV points 6; IR 2025/2547 Art 9 and Annex II D.4; template codes of
the Commission's communication template, sheet c_CodeLists):

* ``default`` — the grid factor: the Commission's country default (IR 2025/2621 Annex II,
  template ``D.4(a)``) or other publicly available data (``D.4(b)``), e.g. China's MEE factor.
* ``weighted_average`` — several sources (IR 2025/2547 Art 9(1)):
  ``EF = Σ EF_i × MWh_i / Σ MWh_i`` (template ``Mix``).
* ``actual_direct_link`` / ``actual_ppa`` — the process used only the linked source (Art 9(2);
  ``D.4.3.1`` / ``D.4.3.2``).

An actual factor is allowed only when the evidence of IR 2025/2547 Annex II D.4.3 holds: for a
direct technical link a single-line diagram (reference and hash), production and delivery meters
with measurement periods of at most one hour, and an off-take contract requiring delivery of at
least the amount claimed; for a PPA the contract, the meters and proof of a physical grid
connection. Otherwise the default route is used and the missing evidence is listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from greenlink.carbon.cbam_data import parameter
from greenlink.scenario.installations import ElectricityEvidence

ROUTE_CODES = {"direct_technical_link": "D.4.3.1", "ppa": "D.4.3.2"}
MIX_CODE = "Mix"


@dataclass(frozen=True)
class GridFactor:
    """Grid factor with its source; ``template_code`` is ``D.4(a)`` or ``D.4(b)``."""

    ef_t_per_mwh: float
    source: str
    template_code: str = "D.4(b)"


@dataclass(frozen=True)
class EfDecision:
    """The emission factor a process uses, the route, and the reasons.

    Attributes
    ----------
    route : str
        ``default``, ``weighted_average``, ``actual_direct_link`` or ``actual_ppa``.
    template_code : str
        Source code for the template (``D.4(a)``, ``D.4(b)``, ``D.4.3.1``, ``D.4.3.2``, ``Mix``).
    ef_t_per_mwh : float
        The factor, t CO2 per MWh: ``(green × ef_source + (total − green) × ef_grid) / total``.
    electricity_mwh, green_mwh_claimed : float
        Consumption and the part claimed from the linked source (0 on the default route).
    reason : str
        Why this route.
    missing_evidence : tuple[str, ...]
        What D.4.3 evidence is missing (empty when the actual route holds).
    warnings : tuple[str, ...]
        Caveats that do not change the route (e.g. simulated rather than metered flows).
    """

    route: str
    template_code: str
    ef_t_per_mwh: float
    grid_ef_t_per_mwh: float
    source_ef_t_per_mwh: float | None
    electricity_mwh: float
    green_mwh_claimed: float
    reason: str
    grid_source: str
    missing_evidence: tuple[str, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)


def missing_evidence(evidence: ElectricityEvidence) -> list[str]:
    """The D.4.3 evidence items missing for ``evidence`` (empty list: complete)."""
    max_min = parameter("actual_ef_matching_period_max_min")
    out: list[str] = []
    if evidence.meter_interval_minutes is None:
        out.append("meter data interval (production and delivery, at most 60 min)")
    elif evidence.meter_interval_minutes > max_min:
        out.append(f"meter interval {evidence.meter_interval_minutes} min is longer than "
                   f"{max_min:g} min (IR 2025/2547 Annex II D.4.3)")
    if not evidence.production_meter:
        out.append("smart meter of the production at the source (production_meter)")
    if not evidence.delivery_meter:
        out.append("smart meter of the delivery to the installation (delivery_meter)")
    if evidence.route == "direct_technical_link":
        if not evidence.single_line_diagram:
            out.append("single-line diagram reference showing the direct technical link")
        if not evidence.single_line_diagram_sha256:
            out.append("SHA-256 hash of the single-line diagram")
        if not evidence.offtake_contract:
            out.append("off-take contract (or intra-company agreement) between the operators")
    else:
        if not evidence.ppa_contract:
            out.append("PPA concluded directly between the installation and the producer")
        if not evidence.grid_connection_proof:
            out.append("documentation of a physical grid connection between producer and "
                       "installation (TSO, authority or other reliable public source)")
    return out


def decide_factor(electricity_mwh: float, green_mwh: float, grid: GridFactor,
                  evidence: Sequence[ElectricityEvidence] = (), *,
                  data_interval_minutes: float = 60.0, flows_metered: bool = False,
                  annex_ii_good: bool = False) -> EfDecision:
    """Choose the electricity emission factor for a process, batch or period.

    Parameters
    ----------
    electricity_mwh : float
        Electricity consumed, MWh.
    green_mwh : float
        Part of it matched to the linked source in the same measurement period (hourly or finer),
        MWh; at most ``electricity_mwh``.
    grid : GridFactor
        The grid factor (default route and the grid part of a mix).
    evidence : sequence of ElectricityEvidence
        Evidence for actual factors; the first complete one is used.
    data_interval_minutes : float
        Interval of the consumption/green data; more than 60 min rules out the actual route.
    flows_metered : bool
        ``False`` when the hourly flows are simulated: the route is computed but a warning says a
        verifier needs metered data.
    annex_ii_good : bool
        Adds the reminder that CBAM does not count indirect emissions for this good.

    Returns
    -------
    EfDecision
    """
    total = max(float(electricity_mwh), 0.0)
    green = min(max(float(green_mwh), 0.0), total)
    warnings: list[str] = []
    if annex_ii_good:
        warnings.append("Annex II good: CBAM counts direct emissions only (Reg 2023/956 Art 7(1));"
                        " the factor matters for Scope 2 and product footprints, not the CBAM bill")
    default = EfDecision(route="default", template_code=grid.template_code,
                         ef_t_per_mwh=grid.ef_t_per_mwh, grid_ef_t_per_mwh=grid.ef_t_per_mwh,
                         source_ef_t_per_mwh=None, electricity_mwh=total, green_mwh_claimed=0.0,
                         reason="", grid_source=grid.source)
    if not evidence:
        return _replace(default, reason="no evidence for an actual factor: grid factor used",
                        warnings=tuple(warnings))
    gaps: list[str] = []
    chosen: ElectricityEvidence | None = None
    for ev in evidence:
        missing = missing_evidence(ev)
        if data_interval_minutes > parameter("actual_ef_matching_period_max_min"):
            missing.append(f"consumption data interval {data_interval_minutes:g} min is longer "
                           "than one hour")
        if not missing:
            chosen = ev
            break
        gaps.extend(f"{ev.route} ({ev.source}): {m}" for m in missing)
    if chosen is None:
        return _replace(default, reason="evidence for an actual factor incomplete "
                                        "(IR 2025/2547 Annex II D.4.3): grid factor used",
                        missing_evidence=tuple(gaps), warnings=tuple(warnings))
    if not flows_metered:
        warnings.append("hourly green energy is simulated, not metered: a verifier needs the "
                        "metered data of the same hours")
    if chosen.offtake_contracted_mwh is not None and green > chosen.offtake_contracted_mwh:
        warnings.append(f"claim capped at the {chosen.offtake_contracted_mwh:g} MWh the contract "
                        f"requires to be delivered (matched: {green:g} MWh)")
        green = chosen.offtake_contracted_mwh
    if total <= 0.0:
        return _replace(default, reason="no electricity consumed", warnings=tuple(warnings))
    src = chosen.ef_t_per_mwh
    ef = (green * src + (total - green) * grid.ef_t_per_mwh) / total
    if green >= total:
        route = "actual_direct_link" if chosen.route == "direct_technical_link" else "actual_ppa"
        reason = (f"evidence complete and all {total:g} MWh matched hour by hour to "
                  f"{chosen.source}: single source (IR 2025/2547 Art 9(2))")
        code = ROUTE_CODES[chosen.route]
    else:
        route = "weighted_average"
        reason = (f"evidence complete; {green:g} of {total:g} MWh matched hour by hour to "
                  f"{chosen.source}, the rest from the grid: MWh-weighted average "
                  "(IR 2025/2547 Art 9(1))")
        code = MIX_CODE
    return EfDecision(route=route, template_code=code, ef_t_per_mwh=ef,
                      grid_ef_t_per_mwh=grid.ef_t_per_mwh, source_ef_t_per_mwh=src,
                      electricity_mwh=total, green_mwh_claimed=green, reason=reason,
                      grid_source=grid.source, warnings=tuple(warnings))


def _replace(d: EfDecision, **changes: object) -> EfDecision:
    from dataclasses import replace
    return replace(d, **changes)  # type: ignore[arg-type]
