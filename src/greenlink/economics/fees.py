"""Direct-line fees (绿电直连) from data: T&D capacity charge, per-kWh fees, funds.

The numbers live in ``greenlink/data/fees/<province>.toml`` (see its ``SOURCES.md``); this module
only reads them and applies the formulas.

When a fee applies: **from its effective date**, by day. A per-kWh fee is charged on the energy
of the intervals whose local date is on or after ``effective_from`` (a fee effective on the 15th
is charged on the energy from the 15th on); a monthly charge (the T&D capacity charge) is charged
pro rata to the days of the month in effect (:func:`days_in_effect`). For planning, a fee may
instead be judged at one date for the whole month (``as_of``: in effect for the month when
``effective_from <= as_of``), which is what :func:`per_kwh_in_effect` and
:func:`capacity_price_in_effect` do.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import numpy as np
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from greenlink import flows
from greenlink.tomlfile import load_toml, validate_toml_data

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


def _member_of(keys: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value not in keys:
            raise ValueError(f"unknown value {value!r}, expected {_one_of(keys)}")
        return value
    return AfterValidator(check)


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
        """In effect on ``as_of`` (planning: the whole month judged at one date; settlement
        charges from the effective day, see :func:`days_in_effect`)."""
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
        """In effect on ``as_of`` (planning: the whole month judged at one date; settlement
        charges from the effective day, see :func:`days_in_effect`)."""
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


_NonNegativeDecimal = Annotated[Decimal, Field(ge=0)]


class _FileModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _CapacityChargeFile(_FileModel):
    """``[td_capacity]`` of a fee file."""

    effective_from: date
    policy_capacity_price_per_kw_month: _NonNegativeDecimal
    energy_td_price_per_kwh: _NonNegativeDecimal
    average_load_rate: _NonNegativeDecimal
    hours_per_month: _NonNegativeDecimal = Decimal(730)
    allocation: Annotated[AllocationKey, _member_of(ALLOCATION_KEYS)] = flows.USER_GRID_KWH
    confidence: str = ""


class _EnergyFeeFile(_FileModel):
    """One ``[[energy_fees]]`` entry of a fee file."""

    id: str
    name: str | None = None
    name_zh: str = ""
    base: Annotated[FeeBase, _member_of(FEE_BASES)]
    price_per_kwh: _NonNegativeDecimal
    effective_from: date
    confidence: str = ""


class _FeeFile(_FileModel):
    """A fee file (``data/fees/CN-JS.toml`` shows every key)."""

    province: str = ""
    currency: str = "CNY"
    source: str = ""
    td_capacity: _CapacityChargeFile | None = None
    energy_fees: list[_EnergyFeeFile] = Field(default_factory=list)


_EXPECTED_FILE = "a TOML file like data/fees/CN-JS.toml"


def _schedule(raw: _FeeFile, file: str) -> FeeSchedule:
    td = raw.td_capacity
    return FeeSchedule(
        province=raw.province, currency=raw.currency, source=raw.source, file=file,
        td_capacity=None if td is None else CapacityCharge(**td.model_dump()),
        energy_fees=tuple(EnergyFee(**{**f.model_dump(), "name": f.name or f.id})
                          for f in raw.energy_fees))


def parse_fee_schedule(data: dict[str, Any], file: str) -> FeeSchedule:
    """Validate a fee TOML table; every problem names the file and key."""
    return _schedule(validate_toml_data(data, _FeeFile, name=file), file)


def load_fee_schedule(province: str | None = None, path: str | Path | None = None) -> FeeSchedule:
    """Fee schedule of a province (shipped data) or from a TOML file.

    Parameters
    ----------
    province : ISO 3166-2 code such as ``CN-JS``; provinces without a file get ``default.toml``.
    path : a user TOML file with the same keys; takes precedence over ``province``.
    """
    if path is not None:
        file = Path(path)
    else:
        folder = _fees_folder()
        file = folder / f"{province}.toml"
        if not province or not file.is_file():
            file = folder / "default.toml"
    raw = load_toml(file, _FeeFile, kind="fee file", expected=_EXPECTED_FILE)
    return _schedule(raw, str(file))


def no_fees(currency: str) -> FeeSchedule:
    """An empty schedule (no direct-line fees), e.g. for studies without them."""
    return FeeSchedule(province="", currency=currency, source="no fees", file="none",
                       td_capacity=None, energy_fees=())


def per_kwh_in_effect(schedule: FeeSchedule, as_of: date) -> dict[FeeBase, Decimal]:
    """Sum of the per-kWh fees in effect at ``as_of``, by base (every base present, 0 if none).

    What settlement bills per kWh of each base for a month judged at ``as_of``, as one price.
    """
    out: dict[FeeBase, Decimal] = {base: Decimal(0) for base in FEE_BASES}
    for fee in schedule.energy_fees:
        if fee.in_effect(as_of):
            out[fee.base] += fee.price_per_kwh
    return out


def capacity_price_in_effect(schedule: FeeSchedule, as_of: date) -> Decimal:
    """T&D capacity charge per kW of connection capacity for a month judged at ``as_of``."""
    td = schedule.td_capacity
    return td.price_per_kw_month if td is not None and td.in_effect(as_of) else Decimal(0)


def in_effect_mask(effective_from: date, days: Sequence[date] | np.ndarray) -> np.ndarray:
    """Per interval (its local date): the fee is in effect that day."""
    return np.fromiter((d >= effective_from for d in days), dtype=bool, count=len(days))


def days_in_effect(effective_from: date, first: date, days_in_month: int) -> int:
    """Days of the month starting ``first`` (``days_in_month`` long) on or after the effective
    date: 0 before it, ``days_in_month`` once in effect for the whole month."""
    offset = (effective_from - first).days
    return min(max(days_in_month - offset, 0), days_in_month)


def capacity_charge_month(charge: CapacityCharge, connection_capacity_kw: float) -> Decimal:
    """Monthly T&D capacity charge of the park [currency/month], not yet rounded.

    ``(policy capacity price + energy T&D price × average load rate × 730 h) × capacity``.
    """
    return charge.price_per_kw_month * Decimal(str(connection_capacity_kw))
