"""Generate the seeded hourly load of the starter park ``greenlink init`` writes.

Usage::

    python scripts/make_minimal_load.py --out src/greenlink/examples/minimal/series/load.csv

One factory near Nanjing (Asia/Shanghai), calendar year 2025, 8,760 hourly rows:
``interval_start`` (ISO 8601 with +08:00, interval beginning) and ``factory_kw`` (mean power
over the hour, kW, one decimal). Base 700 kW around the clock (furnaces, compressors, cooling),
plus 800 kW on the day shift 08-20 h Monday to Saturday (half of it on Sundays), a lunch dip,
summer cooling up to 150 kW and 3 % noise from ``default_rng(seed)``. Synthetic, not metered;
the same seed gives a byte-identical file.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd


def factory_kw(index: pd.DatetimeIndex, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    hour = index.hour.to_numpy()
    weekday = index.day_of_week.to_numpy()
    day_shift = ((hour >= 8) & (hour < 20)).astype(float)
    shift = np.where(weekday == 6, 0.5, 1.0) * day_shift
    lunch = np.where(hour == 12, 0.75, 1.0)
    month = index.month.to_numpy()
    cooling = 150.0 * np.clip(np.cos((month - 7.5) / 12 * 2 * np.pi), 0, None)
    load = 700.0 + 800.0 * shift * lunch + cooling * (0.5 + 0.5 * day_shift)
    return np.round(load * (1 + 0.03 * rng.standard_normal(len(index))), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    index = pd.date_range("2025-01-01", "2026-01-01", freq="60min", inclusive="left",
                          tz="Asia/Shanghai")
    table = pd.DataFrame({"interval_start": [t.isoformat() for t in index],
                          "factory_kw": factory_kw(index, args.seed)})
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, lineterminator="\n")


if __name__ == "__main__":
    main()
