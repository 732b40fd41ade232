"""The settlement workflow behind ``greenlink settle`` and ``greenlink contracts whatif``.

It ties the stages together (scenario → flows, read from a file and checked, or simulated →
settlement → files) so that the CLI handlers stay a few lines.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.economics.fees import load_fee_schedule
from greenlink.economics.fx import load_fx_series
from greenlink.economics.settlement import (
    BuyerStatement,
    RegistryTransfers,
    Settlement,
    registry_checks,
    settle,
)
from greenlink.economics.statements import FORMATS, write_settlement
from greenlink.errors import InputError, Problem
from greenlink.scenario.load import LoadedScenario, load_scenario
from greenlink.workflows.flows_source import scenario_flows

Progress = Callable[[str], None]


def _flows(loaded: LoadedScenario, flows_path: str | Path | None,
           progress: Progress | None) -> pd.DataFrame:
    return scenario_flows(loaded, flows_path, progress).table


@dataclass(frozen=True)
class SettleRun:
    settlement: Settlement
    files: list[Path]


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(Problem(f"{text!r} is not a date", location=option,
                                 expected="YYYY-MM-DD")) from None


def settle_to_files(scenario_path: str | Path, month: str, out: str | Path,
                    flows_path: str | Path | None = None, fees_path: str | Path | None = None,
                    fees_as_of: str | None = None, formats: Sequence[str] = FORMATS,
                    progress: Progress | None = None, fx_path: str | Path | None = None,
                    registry_url: str | None = None) -> SettleRun:
    """Settle one month of a scenario and write its statements under ``out/<month>/``.

    ``fx_path``: a rate file replacing the shipped PBOC/CFETS central parity series;
    ``registry_url``: a certificate registry to reconcile every buyer statement with
    (:func:`reconcile_with_registry`).
    """
    bad = [f for f in formats if f not in (*FORMATS, XLSX)]
    if bad:
        raise InputError(Problem(f"unknown formats {bad}", location="--format",
                                 expected=", ".join((*FORMATS, XLSX))))
    loaded = load_scenario(scenario_path)
    as_of = parse_date(fees_as_of, "--fees-as-of")
    fees = load_fee_schedule(loaded.scenario.site.province or None, fees_path)
    fx = load_fx_series(fx_path) if fx_path is not None else None
    flows = _flows(loaded, flows_path, progress)
    result = settle(flows, loaded.scenario, month, fees=fees, fees_as_of=as_of, fx=fx)
    if registry_url is not None and result.buyer_statements:
        from greenlink.certificates.db import open_registry

        result = reconcile_with_registry(result, open_registry(registry_url),
                                         loaded.scenario.site.timezone)
    files = write_settlement(result, out, tuple(f for f in formats if f != XLSX))
    if XLSX in formats:
        files = sorted([*files, write_settlement_xlsx(result, Path(out) / result.month)])
    return SettleRun(result, files)


def _month_bounds_utc(month: str, timezone: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    period = pd.Period(month, freq="M")
    start = pd.Timestamp(period.start_time).tz_localize(timezone).tz_convert("UTC")
    end = pd.Timestamp((period + 1).start_time).tz_localize(timezone).tz_convert("UTC")
    return start, end


def registry_transfers(registry: Any, b: BuyerStatement, timezone: str,
                       as_of: date | None = None) -> RegistryTransfers:
    """What the registry shows for a buyer statement's month, through its public queries:
    :func:`greenlink.certificates.received.received_ranges` (granular certificates of the
    seller's device, produced in the month, transferred into the buyer's account or held or
    claimed there now — also those the buyer has moved on since) and
    :func:`greenlink.certificates.gec.gec_entries` +
    :func:`~greenlink.certificates.gec.serial_fates` (GECs whose last record transfers them to,
    or cancels them for, the buyer's label)."""
    from greenlink.certificates import gec as gec_records
    from greenlink.certificates.received import received_ranges, total_wh

    a = b.attributes
    notes: list[str] = []
    device = None if a.seller_device == "park" else a.seller_device
    wh: int | None = None
    ranges: tuple[tuple[int, int], ...] = ()
    if a.registry_account is None:
        notes.append(f"note: {b.buyer_id} names no registry_account: granular certificates "
                     "not reconciled")
    else:
        start, end = _month_bounds_utc(b.month, timezone)
        with registry.sessions() as s:
            by_device = received_ranges(s, a.registry_account, device_id=device,
                                        start=start, end=end)
        wh = sum(total_wh(r) for r in by_device.values())
        ranges = tuple(r for device_ranges in by_device.values() for r in device_ranges)
    count: int | None = None
    serials: tuple[str, ...] = ()
    if a.gec_holder is None:
        notes.append(f"note: {b.buyer_id} names no gec_holder: GECs not reconciled")
    elif device is None:
        notes.append("note: the seller is the park operator's pool: GECs are recorded per "
                     "plant, not reconciled")
    else:
        with registry.sessions() as s:
            entries = gec_records.gec_entries(s, device, b.month)
        fates = gec_records.serial_fates(entries, as_of=as_of or date.today())
        mine = [seg for seg in fates if seg.party == a.gec_holder
                and seg.fate in ("external", "cancelled_external")]
        count = sum(seg.serials.count for seg in mine)
        serials = tuple(str(seg.serials) for seg in mine)
    return RegistryTransfers(wh, ranges, count, serials, tuple(notes))


def reconcile_with_registry(result: Settlement, registry: Any, timezone: str,
                            as_of: date | None = None) -> Settlement:
    """Every buyer statement of ``result`` with its registry reconciliation filled in."""
    statements = tuple(
        replace(b, registry=registry_checks(b, registry_transfers(registry, b, timezone, as_of)))
        for b in result.buyer_statements)
    return replace(result, buyer_statements=statements)


#: The Excel format of ``greenlink settle --format``: one workbook per month.
XLSX = "xlsx"
_DECIMAL_TEXT = re.compile(r"^-?\d+(\.\d+)?$")


def _numbers(record: dict[str, Any]) -> dict[str, Any]:
    """Amounts and quantities (decimal text in the JSON statements) as numbers for Excel."""
    return {k: float(v) if isinstance(v, str) and _DECIMAL_TEXT.match(v) else v
            for k, v in record.items()}


def write_settlement_xlsx(settlement: Settlement, folder: str | Path) -> Path:
    """``settlement.xlsx`` in the month's folder: a ``tenants`` sheet (metered kWh and total per
    tenant), one sheet of statement lines per tenant, one per contract, one per PPA with a buyer
    outside the park (in the contract's currency), and ``buyers``; units in the second, frozen
    header row (money in the settlement's currency unless a sheet says otherwise)."""
    from greenlink.economics.statements import (
        buyer_statement_dict,
        buyers_dict,
        contract_dict,
        settlement_dict,
        statement_dict,
    )
    from greenlink.xlsxfile import records_sheet, write_xlsx

    cur = settlement.currency
    money = {"total": cur, "amount": cur, "unit_price": f"{cur} per unit",
             "quantity": "see unit", "unit": ""}
    summary = settlement_dict(settlement)
    sheets = [records_sheet("tenants", [_numbers(t) for t in summary["tenants"]], units=money,
                            currency=cur, freeze_columns=1)]
    for st in settlement.statements:
        lines = statement_dict(settlement, st)["lines"]
        sheets.append(records_sheet(st.tenant, [_numbers(ln) for ln in lines], units=money,
                                    currency=cur, freeze_columns=2))
    for cid in sorted({ln.contract_id for st in settlement.statements for ln in st.lines
                       if ln.contract_id}):
        lines = contract_dict(settlement, cid)["lines"]
        sheets.append(records_sheet(f"contract {cid}", [_numbers(ln) for ln in lines],
                                    units=money, currency=cur, freeze_columns=1))
    for b in settlement.buyer_statements:  # PPAs with a buyer outside the park
        lines = buyer_statement_dict(settlement, b)["lines"]
        units = {**money, "total": b.currency, "amount": b.currency,
                 "unit_price": f"{b.currency} per unit"}
        sheets.append(records_sheet(f"buyer {b.contract_id}", [_numbers(ln) for ln in lines],
                                    units=units, currency=b.currency, freeze_columns=1))
    periods = buyers_dict(settlement)["periods"]
    if periods:
        sheets.append(records_sheet("buyers", [_numbers(p) for p in periods], currency=cur,
                                    freeze_columns=1))
    return write_xlsx(Path(folder) / "settlement.xlsx", sheets)


def run_whatif(scenario_path: str | Path, variant_paths: Sequence[str | Path],
               flows_path: str | Path | None = None, battery: bool = True,
               fees_as_of: str | None = None, progress: Progress | None = None) -> pd.DataFrame:
    """Compare the scenario's contracts, no contracts and each variant file over the year.

    With ``battery`` (and simulated flows), the park is simulated again without its batteries to
    value them per tenant (``battery_value`` = cost without − cost with).
    """
    from greenlink.economics.whatif import (
        compare_contracts,
        read_variant,
        simulate_without_battery,
        with_contracts,
    )

    loaded = load_scenario(scenario_path)
    sc = loaded.scenario
    as_of = parse_date(fees_as_of, "--fees-as-of")
    fees = load_fee_schedule(sc.site.province or None)
    variants = {"scenario": sc, "no_contracts": with_contracts(sc, [])}
    for path in variant_paths:
        variants[Path(path).stem] = read_variant(path, sc)
    flows = _flows(loaded, flows_path, progress)
    without = None
    if battery and sc.batteries:
        if flows_path is not None:
            raise InputError(Problem("the battery's value needs simulated flows",
                                     location="--flows", expected="no --flows, or --no-battery"))
        without = simulate_without_battery(loaded)
    return compare_contracts(flows, variants, flows_without_battery=without, fees=fees,
                             fees_as_of=as_of)


def contract_rows(scenario_path: str | Path) -> list[dict[str, str]]:
    """One row of text per contract of a scenario (for listing)."""
    from greenlink.scenario.contracts import PPA, BatteryService, contract_currency

    rows = []
    sc = load_scenario(scenario_path).scenario
    for c in sc.contracts:
        term = f"{c.term.start} … {c.term.end}"
        if isinstance(c, PPA):
            v = c.volume
            size = (f"share {v.share:g}" if v.share is not None else
                    f"{v.power_kw:g} kW" if v.power_kw is not None else
                    f"profile ≤ {max(v.profile_kw or [0]):g} kW")
            buyer = (f"{c.buyer_id} ({c.buyer.country}) → {c.tenant}, {c.kind}" if c.overseas
                     and not isinstance(c.buyer, str) else c.buyer_id)
            rows.append({"id": c.id, "type": "ppa", "seller": c.seller, "buyer": buyer,
                         "volume": f"{v.kind} {size}",
                         "price": f"{c.price.kind}, {contract_currency(c, sc)}",
                         "term": term})
        elif isinstance(c, BatteryService):
            rows.append({"id": c.id, "type": "battery_service", "seller": c.battery,
                         "buyer": c.buyer, "volume": "green discharge",
                         "price": f"{c.price_per_kwh:g}/kWh", "term": term})
        else:
            rows.append({"id": c.id, "type": "green_supply", "seller": c.seller,
                         "buyer": f"{c.buyer.id} ({c.buyer.country})",
                         "volume": f"{len(c.shipments)} shipments", "price": "—", "term": term})
    return rows
