"""Statements (per user and month) and the EnergyTag GC export.

A statement puts side by side, for one beneficiary and one calendar month (park time zone):

* matched green energy from the meters, hour by hour (``greenlink.metering.actuals``):
  ``Σ_h green_kwh``, the user's load and the hourly matched share ``Σ green / Σ load``;
* the certificates claimed (cancelled) for the beneficiary whose production hour lies in that
  month, by purpose, in Wh, with their bundle ids and id ranges, the claims they belong to and
  the China GEC serials behind each (as the claim stored them).

Claims are within the matched energy when they do not exceed ``Σ_h kwh_to_wh(green_kwh_h)``:
the whole Wh of each hour by :func:`greenlink.units.kwh_to_wh`, the rule of issuance and claims.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink import jsonio
from greenlink.certificates.claims import serial_text
from greenlink.certificates.models import CLAIMED
from greenlink.certificates.registry import Registry
from greenlink.metering.actuals import HOUR_START, MATCHED_GREEN_KWH, MATCHED_LOAD_KWH
from greenlink.units import kwh_to_wh

#: Key of the consumption [kWh] in a statement (JSON), of the whole user and of each line.
LOAD_KWH = MATCHED_LOAD_KWH

EXPORT_FIELDS = [
    "id", "issuance_id", "hash", "certificate_bundle_status", "account_id", "metadata_id",
    "beneficiary", "claim_purpose", "certificate_bundle_id_range_start",
    "certificate_bundle_id_range_end", "bundle_quantity", "face_value", "energy_carrier",
    "energy_source", "issuance_post_energy_carrier_conversion",
    "emissions_factor_production_device", "emissions_factor_source", "device_id",
    "production_starting_interval", "production_ending_interval", "issuance_datestamp",
    "expiry_datestamp", "is_storage", "sdr_allocation_id", "storage_efficiency_factor",
    "is_deleted",
]


def export_bundles(registry: Registry, path: Path, *, status: str | None = None,
                   account_id: str | None = None) -> int:
    """Write bundles with the EnergyTag / FEA field names as ``.json`` or ``.csv``; count."""
    frame = registry.bundles(status=status, account_id=account_id)[EXPORT_FIELDS]
    for col in ("production_starting_interval", "production_ending_interval"):
        frame[col] = pd.to_datetime(frame[col], utc=True).map(lambda t: t.isoformat())
    for col in ("issuance_datestamp", "expiry_datestamp"):
        frame[col] = frame[col].astype(str)
    tmp = path.with_name(path.name + ".tmp")
    if path.suffix == ".json":
        tmp.write_text(jsonio.dumps({"standard": "EnergyTag Granular Certificate Scheme "
                                     "Standard (2024); field names of the FEA registry "
                                     "GranularCertificateBundle",
                                     "bundles": jsonio.records(frame)}, indent=1))
    else:
        frame.to_csv(tmp, index=False)
    tmp.replace(path)
    return len(frame)


def monthly_statement(registry: Registry, matched: pd.DataFrame, *, user_id: str,
                      month: str, timezone: str) -> dict[str, Any]:
    """Statement of one user and month (``month`` as ``YYYY-MM``).

    ``matched`` is :func:`greenlink.metering.actuals.hourly_matched` output.
    """
    start = pd.Timestamp(f"{month}-01", tz=timezone)
    end = start + pd.offsets.MonthBegin(1)
    rows = matched[(matched["user_id"] == user_id)
                   & (matched[HOUR_START] >= start) & (matched[HOUR_START] < end)]
    whole = rows[rows["production_line"] == ""]
    load = float(whole[MATCHED_LOAD_KWH].sum())
    green = float(whole[MATCHED_GREEN_KWH].sum())
    green_wh = int(kwh_to_wh(whole[MATCHED_GREEN_KWH].to_numpy(dtype=float)).sum())
    lines = (rows[rows["production_line"] != ""].groupby("production_line")[
        [MATCHED_LOAD_KWH, MATCHED_GREEN_KWH]].sum())
    bundles = registry.bundles(status=CLAIMED)
    if len(bundles):
        t = pd.to_datetime(bundles["production_starting_interval"], utc=True)
        bundles = bundles[(bundles["beneficiary"] == user_id) & (t >= start) & (t < end)]
    by_purpose = (bundles.groupby("claim_purpose")["bundle_quantity"].sum().astype(int)
                  .to_dict() if len(bundles) else {})
    parts = registry.claims(beneficiary=user_id)
    if len(parts):
        parts = parts[parts["bundle_id"].isin(set(bundles["id"].astype(int)))]
    return {
        "user_id": user_id, "month": month, "timezone": timezone,
        "metered": {LOAD_KWH: load, "matched_green_kwh": green,
                    "hourly_matched_share": green / load if load > 0 else 0.0,
                    "production_lines": {str(k): {LOAD_KWH: float(v[MATCHED_LOAD_KWH]),
                                                  "matched_green_kwh": float(
                                                      v[MATCHED_GREEN_KWH])}
                                         for k, v in lines.iterrows()}},
        "certificates": {"claimed_wh": int(bundles["bundle_quantity"].sum()) if len(bundles)
                         else 0, "by_purpose_wh": {str(k): int(v) for k, v in
                                                    by_purpose.items()},
                         "bundles": _bundle_list(bundles, parts),
                         "claims": _claim_list(parts)},
        "claims_within_matched_energy": (int(bundles["bundle_quantity"].sum())
                                         if len(bundles) else 0) <= green_wh,
    }


def _bundle_list(bundles: pd.DataFrame, parts: pd.DataFrame) -> list[dict[str, Any]]:
    records: list[dict[Any, Any]] = bundles.to_dict(orient="records")
    of = {int(r["bundle_id"]): r for r in parts.to_dict(orient="records")}
    out = []
    for b in records:
        part = of.get(int(b["id"]))
        serials = json.loads(part["gec_serials"]) if part else []
        out.append({"id": int(b["id"]), "device_id": str(b["device_id"]),
                    "hour_start_utc": pd.Timestamp(b["production_starting_interval"]).isoformat(),
                    "range": [int(b["certificate_bundle_id_range_start"]),
                              int(b["certificate_bundle_id_range_end"])],
                    "wh": int(b["bundle_quantity"]), "purpose": str(b["claim_purpose"]),
                    "claim_id": str(part["claim_id"]) if part else None,
                    "gec_serials": serials})
    return out


def _claim_list(parts: pd.DataFrame) -> list[dict[str, Any]]:
    """The claims behind the month's certificates, with the GEC serials behind each."""
    out = []
    for cid, rows in parts.groupby("claim_id", sort=False):
        serials = [x for text in rows["gec_serials"] for x in json.loads(text)]
        first = rows.iloc[0]
        out.append({"claim_id": str(cid), "purpose": str(first["purpose"]),
                    "operation": str(first["operation"]),
                    "event_seq": int(first["created_event_seq"]),
                    "wh": int(rows["wh"].sum()), "bundles": len(rows),
                    "gec_serials": serials, "gec_serial_text": serial_text(serials)})
    return out


def statement_html(statement: dict[str, Any]) -> str:
    """A small self-contained HTML page of a statement."""
    e = html.escape
    m = statement["metered"]
    c = statement["certificates"]
    lines = "".join(f"<tr><td>{e(k)}</td><td>{v[LOAD_KWH]:,.1f}</td>"
                    f"<td>{v['matched_green_kwh']:,.1f}</td></tr>"
                    for k, v in m["production_lines"].items())
    purposes = "".join(f"<tr><td>{e(k)}</td><td>{v:,}</td></tr>"
                       for k, v in c["by_purpose_wh"].items())
    claims = "".join(f"<tr><td>{e(x['claim_id'])}</td><td>{e(x['purpose'])}</td>"
                     f"<td>{x['wh']:,}</td><td>{e(x['gec_serial_text'] or '—')}</td></tr>"
                     for x in c.get("claims", []))
    return f"""<!doctype html><html><head><meta charset="utf-8">
<title>Green energy statement {e(statement['user_id'])} {e(statement['month'])}</title>
<style>body{{font-family:sans-serif;max-width:50em;margin:2em auto}}td,th{{padding:.2em .8em;
text-align:right}}td:first-child,th:first-child{{text-align:left}}</style></head><body>
<h1>Green energy statement</h1>
<p>User <b>{e(statement['user_id'])}</b>, month <b>{e(statement['month'])}</b>
({e(statement['timezone'])}).</p>
<h2>Metered, matched hour by hour</h2>
<table><tr><th>quantity</th><th>kWh</th></tr>
<tr><td>consumption</td><td>{m[LOAD_KWH]:,.1f}</td></tr>
<tr><td>matched green energy</td><td>{m['matched_green_kwh']:,.1f}</td></tr>
<tr><td>hourly matched share</td><td>{m['hourly_matched_share']:.1%}</td></tr></table>
{'<h3>Production lines</h3><table><tr><th>line</th><th>load kWh</th><th>green kWh</th></tr>'
 + lines + '</table>' if lines else ''}
<h2>Granular certificates claimed</h2>
<p>{c['claimed_wh']:,} Wh in {len(c['bundles'])} bundle(s);
claims within matched energy: <b>{statement['claims_within_matched_energy']}</b>.</p>
<table><tr><th>purpose</th><th>Wh</th></tr>{purposes}</table>
{'<h3>Claims and the GEC serials behind them</h3><table><tr><th>claim</th><th>purpose</th>'
 '<th>Wh</th><th>GEC serials</th></tr>' + claims + '</table>' if claims else ''}
</body></html>
"""
