"""Sweep outputs: the tidy table (Parquet + CSV) and an HTML report with trade-off plots."""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from greenlink.report.plots import figure_to_svg


def tradeoff_svg(table: pd.DataFrame, benefit: str, label: str) -> str:
    """Scatter of total cost against a green share, Pareto front joined by a line."""
    fig = Figure(figsize=(6.5, 4.0), layout="constrained")
    ax = fig.add_subplot()
    ok = table.dropna(subset=["total_cost", benefit])
    front = pareto_front(ok, benefit=benefit) if len(ok) else pd.Series(dtype=bool)
    if len(ok):
        ax.scatter(100 * ok[benefit], ok["total_cost"] / 1e6, s=18, color="#90a4ae",
                   label="variant")
        best = ok[front].sort_values(benefit)
        ax.plot(100 * best[benefit], best["total_cost"] / 1e6, "-o", color="#2e7d32", ms=4,
                label="Pareto front")
        ax.legend(fontsize=8, frameon=False)
    ax.set_xlabel(f"{label} (%)", fontsize=9)
    ax.set_ylabel("total annual cost (million)", fontsize=9)
    ax.spines[["top", "right"]].set_visible(False)
    return figure_to_svg(fig, f"sweep-{benefit.replace('_', '-')}")


def write_sweep(table: pd.DataFrame, out_dir: str | Path, xlsx: bool = False) -> dict[str, Path]:
    """Write sweep.parquet, sweep.csv and sweep.html (and, with ``xlsx``, sweep.xlsx: units in
    the second, frozen header row) into ``out_dir`` (all or nothing)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".greenlink-sweep-", dir=out))
    try:
        table = table.copy()
        if "total_cost" in table.columns:
            table["pareto"] = pareto_front(table)
        table.to_parquet(tmp / "sweep.parquet", index=False)
        table.to_csv(tmp / "sweep.csv", index=False, float_format="%.6g")
        plots = ""
        if "total_cost" in table.columns:
            plots = (tradeoff_svg(table, "green_share_of_consumption", "green share of consumption")
                     + tradeoff_svg(table, "hourly_matched_share", "hourly-matched share"))
        body = table.to_html(index=False, float_format=lambda x: f"{x:,.4g}", na_rep="",
                             escape=True, border=0)
        (tmp / "sweep.html").write_text(
            "<!doctype html><html><head><meta charset='utf-8'><title>greenlink sweep</title>"
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;"
            "font-size:12px}td,th{padding:2px 6px;border-bottom:1px solid #ddd}</style></head>"
            f"<body><h1>greenlink sweep: {len(table)} variants</h1>"
            + ("<p>Data: <a href='sweep.xlsx'>sweep.xlsx</a> · <a href='sweep.csv'>sweep.csv</a>"
               "</p>" if xlsx else "") +
            f"<h2>Trade-offs</h2>{plots}<h2>Variants</h2>{body}"
            f"<p>{html.escape('Pareto: no other feasible variant is cheaper and greener.')}</p>"
            "</body></html>", encoding="utf-8")
        names = ["sweep.parquet", "sweep.csv", "sweep.html"]
        if xlsx:
            from greenlink.xlsxfile import Sheet, write_xlsx

            write_xlsx(tmp / "sweep.xlsx", [Sheet("sweep", table, freeze_columns=1)])
            names.append("sweep.xlsx")
        written = {}
        for name in names:
            os.replace(tmp / name, out / name)
            written[name] = out / name
        return written
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pareto_front(table: pd.DataFrame, cost: str = "total_cost",
                 benefit: str = "green_share_of_consumption") -> pd.Series:
    """True for variants no other variant beats on both lower cost and higher benefit."""
    ok = table[[cost, benefit]].notna().all(axis=1)
    if "feasible" in table.columns:
        ok &= table["feasible"].fillna(False).astype(bool)
    c = table[cost].to_numpy(dtype=float)
    b = table[benefit].to_numpy(dtype=float)
    valid = ok.to_numpy()
    flags = []
    for i in range(len(table)):
        dominated = valid & (c <= c[i]) & (b >= b[i]) & ((c < c[i]) | (b > b[i]))
        flags.append(bool(valid[i] and not dominated.any()))
    return pd.Series(flags, index=table.index)
