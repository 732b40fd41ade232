"""Run many optimisation variants on Dask and collect one tidy table.

The base scenario's inputs (loads, modelled generation) are built once and shared with the
workers; a variant that changes only ``optimize``, ``grid``, ``policy`` or a plant's
``max_capacity_kw_dc`` reuses them, any other change re-models its inputs on the worker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.errors import GreenlinkError
from greenlink.inputs import ParkInputs, build_inputs
from greenlink.report.sweep import pareto_front as pareto_front
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.scenario.variants import apply_params, needs_new_inputs, variants

Progress = Callable[[int, int], None]


def run_variant(park: ParkInputs, changes: dict[str, Any], number: int) -> dict[str, Any]:
    """Optimise one variant; return one row (errors become an ``error`` text, not a crash)."""
    from greenlink.workflows.optimise import optimize_park

    row: dict[str, Any] = {"variant": number, **changes}
    try:
        sc = apply_params(park.scenario, changes)
        if needs_new_inputs(changes):
            if park.source is None:
                raise GreenlinkError("this change needs the scenario file to re-model inputs")
            variant_park = build_inputs(LoadedScenario(scenario=sc, path=park.source))
        else:
            variant_park = replace(park, scenario=sc)
        result = optimize_park(variant_park)
    except GreenlinkError as exc:
        row["error"] = "; ".join(str(p) for p in exc.problems)
        return row
    shares = result.checked.summary.shares
    row.update({
        "feasible": result.feasible,
        "total_cost": result.costs["total"],
        "lcoe_green_per_kwh": result.lcoe_green_per_kwh,
        "pv_kw_dc": float(sum(result.sizes.pv_kw_dc.values())),
        **{f"pv_{k}_kw_dc": v for k, v in result.sizes.pv_kw_dc.items()},
        "wind_kw": float(sum(result.sizes.wind_kw.values())),
        "battery_kwh": result.sizes.battery_kwh,
        "battery_kw": result.sizes.battery_kw,
        "green_share_of_consumption": shares.green_share_of_consumption,
        "hourly_matched_share": shares.hourly_matched_share,
        "self_use_share_of_generation": shares.self_use_share_of_generation,
        "export_share_of_generation": shares.export_share_of_generation,
        "all_rules_passed": bool(result.checked.policy.all_passed),
        "relaxations": "; ".join(r.message for r in result.relaxations),
        "solve_seconds": result.solution.solve_seconds,
        "error": "",
    })
    return row


def _client(scheduler: str | None, workers: int | None) -> Any:
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def run_sweep(source: str | Path | LoadedScenario, params: list[tuple[str, list[Any]]], *,
              scheduler: str | None = None, workers: int | None = None,
              progress: Progress | None = None) -> pd.DataFrame:
    """Optimise every combination of ``params``; one row per variant, in variant order.

    Parameters
    ----------
    source
        Scenario file (or loaded scenario).
    params
        ``[(path, [values...]), ...]`` as from :func:`greenlink.scenario.variants.parse_param`.
    scheduler
        ``None``: a local Dask cluster (``workers`` processes, one thread each); ``"local"``:
        run in this process without Dask (tests, debugging); otherwise the address of a running
        Dask scheduler (``tcp://host:8786``).
    progress
        Called with (done, total) after each variant.
    """
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    park = build_inputs(loaded)
    todo = variants(params)
    for changes in todo:  # fail fast on a bad path or value, before starting a cluster
        apply_params(park.scenario, changes)
    say = progress or (lambda _d, _t: None)
    rows: list[dict[str, Any]] = []
    if scheduler == "local":
        for i, changes in enumerate(todo):
            rows.append(run_variant(park, changes, i))
            say(len(rows), len(todo))
    else:
        from distributed import as_completed

        client = _client(scheduler, workers)
        try:
            shared = client.scatter(park, broadcast=True)
            futures = [client.submit(run_variant, shared, changes, i, pure=False)
                       for i, changes in enumerate(todo)]
            for future in as_completed(futures):
                rows.append(future.result())
                say(len(rows), len(todo))
        finally:
            client.close()
            if scheduler is None and client.cluster is not None:
                client.cluster.close()
    table = pd.DataFrame(rows).sort_values("variant").reset_index(drop=True)
    if "error" not in table.columns:
        table["error"] = ""
    table["error"] = table["error"].fillna("")
    return table
