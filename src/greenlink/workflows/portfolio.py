"""Many parks at once on Dask: simulate + check each (and, on request, finance, risk, optimise),
one results table (docs/risk.md, "Portfolios").

Each park is one task. A park that fails becomes a row with its error, the others go on.
Results are written per park (``parks/<name>/``: flows, summary.json, report.html and what was
asked for) and collected into ``portfolio.parquet``, ``portfolio.xlsx`` and ``portfolio.html``
(one row per park, a link to its report).

``scheduler``: ``None`` starts a local cluster (``workers`` processes, one thread each);
``"local"`` runs in this process without Dask; otherwise the address of a running Dask scheduler
(``tcp://host:8786``), whose workers must see the park files and the output folder at the same
paths.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pandas as pd

from greenlink.errors import GreenlinkError
from greenlink.workflows.cluster import client_for, close_client

Progress = Callable[[int, int, str], None]
T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class PortfolioOptions:
    """What to do for each park besides simulate + check."""

    finance: bool = False
    terms_file: str | None = None
    risk_years: int = 0
    optimise: bool = False
    write_park_files: bool = True


# ------------------------------------------------------------------------------ the runner
def map_tasks(fn: Callable[..., R], items: Sequence[T], *, shared: Any = None,
              scheduler: str | None = None, workers: int | None = None,
              client: Any = None, progress: Callable[[int, int, R], None] | None = None
              ) -> list[R]:
    """``fn(shared, item)`` for every item (``fn(item)`` without ``shared``), in item order.

    ``client``: an existing Dask client to use (it is left open); otherwise one is made from
    ``scheduler``/``workers`` and closed at the end. ``scheduler == "local"``: a plain loop.
    Exceptions from ``fn`` propagate: catch them inside ``fn`` to keep the others going.
    """
    say = progress or (lambda _d, _t, _r: None)
    results: list[R | None] = [None] * len(items)

    def call(item: T) -> R:
        return fn(item) if shared is None else fn(shared, item)

    if scheduler == "local" and client is None:
        for i, item in enumerate(items):
            results[i] = call(item)
            say(i + 1, len(items), results[i])  # type: ignore[arg-type]
        return results  # type: ignore[return-value]
    from distributed import as_completed

    own = client is None
    client = client if client is not None else client_for(scheduler, workers)
    try:
        args = [] if shared is None else [client.scatter(shared, broadcast=True)]
        futures = {client.submit(fn, *args, item, pure=False): i for i, item in enumerate(items)}
        for done, future in enumerate(as_completed(futures), start=1):
            results[futures[future]] = future.result()
            say(done, len(items), results[futures[future]])  # type: ignore[arg-type]
    finally:
        if own:
            close_client(client, scheduler is None)
    return results  # type: ignore[return-value]


# ------------------------------------------------------------------------------ one park
def _share(summary: Any, name: str) -> float | None:
    value = getattr(summary.shares, name)
    return None if value is None else float(value)


def run_park(options: PortfolioOptions, job: tuple[str, str, str | None]) -> dict[str, Any]:
    """Simulate and check one park (and what ``options`` ask for); one row, never raises."""
    name, path, out_dir = job
    started = time.perf_counter()
    row: dict[str, Any] = {"park": name, "file": path, "status": "ok", "error": ""}
    try:
        row.update(_run_park(options, path, out_dir))
    except GreenlinkError as exc:
        row.update(status="error", error="; ".join(str(p) for p in exc.problems))
    except Exception as exc:  # a bug or a full disk in one park must not stop the others
        row.update(status="error", error=f"internal error: {type(exc).__name__}: {exc}")
    row["seconds"] = time.perf_counter() - started
    row["worker"] = _worker_address()
    return row


def _worker_address() -> str:
    """The Dask worker running this task (``"local"`` outside a worker)."""
    try:
        from distributed import get_worker

        return str(get_worker().address)
    except (ImportError, ValueError):
        return "local"


def _run_park(options: PortfolioOptions, path: str, out_dir: str | None) -> dict[str, Any]:
    from greenlink.economics.finance_terms import load_terms
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows.run import RunResult, run_scenario, write_outputs

    loaded = load_scenario(path)
    row: dict[str, Any] = {}
    run: RunResult
    if options.optimise:
        from greenlink.workflows.optimise import optimize_scenario

        opt = optimize_scenario(loaded)
        assert opt.run is not None  # the optimise workflow always assesses its optimum
        run = opt.run
        row.update(optimised=True, optimum_feasible=bool(opt.feasible),
                   optimum_total_cost=float(opt.costs["total"]))
    else:
        run = run_scenario(loaded)
    s = run.summary
    failing = [f"{r.rule_id}@{r.scope}" for r in run.policy.results if r.status == "fail"]
    row.update(
        scenario=s.scenario.name, province=s.scenario.province,
        pv_kw_dc=s.capacity.pv_kw_dc, wind_kw=s.capacity.wind_kw,
        battery_kwh=s.capacity.battery_kwh, generation_kwh=s.totals_kwh.generation_kwh,
        load_kwh=s.totals_kwh.load_kwh,
        green_share_of_consumption=_share(s, "green_share_of_consumption"),
        hourly_matched_share=_share(s, "hourly_matched_share"),
        self_use_share_of_generation=_share(s, "self_use_share_of_generation"),
        export_share_of_generation=_share(s, "export_share_of_generation"),
        all_rules_passed=bool(run.policy.all_passed), failing_rules=", ".join(failing),
        net_cost=s.cost.net_cost, currency=s.cost.currency)
    written: dict[str, Path] = {}
    if options.finance:
        from greenlink.workflows.finance import finance_case, write_finance

        case = finance_case(run, load_terms(options.terms_file),
                            sized_by_optimiser=options.optimise)
        f = case.summary()
        row.update(npv_project=f.npv_project, irr_project=f.irr_project,
                   irr_equity=f.irr_equity, payback_years=f.payback_years,
                   lcoe_green_supply_nominal_per_kwh=f.lcoe_green_supply_nominal_per_kwh,
                   min_dscr=f.min_dscr)
        if out_dir is not None:
            import dataclasses

            run = dataclasses.replace(run, summary=s.model_copy(update={"finance": f}))
            case = dataclasses.replace(case, run=run)
            written = write_finance(case, out_dir)
    elif out_dir is not None:
        written = write_outputs(run, out_dir)
    if options.risk_years > 0:
        from greenlink.workflows.risk import run_risk, write_risk

        risk = run_risk(loaded, years=options.risk_years, scheduler="local")
        rs = risk.summary
        worst = max(rs.rules, key=lambda r: r.failure_probability, default=None)
        row.update(risk_years=rs.years,
                   probability_all_rules_pass=rs.probability_all_rules_pass,
                   worst_rule=None if worst is None else worst.rule_id,
                   worst_rule_failure_probability=None if worst is None
                   else worst.failure_probability)
        if out_dir is not None:
            written.update(write_risk(risk, out_dir))
    if out_dir is not None and "report.html" in written:
        row["report"] = str(Path(out_dir) / "report.html")
    return row


# ------------------------------------------------------------------------------ many parks
def park_names(paths: Iterable[str | Path]) -> list[str]:
    """Unique, file-system-safe names: the file's stem, with its folder's name where two files
    share a stem (``north/park.toml`` → ``north-park``), numbered where that is not enough."""
    items = [Path(p) for p in paths]
    stems = [p.stem for p in items]
    names = [f"{p.parent.name}-{p.stem}" if stems.count(p.stem) > 1 and p.parent.name else p.stem
             for p in items]
    seen: dict[str, int] = {}
    out = []
    for n in names:
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in n) or "park"
        seen[safe] = seen.get(safe, 0) + 1
        out.append(safe if seen[safe] == 1 else f"{safe}-{seen[safe]}")
    return out


def expand_parks(items: Sequence[str | Path]) -> list[Path]:
    """Park files from the arguments: a ``.toml`` file, or a folder (its ``*/park.toml`` and
    ``*.toml`` files)."""
    parks: list[Path] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            found = sorted(set(p.glob("*.toml")) | set(p.glob("*/park.toml")))
            parks.extend(found)
        else:
            parks.append(p)
    return parks


def run_portfolio(parks: Sequence[str | Path], *, out_dir: str | Path | None = None,
                  options: PortfolioOptions | None = None, scheduler: str | None = None,
                  workers: int | None = None, progress: Progress | None = None
                  ) -> pd.DataFrame:
    """One row per park, in the order given; a failing park is a row with ``status = error``."""
    from greenlink.errors import InputError, Problem

    opts = options or PortfolioOptions()
    paths = expand_parks(parks)
    missing = [Problem("not found", file=str(p), expected="a park scenario TOML file or a folder")
               for p in paths if not p.is_file()]
    if missing:  # before a cluster starts; a park that cannot be read is one park's error
        raise InputError(missing)
    if not paths:
        raise InputError(Problem("no park files given", location="PARKS",
                                 expected="scenario TOML files or folders of them"))
    names = park_names(paths)
    out = None if out_dir is None else Path(out_dir).resolve()
    jobs = [(name, str(path.resolve()),
             str(out / "parks" / name) if out is not None and opts.write_park_files else None)
            for name, path in zip(names, paths, strict=True)]
    say = progress or (lambda _d, _t, _n: None)
    rows = map_tasks(run_park, jobs, shared=opts, scheduler=scheduler, workers=workers,
                     progress=lambda d, t, row: say(d, t, str(row["park"])))
    return pd.DataFrame(rows)


def write_portfolio(table: pd.DataFrame, out_dir: str | Path) -> dict[str, Path]:
    """``portfolio.parquet``, ``portfolio.xlsx`` and ``portfolio.html`` (links to each park's
    report)."""
    from greenlink.report.portfolio import write_portfolio_html

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    table.to_parquet(out / "portfolio.parquet", index=False)
    written["portfolio.parquet"] = out / "portfolio.parquet"
    tmp = out / ".portfolio.xlsx.tmp"
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        table.to_excel(xl, sheet_name="parks", index=False)
    tmp.replace(out / "portfolio.xlsx")
    written["portfolio.xlsx"] = out / "portfolio.xlsx"
    written["portfolio.html"] = write_portfolio_html(out / "portfolio.html", table, out)
    return written
