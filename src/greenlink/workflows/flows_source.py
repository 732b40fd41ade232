"""Read flows or simulate: the one way a workflow gets the flows table of a scenario.

A file given by the user (``--flows``: a previous run's ``flows.parquet``/``flows.csv``, or the
metering module's allocated table) is read by :func:`greenlink.flows.read_flows` and checked by
:func:`greenlink.flows.validate_flows` against the scenario (its users, zone and interval)
before any stage sees it; with no file the scenario is simulated.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pandas as pd

from greenlink import flows
from greenlink.scenario.load import LoadedScenario

Progress = Callable[[str], None]


@dataclass(frozen=True)
class ScenarioFlows:
    """A scenario's flows table and where it came from."""

    table: pd.DataFrame
    source: Literal["file", "simulated"]
    path: Path | None = None


def read_scenario_flows(loaded: LoadedScenario, path: str | Path,
                        users: Sequence[str] | None = None) -> pd.DataFrame:
    """A flows file in the scenario's zone, checked by :func:`greenlink.flows.validate_flows`
    against the scenario: its interval length, every park column, the load and green columns of
    ``users`` (default: every user of the scenario), every column finite, not negative and
    plausible, and the relations between them (balance, users' sums where all users are there).
    """
    sc = loaded.scenario
    who = list(sc.user_ids if users is None else users)
    table = flows.read_flows(path, sc.site.timezone)
    return flows.validate_flows(table, sc.user_ids, required=flows.required_columns(who),
                                timezone=sc.site.timezone,
                                interval_minutes=sc.time.interval_minutes, file=str(path))


def scenario_flows(loaded: LoadedScenario, flows_path: str | Path | None = None,
                   progress: Progress | None = None) -> ScenarioFlows:
    """Flows from a file (checked), or simulated from the scenario when no file is given."""
    if flows_path is not None:
        return ScenarioFlows(read_scenario_flows(loaded, flows_path), "file", Path(flows_path))
    from greenlink.dispatch.simulate import simulate
    from greenlink.inputs import build_inputs

    say = progress or (lambda _m: None)
    inputs = build_inputs(loaded, progress=say)
    say("simulating the year (no flows file given)")
    return ScenarioFlows(simulate(inputs), "simulated")
