"""Direct-line fees (绿电直连) from data: T&D capacity charge, per-kWh fees, funds.

The numbers live in ``greenlink/data/fees/<province>.toml`` (see its ``SOURCES.md``); this module
only reads them and applies the formulas.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from greenlink import flows
from greenlink.errors import InputError, Problem

#: A per-kWh fee is charged on one of the tenant's metered quantities (the per-user flows
#: quantities: grid import, all consumption, green energy).
FeeBase = str
FEE_BASES: tuple[FeeBase, ...] = (flows.USER_GRID_KWH, flows.USER_LOAD_KWH, flows.USER_GREEN_KWH)
#: The tenants' peak demand in the month [kW], a key of the T&D capacity charge's allocation.
PEAK_KW = "peak_kw"
#: The T&D capacity charge is shared out over tenants by grid import, consumption or peak.
AllocationKey = str
ALLOCATION_KEYS: tuple[AllocationKey, ...] = (flows.USER_GRID_KWH, flows.USER_LOAD_KWH, PEAK_KW)


def _one_of(keys: tuple[str, ...]) -> str:
    """``a, b or c``."""
    return ", ".join(keys[:-1]) + " or " + keys[-1]


@dataclass(frozen=True)
class CapacityCharge:
    """Capacity-based T&D charge of NDRC pricing notice 1192 (parameters, all per month)."""

    effective_from: date
    policy_capacity_price_per_kw_month: Decimal
    energy_td_price_per_kwh: Decimal
    average_load_rate: Decimal
    hours_per_month: Decimal
    allocation: AllocationKey
    confidence: str

    @property
    def price_per_kw_month(self) -> Decimal:
        r"""Charge per kW of connection capacity and month [CNY/(kW·month)].

        Notes
        -----
        .. math:: p = p_\mathrm{cap} + p_\mathrm{TD} \cdot \lambda \cdot 730\,\mathrm{h}

        with :math:`p_\mathrm{cap}` the policy capacity price, :math:`p_\mathrm{TD}` the
        voltage-level energy T&D price and :math:`\lambda` the average load rate.
        """
        return (self.policy_capacity_price_per_kw_month
                + self.energy_td_price_per_kwh * self.average_load_rate * self.hours_per_month)


@dataclass(frozen=True)
class EnergyFee:
    """A fee per kWh of some energy base (grid import, all consumption, green energy)."""

    id: str
    name: str
    name_zh: str
    base: FeeBase
    price_per_kwh: Decimal
    effective_from: date
    confidence: str


@dataclass(frozen=True)
class FeeSchedule:
    province: str
    currency: str
    source: str
    file: str
    td_capacity: CapacityCharge | None
    energy_fees: tuple[EnergyFee, ...]


def _fees_folder() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "fees"))


def _dec(raw: Any, file: str, where: str) -> Decimal:
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        raise InputError(Problem(f"{raw!r} is not a number", file=file, location=where,
                                 expected="a number"))
    value = Decimal(str(raw))
    if value < 0:
        raise InputError(Problem(f"{raw} is negative", file=file, location=where,
                                 expected="a non-negative number"))
    return value


def _date(raw: Any, file: str, where: str) -> date:
    if isinstance(raw, date):
        return raw
    raise InputError(Problem(f"{raw!r} is not a date", file=file, location=where,
                             expected="a TOML date such as 2025-10-01"))


def parse_fee_schedule(data: dict[str, Any], file: str) -> FeeSchedule:
    """Validate a fee TOML table; every problem names the file and key."""
    try:
        td_raw = data.get("td_capacity")
        td = None
        if td_raw is not None:
            allocation = td_raw.get("allocation", flows.USER_GRID_KWH)
            if allocation not in ALLOCATION_KEYS:
                raise InputError(Problem(f"unknown allocation {allocation!r}", file=file,
                                         location="td_capacity.allocation",
                                         expected=_one_of(ALLOCATION_KEYS)))
            td = CapacityCharge(
                effective_from=_date(td_raw.get("effective_from"), file,
                                     "td_capacity.effective_from"),
                policy_capacity_price_per_kw_month=_dec(
                    td_raw["policy_capacity_price_per_kw_month"], file,
                    "td_capacity.policy_capacity_price_per_kw_month"),
                energy_td_price_per_kwh=_dec(td_raw["energy_td_price_per_kwh"], file,
                                             "td_capacity.energy_td_price_per_kwh"),
                average_load_rate=_dec(td_raw["average_load_rate"], file,
                                       "td_capacity.average_load_rate"),
                hours_per_month=_dec(td_raw.get("hours_per_month", 730), file,
                                     "td_capacity.hours_per_month"),
                allocation=allocation, confidence=str(td_raw.get("confidence", "")))
        fees = []
        for i, f in enumerate(data.get("energy_fees", [])):
            base = f.get("base")
            if base not in FEE_BASES:
                raise InputError(Problem(f"unknown base {base!r}", file=file,
                                         location=f"energy_fees[{i}].base",
                                         expected=_one_of(FEE_BASES)))
            fees.append(EnergyFee(
                id=str(f["id"]), name=str(f.get("name", f["id"])),
                name_zh=str(f.get("name_zh", "")), base=base,
                price_per_kwh=_dec(f["price_per_kwh"], file, f"energy_fees[{i}].price_per_kwh"),
                effective_from=_date(f.get("effective_from"), file,
                                     f"energy_fees[{i}].effective_from"),
                confidence=str(f.get("confidence", ""))))
        return FeeSchedule(province=str(data.get("province", "")),
                           currency=str(data.get("currency", "CNY")),
                           source=str(data.get("source", "")), file=file, td_capacity=td,
                           energy_fees=tuple(fees))
    except KeyError as exc:
        raise InputError(Problem(f"missing key {exc.args[0]!r}", file=file,
                                 expected="the keys of data/fees/CN-JS.toml")) from None


def load_fee_schedule(province: str | None = None, path: str | Path | None = None) -> FeeSchedule:
    """Fee schedule of a province (shipped data) or from a TOML file.

    Parameters
    ----------
    province : ISO 3166-2 code such as ``CN-JS``; provinces without a file get ``default.toml``.
    path : a user TOML file with the same keys; takes precedence over ``province``.
    """
    if path is not None:
        file = Path(path)
        if not file.is_file():
            raise InputError(Problem("fee file not found", file=str(file),
                                     expected="a TOML file like data/fees/CN-JS.toml"))
    else:
        folder = _fees_folder()
        file = folder / f"{province}.toml"
        if not province or not file.is_file():
            file = folder / "default.toml"
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Problem(f"not valid TOML: {exc}", file=str(file))) from None
    return parse_fee_schedule(data, str(file))


def capacity_charge_month(charge: CapacityCharge, connection_capacity_kw: float) -> Decimal:
    """Monthly T&D capacity charge of the park [currency/month], not yet rounded.

    ``(policy capacity price + energy T&D price × average load rate × 730 h) × capacity``.
    """
    return charge.price_per_kw_month * Decimal(str(connection_capacity_kw))
