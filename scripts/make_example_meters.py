"""Generate a year of seeded, realistic 15-minute meter files for the example park.

Usage::

    python scripts/make_example_meters.py --seed 2025 --out greenlink-meters
    python scripts/make_example_meters.py --print-toml   # the [[meters]] tables of park.toml

The park is simulated (``greenlink.workflows.run.run_scenario``) and each meter reads its simulated
flow with 0.2 % Gaussian noise (seeded: the same seed gives identical files). Generator meters read
delivered energy (available minus curtailed). Two files are written:

* ``meters_2025.parquet`` — long layout (``timestamp`` UTC, ``meter_id``, ``value``, ``unit``),
  interval-beginning, every meter but the ground plant (about 0.9 MB);
* ``ground_2025.csv`` — wide layout as a SCADA export: naive local time (Asia/Shanghai),
  interval-ending labels, MWh.

A few faults are planted on purpose (a 2-hour gap, a duplicate, a negative reading, a stuck
meter, a reading 1000× too high); ``greenlink ingest`` must report each of them. See
:mod:`greenlink.metering.synthetic` for the exact list. The files are not committed: tests and
the demo generate them on the fly (about 5 s).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from greenlink.cli.main import example_dir
from greenlink.metering.synthetic import meters_toml, write_example_meter_files
from greenlink.scenario.load import load_scenario
from greenlink.workflows.run import run_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, default=Path("greenlink-meters"))
    parser.add_argument("--scenario", type=Path, default=example_dir() / "park.toml")
    parser.add_argument("--no-faults", action="store_true")
    parser.add_argument("--print-toml", action="store_true")
    args = parser.parse_args()
    scenario = load_scenario(args.scenario).scenario
    if args.print_toml:
        print(meters_toml(scenario))
        return
    flows = run_scenario(args.scenario).flows
    for path in write_example_meter_files(scenario, flows, args.out, seed=args.seed,
                                          faults=not args.no_faults):
        print(path)


if __name__ == "__main__":
    main()
