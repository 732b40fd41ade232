"""What can happen in each interval, given the range of the generation sizes.

In a realizable dispatch (docs/optimize.md, *Realizable dispatch*) the green energy sent straight
to the loads is ``d_t = min(G_t, L_t)`` (generation ``G_t``, park load ``L_t``): green serves the
loads before it is stored or exported. Only the *surplus* ``(G_t − L_t)⁺`` may charge a battery or
be exported, and only the *deficit* ``(L_t − G_t)⁺`` may be met by discharge or import. With the
generation sizes free, ``G_t`` is linear in them (``G_t = Σ_k g_kt P_k`` + fixed plants) and lies
in ``[G_t^min, G_t^max]`` (all sizes at their lower or upper bounds). Each interval is then

* ``NIGHT`` — ``G^max = 0``: nothing to send, store or export;
* ``DEFICIT`` — ``G^max ≤ L``: ``d = G`` exactly, nothing left to store or export;
* ``SURPLUS`` — ``G^min > L``: ``d = L`` exactly, no deficit;
* ``EITHER`` — ``G^min < L < G^max``: the sizes decide. ``d = min(G, L)`` is concave in the
  sizes, so ``d ≥ min(G, L)`` is not a convex constraint; its tightest convex relaxation over the
  range is the chord ``d ≥ min(G^min, L) + (min(G^max, L) − min(G^min, L)) /
  (G^max − G^min) · (G − G^min)``, exact at both ends of the range.

:func:`hourly` sums a finer time base to clock hours. The sum of the intervals' chords is a valid
chord of the hour, the SoC is checked at the hours' ends only and the import is priced at the
hour's lowest price, so the hourly problem is a relaxation of the fine one: its optimum is a lower
bound of the fine problem's least cost.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from greenlink.optimize.inputs import FeeArrays, OptimizationInputs, Requirement

NIGHT, DEFICIT, EITHER, SURPLUS = 0, 1, 2, 3
_EPS = 1e-9


@dataclass(frozen=True)
class Regimes:
    """Per interval: its kind and the chord of ``min(G, L)`` (a lower bound of the direct green).

    Attributes
    ----------
    kind : (T,) NIGHT, DEFICIT, EITHER or SURPLUS
    chord_const : (T,) constant part of the chord
    chord_coef : (P + W, T) coefficient of each generation size (PV plants, then wind) in the
        chord; for a DEFICIT interval the profile itself (``d = G``)
    surplus_possible : (T,) some green may be left over (a battery may charge, the park export)
    deficit_possible : (T,) some load may be left unserved by direct green
    cap_const, cap_coef : an upper bound ``cap_const + Σ_k cap_coef_k P_k`` of the direct green
        of an interval summed from finer ones (``None`` at the scenario's own resolution, where
        ``d ≤ G`` and ``d ≤ L`` say it): ``Σ_t min(G_t, L_t) ≤ Σ_{t: G_t^max ≥ L_t} L_t +
        Σ_{t: G_t^max < L_t} G_t``, so that green of one quarter-hour does not serve the load
        of another without a battery
    """

    kind: np.ndarray
    chord_const: np.ndarray
    chord_coef: np.ndarray
    surplus_possible: np.ndarray
    deficit_possible: np.ndarray
    cap_const: np.ndarray | None = None
    cap_coef: np.ndarray | None = None


def _profiles(oi: OptimizationInputs) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(profiles (P+W, T), lower bounds, upper bounds) of the generation sizes."""
    n_t = oi.n_intervals
    prof = np.vstack([oi.pv_kwh_per_kw.reshape(len(oi.pv_ids), n_t),
                      oi.wind_kwh_per_kw.reshape(len(oi.wind_ids), n_t)])
    lo = np.concatenate([oi.pv_min_kw, oi.wind_min_kw]).astype(float)
    hi = np.concatenate([oi.pv_max_kw, oi.wind_max_kw]).astype(float)
    return prof.reshape(len(lo), oi.n_intervals), lo, hi


def regimes(oi: OptimizationInputs) -> Regimes:
    """Kinds and chords of every interval of ``oi`` over its size bounds."""
    prof, lo, hi = _profiles(oi)
    load = oi.park_load_kwh
    g_min = np.einsum("k,kt->t", lo, prof) if len(lo) else np.zeros(oi.n_intervals)
    g_max = np.einsum("k,kt->t", hi, prof) if len(hi) else np.zeros(oi.n_intervals)
    kind = np.full(oi.n_intervals, EITHER, dtype=np.int8)
    kind[g_max <= load + _EPS] = DEFICIT
    kind[g_min > load + _EPS] = SURPLUS  # G = L: nothing left over (grid charging may run)
    kind[g_max <= _EPS] = NIGHT
    lo_val = np.minimum(g_min, load)
    hi_val = np.minimum(g_max, load)
    span = np.maximum(g_max - g_min, _EPS)
    slope = np.where(kind == EITHER, (hi_val - lo_val) / span, 0.0)
    slope[kind == DEFICIT] = 1.0
    const = np.where(kind == EITHER, lo_val - slope * g_min, 0.0)
    const[kind == SURPLUS] = load[kind == SURPLUS]
    return Regimes(kind=kind, chord_const=const, chord_coef=prof * slope[None, :],
                   surplus_possible=(kind == EITHER) | (kind == SURPLUS),
                   deficit_possible=kind != SURPLUS)


def fixed_regimes(oi: OptimizationInputs, generation_kwh: np.ndarray) -> Regimes:
    """Kinds at fixed generation: DEFICIT (or NIGHT) where ``G ≤ L``, SURPLUS where ``G > L``."""
    load = oi.park_load_kwh
    kind = np.where(generation_kwh > load + _EPS, SURPLUS, DEFICIT).astype(np.int8)
    kind[(generation_kwh <= _EPS) & (kind == DEFICIT)] = NIGHT
    n = len(oi.pv_ids) + len(oi.wind_ids)
    return Regimes(kind=kind, chord_const=np.minimum(generation_kwh, load),
                   chord_coef=np.zeros((n, oi.n_intervals)),
                   surplus_possible=kind == SURPLUS,
                   deficit_possible=(load - generation_kwh) > _EPS)


def _hour_sum(a: np.ndarray, hour: np.ndarray, n_h: int) -> np.ndarray:
    if a.ndim == 1:
        return np.bincount(hour, weights=a, minlength=n_h)
    return np.stack([np.bincount(hour, weights=row, minlength=n_h) for row in a])


def hourly(oi: OptimizationInputs) -> tuple[OptimizationInputs, Regimes]:
    """The problem on clock hours, a relaxation of ``oi`` (see the module text), and its regimes.

    Energies are summed; the import price is the hour's lowest, the export price is one number;
    each hour's chord is the sum of its intervals' chords; requirements keep their periods.
    """
    hour = oi.hour_of_interval
    n_h = int(hour.max()) + 1 if len(hour) else 0
    fine = regimes(oi)
    prof, _lo, hi = _profiles(oi)
    load = oi.park_load_kwh
    reaches = (np.einsum("k,kt->t", hi, prof) if len(hi)
               else np.zeros(oi.n_intervals)) >= load

    def lowest(a: np.ndarray) -> np.ndarray:
        out = np.full(n_h, np.inf)
        np.minimum.at(out, hour, a)
        return out

    def first(a: np.ndarray) -> np.ndarray:
        out = np.zeros(n_h, dtype=a.dtype)
        out[hour[::-1]] = a[::-1]
        return out

    kinds = fine.kind
    all_dark = _hour_sum((kinds != NIGHT).astype(float), hour, n_h) == 0
    all_deficit = _hour_sum(((kinds != NIGHT) & (kinds != DEFICIT)).astype(float), hour,
                            n_h) == 0
    all_surplus = _hour_sum((kinds != SURPLUS).astype(float), hour, n_h) == 0
    kind = np.full(n_h, EITHER, dtype=np.int8)
    kind[all_deficit] = DEFICIT
    kind[all_surplus] = SURPLUS
    kind[all_dark] = NIGHT
    reg = Regimes(kind=kind, chord_const=_hour_sum(fine.chord_const, hour, n_h),
                  chord_coef=_hour_sum(fine.chord_coef, hour, n_h)
                  if fine.chord_coef.size else np.zeros((0, n_h)),
                  surplus_possible=_hour_sum(fine.surplus_possible.astype(float), hour, n_h) > 0,
                  deficit_possible=_hour_sum(fine.deficit_possible.astype(float), hour, n_h) > 0,
                  cap_const=_hour_sum(np.where(reaches, load, 0.0), hour, n_h),
                  cap_coef=_hour_sum(prof * ~reaches[None, :], hour, n_h)
                  if prof.size else np.zeros((0, n_h)))
    fees = FeeArrays(oi.fees.schedule,
                     tuple((i, n, b, lowest(p)) for i, n, b, p in oi.fees.energy),
                     _hour_sum(oi.fees.capacity, hour, n_h))
    reqs = tuple(Requirement(r.id, r.origin, r.metric, r.operator, r.threshold, r.scope,
                             r.period, _hour_sum(r.mask.astype(float), hour, n_h) > 0)
                 for r in oi.requirements)
    ratio = 1.0 / oi.dt_h
    coarse = replace(
        oi, dt_h=1.0, load_kwh=_hour_sum(oi.load_kwh.T, hour, n_h).T,
        pv_kwh_per_kw=_hour_sum(oi.pv_kwh_per_kw, hour, n_h) if len(oi.pv_ids)
        else np.zeros((0, n_h)),
        wind_kwh_per_kw=_hour_sum(oi.wind_kwh_per_kw, hour, n_h) if len(oi.wind_ids)
        else np.zeros((0, n_h)),
        tariff_price_per_kwh=lowest(oi.tariff_price_per_kwh), price_per_kwh=lowest(
            oi.price_per_kwh), cheap=_hour_sum(oi.cheap.astype(float), hour, n_h) > 0,
        export_cap_kwh=oi.export_cap_kwh * ratio, import_limit_kwh=oi.import_limit_kwh * ratio,
        fees=fees, requirements=reqs, hour_of_interval=np.arange(n_h, dtype=np.int64),
        month_of_interval=first(oi.month_of_interval))
    return coarse, reg
