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
    evidence_index : int | None
        Which ``electricity_evidence`` entry the route check accepted (``None``: none); every
        output (batches, packs, the template) uses this entry's factor and contract.
    contract : str
        The accepted entry's contract (:func:`contract_key`), ``""`` without one.
    contract_share_mwh : float | None
        What this process may claim of the contract once the contract's deliverable MWh are
        shared among every process that draws on it (:func:`share_contracts`); ``None`` when
        the contract states no amount.
    grid_template_code : str
        The grid factor's own code (``D.4(a)`` or ``D.4(b)``), also on the actual routes.
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
    evidence_index: int | None = None
    contract: str = ""
    contract_share_mwh: float | None = None
    grid_template_code: str = "D.4(b)"


def contract_key(evidence: ElectricityEvidence) -> str:
    """The contract an evidence entry claims under: its route and its off-take contract (direct
    link) or PPA reference; without a reference, its source. Two entries (of one installation or
    of several) naming the same contract share its deliverable MWh."""
    ref = evidence.offtake_contract if evidence.route == "direct_technical_link" \
        else evidence.ppa_contract
    return f"{evidence.route}:{ref or evidence.source}"


def accepted_evidence(evidence: Sequence[ElectricityEvidence],
                      data_interval_minutes: float = 60.0) -> tuple[int | None, list[str]]:
    """Index of the first entry whose D.4.3 evidence is complete (``None``: none is), and the
    gaps of the entries before it (``route (source): item``)."""
    gaps: list[str] = []
    too_coarse = data_interval_minutes > parameter("actual_ef_matching_period_max_min")
    for i, ev in enumerate(evidence):
        missing = missing_evidence(ev)
        if too_coarse:
            missing.append(f"consumption data interval {data_interval_minutes:g} min is longer "
                           "than one hour")
        if not missing:
            return i, gaps
        gaps.extend(f"{ev.route} ({ev.source}): {m}" for m in missing)
    return None, gaps


@dataclass(frozen=True)
class ContractClaim:
    """One process drawing on a contract: who, which contract, how much it matched [MWh]."""

    claimant: str
    contract: str
    matched_mwh: float
    contracted_mwh: float | None


def share_contracts(claims: Sequence[ContractClaim]) -> dict[str, float | None]:
    """What each claimant may claim: its matched MWh × min(1, contracted / Σ matched of all
    claimants of that contract) — the contract's deliverable MWh are shared pro rata to the
    matched energy, so together they never claim more than the contract delivers.

    A contract without a stated amount caps nothing (``None``). Differing amounts stated for one
    contract: the smallest is used.
    """
    total: dict[str, float] = {}
    cap: dict[str, float] = {}
    for c in claims:
        total[c.contract] = total.get(c.contract, 0.0) + max(c.matched_mwh, 0.0)
        if c.contracted_mwh is not None:
            cap[c.contract] = min(cap.get(c.contract, c.contracted_mwh), c.contracted_mwh)
    out: dict[str, float | None] = {}
    for c in claims:
        if c.contract not in cap:
            out[c.claimant] = None
            continue
        whole = total[c.contract]
        ratio = 1.0 if whole <= cap[c.contract] else cap[c.contract] / whole
        out[c.claimant] = max(c.matched_mwh, 0.0) * ratio
    return out


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
                  annex_ii_good: bool = False,
                  contract_share_mwh: float | None = None,
                  contract_claimants: int = 1) -> EfDecision:
    """Choose the electricity emission factor for a process over its reporting period.

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
        Evidence for actual factors; the first complete one is used
        (:func:`accepted_evidence`), and every output uses that one.
    data_interval_minutes : float
        Interval of the consumption/green data; more than 60 min rules out the actual route.
    flows_metered : bool
        ``False`` when the hourly flows are simulated: the route is computed but a warning says a
        verifier needs metered data.
    annex_ii_good : bool
        Adds the reminder that CBAM does not count indirect emissions for this good.
    contract_share_mwh : float, optional
        This process's share of the accepted contract's deliverable MWh
        (:func:`share_contracts` over every process drawing on it). Without it, the contract's
        whole ``offtake_contracted_mwh`` is the cap (the process is its only claimant).
    contract_claimants : int
        How many processes share the contract (for the explanation).

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
                         reason="", grid_source=grid.source,
                         grid_template_code=grid.template_code)
    if not evidence:
        return _replace(default, reason="no evidence for an actual factor: grid factor used",
                        warnings=tuple(warnings))
    index, gaps = accepted_evidence(evidence, data_interval_minutes)
    if index is None:
        return _replace(default, reason="evidence for an actual factor incomplete "
                                        "(IR 2025/2547 Annex II D.4.3): grid factor used",
                        missing_evidence=tuple(gaps), warnings=tuple(warnings))
    chosen = evidence[index]
    key = contract_key(chosen)
    if not flows_metered:
        warnings.append("hourly green energy is simulated, not metered: a verifier needs the "
                        "metered data of the same hours")
    share = contract_share_mwh
    if share is None and chosen.offtake_contracted_mwh is not None:
        share = float(chosen.offtake_contracted_mwh)
    if share is not None and green > share + 1e-12:
        if contract_claimants > 1:
            warnings.append(f"claim capped at {share:g} MWh: this process's share of the "
                            f"{chosen.offtake_contracted_mwh:g} MWh contract {key} delivers, "
                            f"shared pro rata among the {contract_claimants} processes drawing "
                            f"on it (matched: {green:g} MWh)")
        else:
            warnings.append(f"claim capped at the {share:g} MWh the contract requires to be "
                            f"delivered (matched: {green:g} MWh)")
        green = share
    extra = {"evidence_index": index, "contract": key, "contract_share_mwh": share}
    if total <= 0.0:
        return _replace(default, reason="no electricity consumed", warnings=tuple(warnings),
                        **extra)
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
                      grid_source=grid.source, warnings=tuple(warnings),
                      evidence_index=index, contract=key, contract_share_mwh=share,
                      grid_template_code=grid.template_code)


def _replace(d: EfDecision, **changes: object) -> EfDecision:
    from dataclasses import replace
    return replace(d, **changes)  # type: ignore[arg-type]
