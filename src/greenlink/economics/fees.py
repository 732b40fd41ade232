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
from typing import Any, Literal

from greenlink.errors import InputError, Problem

FeeBase = Literal["grid_kwh", "load_kwh", "green_kwh"]
AllocationKey = Literal["grid_kwh", "load_kwh", "peak_kw"]


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

    def in_effect(self, as_of: date) -> bool:
        """Charged for a month judged at ``as_of`` (settlement: the month's first day)."""
        return as_of >= self.effective_from


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

    def in_effect(self, as_of: date) -> bool:
        """Charged for a month judged at ``as_of`` (settlement: the month's first day)."""
        return as_of >= self.effective_from


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
            allocation = td_raw.get("allocation", "grid_kwh")
            if allocation not in ("grid_kwh", "load_kwh", "peak_kw"):
                raise InputError(Problem(f"unknown allocation {allocation!r}", file=file,
                                         location="td_capacity.allocation",
                                         expected="grid_kwh, load_kwh or peak_kw"))
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
            if base not in ("grid_kwh", "load_kwh", "green_kwh"):
                raise InputError(Problem(f"unknown base {base!r}", file=file,
                                         location=f"energy_fees[{i}].base",
                                         expected="grid_kwh, load_kwh or green_kwh"))
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


def no_fees(currency: str) -> FeeSchedule:
    """An empty schedule (no direct-line fees), e.g. for studies without them."""
    return FeeSchedule(province="", currency=currency, source="no fees", file="none",
                       td_capacity=None, energy_fees=())


def per_kwh_in_effect(schedule: FeeSchedule, as_of: date) -> dict[FeeBase, Decimal]:
    """Sum of the per-kWh fees in effect at ``as_of``, by base (every base present, 0 if none).

    What settlement bills per kWh of each base for a month judged at ``as_of``, as one price.
    """
    out: dict[FeeBase, Decimal] = {"grid_kwh": Decimal(0), "load_kwh": Decimal(0),
                                   "green_kwh": Decimal(0)}
    for fee in schedule.energy_fees:
        if fee.in_effect(as_of):
            out[fee.base] += fee.price_per_kwh
    return out


def capacity_price_in_effect(schedule: FeeSchedule, as_of: date) -> Decimal:
    """T&D capacity charge per kW of connection capacity for a month judged at ``as_of``."""
    td = schedule.td_capacity
    return td.price_per_kw_month if td is not None and td.in_effect(as_of) else Decimal(0)


def capacity_charge_month(charge: CapacityCharge, connection_capacity_kw: float) -> Decimal:
    """Monthly T&D capacity charge of the park [currency/month], not yet rounded.

    ``(policy capacity price + energy T&D price × average load rate × 730 h) × capacity``.
    """
    return charge.price_per_kw_month * Decimal(str(connection_capacity_kw))
