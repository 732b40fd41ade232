"""Compliance risk from many weather years: how often a bad year breaks a rule (docs/risk.md).

scenario → inputs (loads, tariff, wind: built once) → for each weather year (synthetic years
drawn with the station's year-to-year spread and day-to-day persistence, or a folder of
actual-year weather files) → PV → dispatch → every rule checked → one row per year →
distributions (P10/P50/P90/P99), the probability of failing each rule in a year, the margin a
rule needs at P90.

Years run in batches on Dask (a local cluster by default, a scheduler by address, or
``"local"``: in this process).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from greenlink import flows
from greenlink.dispatch.simulate import simulate
from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.inputs import ParkInputs, build_inputs, builtin_weather_path, pv_generation
from greenlink.policy.applicable import scenario_check_date, scenario_ruleset
from greenlink.policy.evaluate import evaluate
from greenlink.policy.kpis import KPI_FUNCTIONS
from greenlink.resource.weather import WeatherYear
from greenlink.results import structural_kpis
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.summary import RiskMetric, RiskRule, RiskSummary
from greenlink.workflows.cluster import client_for, close_client

Progress = Callable[[int, int], None]

#: Park KPIs of each year (shares 0..1) and whether a low value is the bad one.
SHARE_KPIS: dict[str, bool] = {
    "green_share_of_consumption": True,
    "hourly_matched_share": True,
    "self_use_share_of_generation": True,
    "export_share_of_generation": False,
    "curtailment_share_of_generation": False,
}
#: Percentiles reported; Pxx is the level at least as good as the year's in xx % of years.
LEVELS = (10, 50, 90, 99)
BATCH_YEARS = 20
WEATHER_SUFFIXES = (".epw", ".csv")


@dataclass(frozen=True)
class RiskContext:
    """What every year shares: the inputs without PV, the rules, the structural KPIs."""

    inputs: ParkInputs
    rules: Any
    check_date: Any
    structural: dict[str, Any]
    station_id: str | None
    monthly_ghi_kwh_m2: tuple[float, ...] | None
    daily_kt_lag1: float | None
    monthly_temp_c: tuple[float, ...] | None = None


@dataclass(frozen=True)
class YearSpec:
    """One weather year: a synthetic seed, or a weather file (with a monthly GHI scaling)."""

    label: str
    seed: int | None = None
    path: str | None = None
    scale: tuple[float, ...] | None = None


@dataclass(frozen=True)
class RiskResult:
    years: pd.DataFrame  # one row per weather year
    summary: RiskSummary
    context: RiskContext


def risk_context(loaded: LoadedScenario, ruleset: str | None = None) -> RiskContext:
    """Build the inputs once and resolve the rule set."""
    from greenlink.resource.weather import synthetic_basis

    inputs = build_inputs(loaded)
    sc = inputs.scenario
    rules = scenario_ruleset(sc, inputs.source, ruleset, None)
    check_date = scenario_check_date(sc, inputs.index[-1].date(), rules)
    basis = None
    if sc.weather is not None or sc.pv:
        w = sc.weather
        # the monthly means given in the scenario (any site), else a station's
        basis = synthetic_basis(sc.site.latitude, sc.site.longitude,
                                station_id=w.station if w is not None else None,
                                monthly_ghi_kwh_m2=w.monthly_ghi_kwh_m2 if w is not None else None,
                                monthly_temp_c=w.monthly_temp_c if w is not None else None)
    return RiskContext(
        inputs=inputs, rules=rules, check_date=check_date, structural=structural_kpis(inputs),
        station_id=None if basis is None else basis.station_id,
        monthly_ghi_kwh_m2=None if basis is None else basis.monthly_ghi_kwh_m2,
        daily_kt_lag1=None if basis is None else basis.daily_kt_lag1,
        monthly_temp_c=None if basis is None else basis.monthly_temp_c)


# ------------------------------------------------------------------------------ one year
def weather_of(ctx: RiskContext, spec: YearSpec) -> WeatherYear:
    """The weather year of ``spec``."""
    from greenlink.resource.calibration import calibrate_to_monthly_ghi
    from greenlink.resource.synthetic import synthetic_weather
    from greenlink.resource.weather_files import read_weather_file

    sc = ctx.inputs.scenario
    site = sc.site
    if spec.seed is not None:
        if ctx.monthly_ghi_kwh_m2 is None:
            raise InputError(Problem("synthetic years need a station's monthly GHI",
                                     location="weather.station"))
        data = synthetic_weather(site.latitude, site.longitude, site.altitude_m, site.timezone,
                                 sc.time.year, ctx.monthly_ghi_kwh_m2, spec.seed,
                                 monthly_temp_c=ctx.monthly_temp_c,
                                 daily_kt_lag1=ctx.daily_kt_lag1, interannual=True)
        return WeatherYear(data=data, source=f"synthetic year {spec.seed}",
                           time_shift_minutes=30, calibration="none", notes=())
    assert spec.path is not None and sc.weather is not None
    from greenlink.resource.calibration import monthly_ghi_sums_kwh_m2
    from greenlink.resource.time_shift import detect_time_shift_minutes

    data, _meta = read_weather_file(spec.path, sc.weather.kind, sc.time.year, site.timezone)
    if spec.scale is not None:
        target = monthly_ghi_sums_kwh_m2(data) * np.asarray(spec.scale)
        data = calibrate_to_monthly_ghi(data, tuple(float(v) for v in target))
    shift = (detect_time_shift_minutes(data["ghi"], site.latitude, site.longitude,
                                       site.altitude_m)
             if sc.weather.time_shift == "auto" else int(sc.weather.time_shift))
    return WeatherYear(data=data, source=Path(spec.path).name, time_shift_minutes=shift,
                       calibration="none", notes=())


def assess_year(ctx: RiskContext, weather: WeatherYear, label: str) -> dict[str, Any]:
    """Simulate the park in one weather year and check every rule: one row."""
    inputs = ctx.inputs
    sc = inputs.scenario
    generation = dict(inputs.generation_kwh)
    generation.update(pv_generation(sc, weather, inputs.index))
    year_inputs = dataclasses.replace(inputs, generation_kwh=generation, weather=weather)
    table = simulate(year_inputs)
    report = evaluate(ctx.rules, table, sc.user_ids, ctx.structural, check_date=ctx.check_date,
                      timezone=sc.site.timezone)
    verdicts = report.to_dict()["results"]
    # a rule's own reading of its KPI where the rule set checks it for the park, else the KPI
    values = {str(v["kpi"]): _number(v["value"]) for v in verdicts
              if v["scope"] == "park" and v["period"] == "year"
              and np.isfinite(_number(v["value"]))}
    for name in SHARE_KPIS:
        if name not in values and name in KPI_FUNCTIONS:
            values[name] = _number(KPI_FUNCTIONS[name](table))
    if "curtailment_share_of_generation" not in values:
        produced = float(table[flows.GENERATION_KWH].sum())
        values["curtailment_share_of_generation"] = (
            float(table[flows.CURTAILED_KWH].sum()) / produced if produced > 0
            else float("nan"))
    prices = inputs.price_per_kwh
    import_cost = float(np.dot(table[flows.IMPORT_KWH].to_numpy(), prices))
    export_revenue = float(table[flows.EXPORT_KWH].sum()) * sc.tariff.export_price_per_kwh
    row: dict[str, Any] = {
        "year": label,
        "ghi_kwh_m2": float(weather.data["ghi"].sum()) / 1000.0,
        flows.GENERATION_KWH: float(table[flows.GENERATION_KWH].sum()),
        "net_cost": import_cost - export_revenue,
        **{k: values.get(k, float("nan")) for k in SHARE_KPIS},
        "all_rules_passed": bool(report.all_passed),
        "error": "",
    }
    for verdict in verdicts:
        key = f"{verdict['rule_id']}@{verdict['scope']}"
        row[f"rule:{key}:status"] = verdict["status"]
        value = verdict["value"]
        row[f"rule:{key}:value"] = _number(value)
        row[f"rule:{key}:threshold"] = _number(verdict["threshold"])
    return row


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return float("nan")
    return float(value)


def run_batch(ctx: RiskContext, specs: Sequence[YearSpec]) -> list[dict[str, Any]]:
    """Several years (one Dask task); a failing year becomes a row with ``error``."""
    rows = []
    for spec in specs:
        try:
            rows.append(assess_year(ctx, weather_of(ctx, spec), spec.label))
        except GreenlinkError as exc:
            rows.append({"year": spec.label, "error": "; ".join(str(p) for p in exc.problems)})
    return rows


# ------------------------------------------------------------------------------ the years
def weather_folder_specs(ctx: RiskContext, folder: Path) -> list[YearSpec]:
    """One year per weather file in ``folder``; with ``calibration = "station"`` every file is
    scaled month by month by the same factor (station mean ÷ the files' mean), so the years keep
    their spread around the station climatology."""
    from greenlink.resource.calibration import monthly_ghi_sums_kwh_m2
    from greenlink.resource.weather_files import read_weather_file

    sc = ctx.inputs.scenario
    if sc.weather is None or sc.weather.kind == "synthetic":
        raise InputError(Problem("a folder of weather files needs the scenario's weather kind",
                                 location="weather.kind", expected="epw, pvgis_tmy or tmy3"))
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in WEATHER_SUFFIXES)
    if not files:
        raise InputError(Problem(f"no weather files in {folder}", file=str(folder),
                                 expected=f"files ending {' or '.join(WEATHER_SUFFIXES)}"))
    scale = None
    if sc.weather.calibration == "station" and ctx.monthly_ghi_kwh_m2 is not None:
        sums = []
        for p in files:  # a file that cannot be read fails its own year later, not the run
            try:
                data = read_weather_file(p, sc.weather.kind, sc.time.year, sc.site.timezone)[0]
            except GreenlinkError:
                continue
            sums.append(monthly_ghi_sums_kwh_m2(data))
        if sums:
            mean = np.mean(sums, axis=0)
            scale = tuple(float(v) for v in np.asarray(ctx.monthly_ghi_kwh_m2) / mean)
    return [YearSpec(label=p.name, path=str(p), scale=scale) for p in files]


def run_years(ctx: RiskContext, specs: Sequence[YearSpec], *, scheduler: str | None = "local",
              workers: int | None = None, progress: Progress | None = None,
              batch: int = BATCH_YEARS) -> pd.DataFrame:
    """One row per year, in the order of ``specs``."""
    say = progress or (lambda _d, _t: None)
    batches = [list(specs[i:i + batch]) for i in range(0, len(specs), batch)]
    rows: list[dict[str, Any]] = []
    if scheduler == "local":
        for b in batches:
            rows.extend(run_batch(ctx, b))
            say(len(rows), len(specs))
    else:
        from distributed import as_completed

        client = client_for(scheduler, workers)
        try:
            shared = client.scatter(ctx, broadcast=True)
            futures = [client.submit(run_batch, shared, b, pure=False) for b in batches]
            for future in as_completed(futures):
                rows.extend(future.result())
                say(len(rows), len(specs))
        finally:
            close_client(client, scheduler is None)
    order = {s.label: i for i, s in enumerate(specs)}
    frame = pd.DataFrame(rows)
    frame["_order"] = frame["year"].map(order)
    frame = frame.sort_values("_order").drop(columns="_order").reset_index(drop=True)
    if "error" not in frame:
        frame["error"] = ""
    frame["error"] = frame["error"].fillna("")
    return frame


# ------------------------------------------------------------------------------ statistics
def level(values: np.ndarray, p: int, low_is_bad: bool) -> float | None:
    """Pxx: the level at least as good as the year's in ``p`` % of years (P90 of a share whose
    low values are bad is its 10th percentile)."""
    v = values[np.isfinite(values)]
    if v.size == 0:
        return None
    return float(np.percentile(v, 100 - p if low_is_bad else p))


def summarise_years(years: pd.DataFrame, rules: Any, source: str) -> RiskSummary:
    ok = years[years["error"] == ""]
    metrics = []
    for name, low_bad in (("ghi_kwh_m2", True), (flows.GENERATION_KWH, True), *SHARE_KPIS.items(),
                          ("net_cost", False)):
        if name not in ok:
            continue
        v = ok[name].to_numpy(dtype=float)
        metrics.append(RiskMetric(
            name=name, low_is_bad=low_bad, mean=float(np.nanmean(v)) if v.size else None,
            std=float(np.nanstd(v, ddof=1)) if v.size > 1 else None,
            levels={f"P{p}": level(v, p, low_bad) for p in LEVELS},
            minimum=float(np.nanmin(v)) if v.size else None,
            maximum=float(np.nanmax(v)) if v.size else None))
    by_id = {r.id: r for r in getattr(rules, "rules", ())}
    out_rules = []
    for col in [c for c in ok.columns if c.startswith("rule:") and c.endswith(":status")]:
        key = col[len("rule:"):-len(":status")]
        rule_id, scope = key.rsplit("@", 1)
        status = ok[col].astype(str)
        checked = status.isin(["pass", "fail"])
        if not checked.any():
            continue
        mask = checked.to_numpy()
        values = ok[f"rule:{key}:value"].to_numpy(dtype=float)[mask]
        thresholds = ok[f"rule:{key}:threshold"].to_numpy(dtype=float)[mask]
        threshold = float(thresholds[0]) if np.isfinite(thresholds).any() else None
        rule = by_id.get(rule_id)
        operator = None if rule is None else str(rule.operator)
        low_bad = operator in (">=", ">")
        ordered = operator in (">=", ">", "<=", "<")
        p90 = level(values, 90, low_bad) if ordered else None
        needed = None
        if p90 is not None and threshold is not None:
            needed = (threshold - p90) if low_bad else (p90 - threshold)
        out_rules.append(RiskRule(
            rule_id=rule_id, scope=scope, kpi="" if rule is None else rule.metric,
            operator=operator, threshold=threshold, years_checked=int(checked.sum()),
            failure_probability=float((status[checked] == "fail").mean()),
            p50=level(values, 50, low_bad) if ordered else None, p90=p90,
            margin_needed_at_p90=needed))
    return RiskSummary(
        source=source, years=len(years), years_failed_to_run=int((years["error"] != "").sum()),
        probability_all_rules_pass=float(ok["all_rules_passed"].astype(bool).mean())
        if len(ok) else None,
        metrics=metrics, rules=out_rules)


def synthetic_specs(n: int, seed: int) -> list[YearSpec]:
    return [YearSpec(label=f"synthetic-{seed + i}", seed=seed + i) for i in range(n)]


def run_risk(source: str | Path | LoadedScenario, *, years: int = 500,
             weather_dir: str | Path | None = None, seed: int = 1, ruleset: str | None = None,
             scheduler: str | None = None, workers: int | None = None,
             progress: Progress | None = None) -> RiskResult:
    """Simulate and check the park in ``years`` synthetic years, or in every weather file of
    ``weather_dir``; nothing is written."""
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    if years < 1:
        raise InputError(Problem(f"--years {years}", location="years", expected="at least 1"))
    if not loaded.scenario.pv:
        raise InputError(Problem("the park has no PV plant: its years do not depend on the "
                                 "weather", location="pv",
                                 expected="at least one [[pv]] plant for a weather-risk run"))
    ctx = risk_context(loaded, ruleset)
    if weather_dir is not None:
        folder = Path(weather_dir)
        if str(weather_dir).startswith("builtin:"):
            folder = builtin_weather_path(str(weather_dir).split(":", 1)[1]).parent
        specs = weather_folder_specs(ctx, folder)
        text = f"{len(specs)} weather files in {folder.name}"
    else:
        specs = synthetic_specs(years, seed)
        seeds = f"{years} synthetic years (seeds {seed}–{seed + years - 1})"
        if ctx.station_id is not None:
            text = (f"{seeds} from station {ctx.station_id} with its year-to-year spread and "
                    f"day-to-day persistence (lag-1 {ctx.daily_kt_lag1})")
        else:
            text = (f"{seeds} from the monthly GHI given in the scenario with the year-to-year "
                    "spread and day-to-day persistence of the Aguiar matrices")
    frame = run_years(ctx, specs, scheduler=scheduler, workers=workers, progress=progress)
    return RiskResult(years=frame, summary=summarise_years(frame, ctx.rules, text), context=ctx)


def write_risk(result: RiskResult, out_dir: str | Path) -> dict[str, Path]:
    """``risk_years.parquet`` and ``.csv`` (one row per year), ``risk.json`` (the summary) and
    ``risk_report.html`` (histograms and ECDFs)."""
    from greenlink.jsonio import write_json
    from greenlink.report.risk import write_risk_report

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    years = result.years
    years.to_parquet(out / "risk_years.parquet", index=False)
    written["risk_years.parquet"] = out / "risk_years.parquet"
    years.to_csv(out / "risk_years.csv", index=False)
    written["risk_years.csv"] = out / "risk_years.csv"
    written["risk.json"] = write_json(out / "risk.json", result.summary.model_dump(mode="json"))
    written["risk_report.html"] = write_risk_report(out / "risk_report.html", result.summary,
                                                    years)
    return written
