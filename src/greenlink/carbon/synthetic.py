"""Deterministic synthetic batches and shipments (example park data, tests, benchmark).

Batches run back to back on each line over a period; shipments take consecutive batches of one
SKU for a rotating list of customers. Seeded, so the files it writes are reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd


def synthetic_batches(lines: Mapping[str, tuple[str, float]], start: str, end: str, tz: str,
                      batch_hours: float, seed: int = 1) -> pd.DataFrame:
    """Back-to-back batches on every line between ``start`` and ``end``.

    Parameters
    ----------
    lines : mapping line id → (SKU, tonnes per hour)
    start, end : str
        ISO date-times (naive: in ``tz``).
    batch_hours : float
        Length of every batch; tonnes vary ±10 % around the line rate (seeded).

    Returns
    -------
    DataFrame
        ``batch_id, process, sku, start, end, tonnes``.
    """
    rng = np.random.default_rng(seed)
    t0 = pd.Timestamp(start, tz=tz)
    t1 = pd.Timestamp(end, tz=tz)
    step = pd.Timedelta(seconds=round(batch_hours * 3600))
    n = int((t1 - t0) / step)
    frames = []
    for line, (sku, rate) in lines.items():
        starts = t0 + step * np.arange(n)
        tonnes = rate * batch_hours * rng.uniform(0.9, 1.1, n)
        frames.append(pd.DataFrame({
            "batch_id": [f"{line}-{i:05d}" for i in range(n)], "process": line, "sku": sku,
            "start": starts, "end": starts + step,
            "tonnes": np.round(tonnes, 3)}))
    return pd.concat(frames, ignore_index=True)


def synthetic_shipments(batches: pd.DataFrame, customers: Sequence[str],
                        cn_codes: Mapping[str, str], batches_per_shipment: int, year: int,
                        importer: str = "", seed: int = 2) -> pd.DataFrame:
    """Shipments of consecutive batches of one SKU, customers in rotation, dated in ``year``.

    Each shipment ships 95 % of its batches' tonnes.
    """
    rng = np.random.default_rng(seed)
    rows = []
    k = 0
    for sku, group in batches.groupby("sku", sort=True):
        ids = list(group["batch_id"])
        tonnes = list(group["tonnes"])
        for i in range(0, len(ids) - batches_per_shipment + 1, batches_per_shipment):
            day = pd.Timestamp(year=year, month=1, day=1) + pd.Timedelta(
                days=int(rng.integers(0, 365)))
            rows.append({
                "shipment_id": f"S{k:05d}", "customer": customers[k % len(customers)],
                "sku": sku, "cn_code": cn_codes[str(sku)],
                "tonnes": round(0.95 * sum(tonnes[i:i + batches_per_shipment]), 3),
                "batches": ";".join(ids[i:i + batches_per_shipment]),
                "date": day.strftime("%Y-%m-%d"), "importer": importer})
            k += 1
    return pd.DataFrame(rows)
