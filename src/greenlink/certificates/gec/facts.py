"""Facts about China's GECs (data/gec/facts.toml), production months and serial ranges."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.tomlfile import load_toml

SOLD_AS_CERTIFICATE = "sold_as_certificate"
GecStatus = Literal["issued", "transferred", "cancelled", "expired"]


class GecError(GreenlinkError):
    """A claim the device-month's GECs do not back (none imported, used up, non-tradable…)."""


# ------------------------------------------------------------------------------------- facts


class _Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    source: str
    date: str
    confidence: Literal["HIGH", "MED", "LOW", "ASSUMPTION"]


class _Unit(_Fact):
    mwh_per_certificate: int = Field(gt=0)


class _Issuance(_Fact):
    frequency: str
    basis: str


class _Remainder(_Fact):
    carried_to_next_month: bool


class _Validity(_Fact):
    years: int = Field(gt=0)
    expiry: str
    counted_from: Literal["production_month"]


class _SoleProof(_Fact):
    statement: str


class _ProductionMonth(_Fact):
    timezone: str


class _SerialCode(_Fact):
    digits: int
    layout: str


class TradabilityRule(_Fact):
    """Whether electricity of a category gets tradable GECs (``issued = false``: none)."""

    category: str
    description: str
    tradable: bool | None = None
    issued: bool = True


class GecFacts(BaseModel):
    """``data/gec/facts.toml``: the GEC facts the linking uses, each with its source."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    unit: _Unit
    issuance: _Issuance
    remainder: _Remainder
    validity: _Validity
    sole_proof: _SoleProof
    production_month: _ProductionMonth
    serial_code: _SerialCode
    tradability: list[TradabilityRule]


def data_dir() -> Path:
    """``greenlink/data/gec``: facts, sources and the example mapping."""
    return Path(str(resources.files("greenlink") / "data" / "gec"))


@cache
def gec_facts() -> GecFacts:
    """The shipped GEC facts (``data/gec/facts.toml``)."""
    return load_toml(data_dir() / "facts.toml", GecFacts, kind="GEC facts file",
                     expected="data/gec/facts.toml as shipped with greenlink")


def wh_per_gec() -> int:
    """Wh of one GEC (1 MWh = 1,000,000 Wh)."""
    return gec_facts().unit.mwh_per_certificate * 1_000_000


def gec_timezone() -> str:
    """The time zone whose calendar months are GEC production months (Asia/Shanghai)."""
    return gec_facts().production_month.timezone


# ---------------------------------------------------------------------------- months, serials


def month_start(month: date | str) -> date:
    """First day of a month given as a date (any day of it) or ``YYYY-MM``."""
    if isinstance(month, date):
        return date(month.year, month.month, 1)
    m = re.fullmatch(r"\s*(\d{4})-(\d{1,2})\s*", month)
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise InputError(Problem(f"month {month!r} is not a month", expected="YYYY-MM"))
    return date(int(m.group(1)), int(m.group(2)), 1)


def add_months(month: date, n: int) -> date:
    k = month.year * 12 + month.month - 1 + n
    return date(k // 12, k % 12 + 1, 1)


def month_of(instant: datetime, timezone: str | None = None) -> date:
    """The GEC production month of an instant (a bundle's hour start; naive = UTC)."""
    ts = pd.Timestamp(instant)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    local = ts.tz_convert(timezone or gec_timezone())
    return date(local.year, local.month, 1)


def month_bounds_utc(month: date | str, timezone: str | None = None
                     ) -> tuple[datetime, datetime]:
    """UTC instants ``[start, end)`` of a calendar month of ``timezone``."""
    first = month_start(month)
    zone = ZoneInfo(timezone or gec_timezone())
    nxt = add_months(first, 1)
    start = datetime(first.year, first.month, 1, tzinfo=zone).astimezone(UTC)
    end = datetime(nxt.year, nxt.month, 1, tzinfo=zone).astimezone(UTC)
    return start, end


def valid_until(month: date) -> date:
    """First day on which a GEC of production ``month`` is no longer valid (2 years later)."""
    return add_months(month_start(month), 12 * gec_facts().validity.years)


@dataclass(frozen=True, order=True)
class SerialRange:
    """GEC serials ``prefix + number + suffix`` for ``number`` in ``start … end``; ``digits``
    is the zero-padded width of the number (0: not padded)."""

    prefix: str
    suffix: str
    start: int
    end: int
    digits: int = 0
    tradable: bool = True

    @property
    def series(self) -> tuple[str, str]:
        """Serials of one series compare by number (padding ignored)."""
        return (self.prefix, self.suffix)

    @property
    def count(self) -> int:
        return self.end - self.start + 1

    def serial(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.digits}d}{self.suffix}" if self.digits else \
            f"{self.prefix}{number}{self.suffix}"

    @property
    def first(self) -> str:
        return self.serial(self.start)

    @property
    def last(self) -> str:
        return self.serial(self.end)

    def sub(self, start: int, end: int) -> SerialRange:
        return replace(self, start=start, end=end)

    def overlaps(self, other: SerialRange) -> bool:
        return self.series == other.series and self.start <= other.end \
            and other.start <= self.end

    def __str__(self) -> str:
        return self.first if self.start == self.end else f"{self.first}–{self.last}"


def record_range(r: Mapping[str, Any]) -> SerialRange:
    return SerialRange(r["serial_prefix"], r["serial_suffix"], r["serial_start"],
                       r["serial_end"], r["serial_digits"], r["tradable"])
