"""Run many optimisation variants and collect one tidy table: in this process when that is
faster, on Dask when the sweep is large enough to pay for a cluster.

The base scenario's inputs (loads, modelled generation) are built once and shared with the
workers; a variant that changes only ``optimize``, ``grid``, ``policy`` or a plant's
``max_capacity_kw_dc`` reuses them, any other change re-models its inputs on the worker.

Engine (``scheduler``): an address runs on that Dask cluster; ``"local"`` in this process;
``None`` (the default) decides: the first variant runs here and its time is measured; the rest
go to a local Dask cluster only where the machine has cores to spare and the estimate with the
cluster's start-up (:data:`CLUSTER_START_S`) beats running them here (:func:`choose_engine`).
"""

from __future__ import annotations

import os
import time
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
        start = time.perf_counter()
        result = optimize_park(variant_park, resimulate_check=False)
        seconds = time.perf_counter() - start
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
        "binding": "; ".join(b["message"] for b in result.binding),
        "relaxations": "; ".join(r.message for r in result.relaxations),
        "gap": result.gap if result.gap is not None else 0.0,
        "seconds": seconds,
        "error": "",
    })
    return row


#: Seconds a local Dask cluster takes to start and warm its workers (processes that import
#: greenlink and receive the shared inputs), measured on a 2-core machine.
CLUSTER_START_S = 20.0
#: A local cluster needs at least this many cores (one stays for the scheduler and this
#: process; on fewer the workers only take turns).
MIN_CORES = 4


def choose_engine(remaining: int, seconds_each: float, cores: int | None = None,
                  workers: int | None = None) -> tuple[str, int, str]:
    """("here" or "cluster", workers, why) for ``remaining`` variants of ``seconds_each``."""
    cores = cores if cores is not None else (os.cpu_count() or 1)
    n = workers if workers is not None else max(min(cores - 1, remaining), 1)
    here = remaining * seconds_each
    if remaining <= 1:
        return "here", 1, "one variant left"
    if workers is None and cores < MIN_CORES:
        return "here", 1, (f"{cores} cores: a local Dask cluster would only take turns with "
                           "this process")
    there = CLUSTER_START_S + remaining * seconds_each / n
    if workers is None and there >= here:
        return "here", 1, (f"{remaining} variants of {seconds_each:.0f} s: {here:.0f} s here, "
                           f"about {there:.0f} s on a local cluster of {n}")
    return "cluster", n, (f"{remaining} variants of {seconds_each:.0f} s: about {there:.0f} s on "
                          f"a local cluster of {n} workers, {here:.0f} s here")


def _client(scheduler: str | None, workers: int | None) -> Any:
    from distributed import Client, LocalCluster

    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                           dashboard_address=None)
    return Client(cluster)


def run_sweep(source: str | Path | LoadedScenario, params: list[tuple[str, list[Any]]], *,
              scheduler: str | None = None, workers: int | None = None,
              progress: Progress | None = None,
              engine_note: Callable[[str], None] | None = None) -> pd.DataFrame:
    """Optimise every combination of ``params``; one row per variant, in variant order.

    Parameters
    ----------
    source
        Scenario file (or loaded scenario).
    params
        ``[(path, [values...]), ...]`` as from :func:`greenlink.scenario.variants.parse_param`.
    scheduler
        ``None``: choose (see the module text); ``"local"``: run in this process without Dask;
        otherwise the address of a running Dask scheduler (``tcp://host:8786``).
    workers
        Local cluster size (given: a local cluster is used once the first variant ran).
    progress
        Called with (done, total) after each variant.
    engine_note
        Told which engine runs the variants, and why.
    """
    loaded = source if isinstance(source, LoadedScenario) else load_scenario(source)
    park = build_inputs(loaded)
    todo = variants(params)
    for changes in todo:  # fail fast on a bad path or value, before starting a cluster
        apply_params(park.scenario, changes)
    say = progress or (lambda _d, _t: None)
    note = engine_note or (lambda _m: None)
    rows: list[dict[str, Any]] = []
    pending = list(enumerate(todo))
    engine, n_workers = "here", 1
    if scheduler not in (None, "local"):
        engine = "remote"
        note(f"{len(todo)} variants on the Dask scheduler {scheduler}")
    elif scheduler == "local":
        note(f"{len(todo)} variants in this process")
    else:
        start = time.perf_counter()
        i, changes = pending.pop(0)
        rows.append(run_variant(park, changes, i))
        say(len(rows), len(todo))
        engine, n_workers, why = choose_engine(len(pending), time.perf_counter() - start,
                                               workers=workers)
        if pending:
            note(("the other variants on a local Dask cluster: " if engine == "cluster"
                  else "the other variants in this process: ") + why)
    if engine == "here":
        for i, changes in pending:
            rows.append(run_variant(park, changes, i))
            say(len(rows), len(todo))
    elif pending:
        from distributed import as_completed

        client = _client(scheduler if engine == "remote" else None, n_workers)
        try:
            shared = client.scatter(park, broadcast=True)
            futures = [client.submit(run_variant, shared, changes, i, pure=False)
                       for i, changes in pending]
            for future in as_completed(futures):
                rows.append(future.result())
                say(len(rows), len(todo))
        finally:
            client.close()
            if engine == "cluster" and client.cluster is not None:
                client.cluster.close()
    table = pd.DataFrame(rows).sort_values("variant").reset_index(drop=True)
    if "error" not in table.columns:
        table["error"] = ""
    table["error"] = table["error"].fillna("")
    return table
