"""Specific embedded emissions (SEE) per process, recursively through precursors, with audit trail.

The rules (Reg 2023/956 Annex IV; IR 2025/2547 Art 3(2) and Annex II; the Commission's
communication template, sheets D_Processes/E_PurchPrec/InputOutput):

* directly attributable emissions ``DirEm = measured`` or ``Σ fuel × EF × (1 − biomass) +
  process emissions``, plus imported heat × its EF, minus exported heat × its EF;
* ``SEE_dir = (DirEm + Σ m_i × SEE_dir,i) / AL`` and
  ``SEE_ind = (E_el × EF_el + Σ m_i × SEE_ind,i) / AL`` (complex goods recursively; ``AL`` is
  the activity level, tonnes produced in the period);
* counted for CBAM: the direct part always; the indirect part only for goods outside Annex II,
  and a precursor's indirect part only where the precursor is outside Annex II (IR 2025/2547
  Annex I point 3.1);
* SEE are reported in t CO2e/t rounded to at most 5 decimals, period totals to full tonnes
  (IR 2025/2547 Annex II A.1(6),(8)); no method is set, half-up is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from greenlink.carbon.cbam_data import default_value, parameter
from greenlink.carbon.cbam_goods import classify, normalise_cn_code
from greenlink.carbon.emission_factor_routes import EfDecision
from greenlink.errors import InputError, Problem
from greenlink.scenario.installations import Installation, Process, PurchasedPrecursor


def round_half_up(value: float, decimals: int) -> float:
    """Round half away from zero at ``decimals`` digits (decimal, not binary, arithmetic)."""
    quantum = Decimal(1).scaleb(-decimals)
    return float(Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP))


def round_see(value: float) -> float:
    """SEE in t CO2e/t rounded as IR 2025/2547 Annex II A.1(8) says (5 decimals), half-up.

    The one rounding of every SEE greenlink reports or compares (tables, declarations, the
    template check, evidence packs): ``round_see(0.610875) == 0.61088``, where binary
    ``round(0.610875, 5)`` gives 0.61087.
    """
    return round_half_up(value, int(parameter("see_decimals")))


def see_difference(a: float, b: float) -> float:
    """``round_see(a) − round_see(b)`` in decimal arithmetic: the difference of two reported
    SEE (a saving), exact to the 5th decimal (no binary residue such as 0.30000000000000004)."""
    quantum = Decimal(1).scaleb(-int(parameter("see_decimals")))
    diff = Decimal(repr(round_see(a))) - Decimal(repr(round_see(b)))
    return float(diff.quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class AuditLine:
    """One input or intermediate result: what, value, unit, and the rule or source."""

    subject: str
    quantity: str
    value: float
    unit: str
    source: str


@dataclass(frozen=True)
class GoodSee:
    """Specific embedded emissions of the good of one process (or a purchased precursor).

    ``see_*`` are unrounded t CO2e/t; ``*_rounded`` as the regulation reports them.
    ``indirect_counted_t_per_t`` is the indirect part CBAM counts.
    """

    id: str
    cn_code: str
    sector: str | None
    annex_ii: bool
    activity_t: float
    direct_emissions_t: float
    indirect_emissions_t: float
    electricity_mwh: float
    see_direct_t_per_t: float
    see_indirect_t_per_t: float
    indirect_counted_t_per_t: float
    data: str
    ef_route: str
    ef_template_code: str
    ef_t_per_mwh: float
    audit: tuple[AuditLine, ...]
    default_direct_t_per_t: float = 0.0

    @property
    def default_share_direct(self) -> float:
        """Share of the SEE (direct) that comes from purchased precursors valued at default
        values, through the whole precursor chain: the template's "Share of emissions by
        default value" (Summary_Products column M). 0 when the SEE (direct) is 0."""
        if self.see_direct_t_per_t <= 0:
            return 0.0
        return self.default_direct_t_per_t / self.see_direct_t_per_t

    @property
    def see_direct_rounded(self) -> float:
        return round_see(self.see_direct_t_per_t)

    @property
    def see_indirect_rounded(self) -> float:
        return round_see(self.see_indirect_t_per_t)

    @property
    def see_counted_t_per_t(self) -> float:
        """What CBAM counts per tonne: direct plus counted indirect (unrounded)."""
        return self.see_direct_t_per_t + self.indirect_counted_t_per_t

    @property
    def specific_electricity_mwh_per_t(self) -> float:
        return self.electricity_mwh / self.activity_t if self.activity_t else 0.0


def direct_emissions(process: Process, where: str) -> tuple[float, list[AuditLine]]:
    """Directly attributable emissions of a process, t CO2e, with its audit lines."""
    lines: list[AuditLine] = []
    if process.measured_emissions_t is not None:
        em = float(process.measured_emissions_t)
        lines.append(AuditLine(where, "measured emissions", em, "t CO2e",
                               "measurement-based (IR 2025/2547 Annex II B)"))
    else:
        em = 0.0
        for fuel in process.fuels:
            part = fuel.amount * fuel.ef_t_co2_per_unit * (1.0 - fuel.biomass_fraction)
            em += part
            lines.append(AuditLine(where, f"fuel {fuel.name}: {fuel.amount:g} {fuel.unit} × "
                                   f"{fuel.ef_t_co2_per_unit:g} t/{fuel.unit} × "
                                   f"(1 − {fuel.biomass_fraction:g})", part, "t CO2",
                                   fuel.source or "calculation-based (IR 2025/2547 Annex II B)"))
        if process.process_emissions_t:
            em += process.process_emissions_t
            lines.append(AuditLine(where, "process emissions", process.process_emissions_t,
                                   "t CO2e", "calculation-based"))
    heat = (process.heat_imported_tj * process.heat_ef_t_per_tj
            - process.heat_exported_tj * process.heat_export_ef_t_per_tj)
    if heat:
        em += heat
        lines.append(AuditLine(where, "net measurable heat imported × EF", heat, "t CO2e",
                               "template D_Processes (h)"))
    lines.append(AuditLine(where, "directly attributable emissions DirEm", em, "t CO2e",
                           "sum of the lines above"))
    return em, lines


def _purchased(prec: PurchasedPrecursor, year: int | None = None) -> GoodSee:
    code = normalise_cn_code(prec.cn_code, location=f"purchased_precursors.{prec.id}.cn_code")
    good = classify(code, year)
    annex_ii = good.is_cbam_good and not good.indirect_emissions_counted
    lines: list[AuditLine] = []
    data = prec.data
    if data == "actual" and not prec.verification_report:
        lines.append(AuditLine(prec.id, "actual data without a verification report: default "
                               "values used", 0.0, "-",
                               "IR 2025/2547: actual precursor data need an accredited "
                               "verifier's report covering the period"))
        data = "default"
    if data == "actual":
        if prec.see_direct_t_per_t is None:
            raise InputError(Problem(f"purchased precursor {prec.id}: actual data need "
                                     "see_direct_t_per_t", location=f"purchased_precursors."
                                     f"{prec.id}", expected="a number in t CO2e/t"))
        see_d = float(prec.see_direct_t_per_t)
        see_i = float(prec.see_indirect_t_per_t or 0.0)
        src = f"actual, verified ({prec.verification_report})"
    else:
        dv = default_value(code, prec.country)
        see_d, see_i = dv.direct_t_per_t, dv.indirect_t_per_t
        src = f"default value without mark-up: {dv.source} [{dv.confidence}]"
        if dv.fallback:
            src += f" ({dv.fallback})"
    lines.append(AuditLine(prec.id, "SEE direct", see_d, "t CO2e/t", src))
    lines.append(AuditLine(prec.id, "SEE indirect", see_i, "t CO2e/t", src))
    return GoodSee(id=prec.id, cn_code=code, sector=good.sector, annex_ii=annex_ii,
                   activity_t=0.0, direct_emissions_t=0.0, indirect_emissions_t=0.0,
                   electricity_mwh=0.0, see_direct_t_per_t=see_d, see_indirect_t_per_t=see_i,
                   indirect_counted_t_per_t=0.0 if annex_ii else see_i, data=data,
                   ef_route="precursor", ef_template_code="", ef_t_per_mwh=0.0,
                   audit=tuple(lines),
                   default_direct_t_per_t=see_d if data == "default" else 0.0)


def installation_see(installation: Installation, electricity_mwh: Mapping[str, float],
                     decisions: Mapping[str, EfDecision]) -> dict[str, GoodSee]:
    """SEE of every process of an installation (and of its purchased precursors).

    Parameters
    ----------
    installation : Installation
    electricity_mwh : mapping process id → MWh consumed in the period
    decisions : mapping process id → EfDecision (the factor and its route)

    Returns
    -------
    dict
        id → GoodSee for processes and purchased precursors.

    Raises
    ------
    InputError
        Process without activity, unknown CN code, precursor loop, missing electricity.
    """
    year = installation.reporting_year  # CN year of the reporting period (None: the latest)
    out: dict[str, GoodSee] = {p.id: _purchased(p, year)
                               for p in installation.purchased_precursors}
    processes = {p.id: p for p in installation.processes}
    where0 = f"installations.{installation.id}"

    def visit(pid: str, stack: tuple[str, ...]) -> GoodSee:
        if pid in out:
            return out[pid]
        if pid in stack:
            loop = " → ".join((*stack[stack.index(pid):], pid))
            raise InputError(Problem(f"precursor loop: {loop}", location=f"{where0}.processes",
                                     expected="precursor chains that end (no process may "
                                              "consume its own output through others)"))
        if pid not in processes:
            raise InputError(Problem(f"unknown precursor {pid!r}", location=f"{where0}",
                                     expected="a process or purchased precursor id"))
        proc = processes[pid]
        where = f"{where0}.processes.{pid}"
        code = normalise_cn_code(proc.cn_code, location=f"{where}.cn_code")
        good = classify(code, year)
        if not good.is_cbam_good:
            raise InputError(Problem(f"process {pid}: CN code {code} is not a CBAM good in "
                                     f"CN {good.cn_year}" + (f" ({good.note})" if good.note
                                                              else ""),
                                     location=f"{where}.cn_code",
                                     expected="a CN code of the Commission's CBAM list "
                                              "(greenlink cbam goods CODE)"))
        if proc.activity_level_t <= 0:
            raise InputError(Problem(f"process {pid} has no activity (activity_level_t = 0)",
                                     location=f"{where}.activity_level_t",
                                     expected="tonnes produced in the reporting period (> 0)"))
        annex_ii = not good.indirect_emissions_counted
        dir_em, lines = direct_emissions(proc, pid)
        if pid not in electricity_mwh or pid not in decisions:
            raise InputError(Problem(f"no electricity for process {pid}", location=where,
                                     expected="electricity_mwh (sub-meter) or "
                                              "electricity_share (allocation key)"))
        el = float(electricity_mwh[pid])
        dec = decisions[pid]
        ind_em = el * dec.ef_t_per_mwh
        lines.append(AuditLine(pid, f"electricity {el:g} MWh × EF {dec.ef_t_per_mwh:.6g} t/MWh "
                               f"({dec.route}, {dec.template_code})", ind_em, "t CO2",
                               f"{dec.reason}; grid factor: {dec.grid_source}"))
        attr_dir, attr_ind, counted_ind = dir_em, ind_em, 0.0 if annex_ii else ind_em
        default_dir = 0.0
        for use in proc.precursors:
            prec = visit(use.precursor, (*stack, pid))
            attr_dir += use.amount_t * prec.see_direct_t_per_t
            default_dir += use.amount_t * prec.default_direct_t_per_t
            attr_ind += use.amount_t * prec.see_indirect_t_per_t
            counted_ind += use.amount_t * prec.indirect_counted_t_per_t
            lines.append(AuditLine(pid, f"precursor {prec.id}: {use.amount_t:g} t × SEE "
                                   f"{prec.see_direct_t_per_t:.6g} direct + "
                                   f"{prec.see_indirect_t_per_t:.6g} indirect",
                                   use.amount_t * (prec.see_direct_t_per_t
                                                   + prec.see_indirect_t_per_t),
                                   "t CO2e", f"{prec.data} data; counted indirect "
                                   f"{prec.indirect_counted_t_per_t:.6g} t/t "
                                   "(IR 2025/2547 Annex I 3.1)"))
        al = float(proc.activity_level_t)
        see_d, see_i = attr_dir / al, attr_ind / al
        lines.append(AuditLine(pid, f"SEE direct = {attr_dir:.6g} / {al:g} t", see_d, "t CO2e/t",
                               "Reg 2023/956 Annex IV; IR 2025/2547 Annex II"))
        lines.append(AuditLine(pid, f"SEE indirect = {attr_ind:.6g} / {al:g} t", see_i,
                               "t CO2e/t", "template rule: electricity × EF"))
        lines.append(AuditLine(pid, "SEE reported (rounded, 5 decimals)", round_see(see_d),
                               "t CO2e/t direct", "IR 2025/2547 Annex II A.1(8), half-up"))
        result = GoodSee(id=pid, cn_code=code, sector=good.sector, annex_ii=annex_ii,
                         activity_t=al, direct_emissions_t=dir_em, indirect_emissions_t=ind_em,
                         electricity_mwh=el, see_direct_t_per_t=see_d, see_indirect_t_per_t=see_i,
                         indirect_counted_t_per_t=counted_ind / al, data="actual",
                         ef_route=dec.route, ef_template_code=dec.template_code,
                         ef_t_per_mwh=dec.ef_t_per_mwh, audit=tuple(lines),
                         default_direct_t_per_t=default_dir / al)
        out[pid] = result
        return result

    for pid in processes:
        visit(pid, ())
    return out
