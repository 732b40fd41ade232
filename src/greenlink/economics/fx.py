"""Exchange rates from a stated source, and which day's rate applies to a month or an invoice.

A contract priced in a currency other than the settlement currency (the tariff's, CNY) is
converted with a rate series: by default the shipped PBOC/CFETS central parity file
(``greenlink/data/fx/cny_central_parity.csv``, sources in ``SOURCES.md`` there), or a file the
user gives (``greenlink settle --fx FILE``) with the same columns.

File (CSV, UTF-8, one header row; one row per publication day and currency)

============  ==========================================================================
column        meaning
============  ==========================================================================
date          ``YYYY-MM-DD``: the Beijing business day the rate was published (CFETS
              publishes the central parity at 09:15 China Standard Time); the rate applies
              to that whole calendar day
currency      ISO 4217 code of the foreign currency (``EUR``, ``USD`` …)
cny_per_unit  CNY for **one** unit of the currency, a decimal as published (CFETS quotes
              EUR and USD per 100 units: ``100 EUR = 831.57 CNY`` → ``8.3157``)
status        optional: ``published`` (default) or ``UNVERIFIED`` (a placeholder to replace;
              every statement that uses one says so)
source        optional: where the value was published (URL or reference)
============  ==========================================================================

Which day's rate applies (a contract's ``fx.rule``)

* ``month_end`` (default): the rate of the delivery month's last day; where that day is not a
  CFETS business day (weekend, holiday), the last rate published before it.
* ``invoice_date``: the rate of the invoice date, the ``fx.invoice_day``-th day of the month after
  delivery (default the 5th); where that day has no rate, the last one published before it.
* ``month_average``: the arithmetic mean of every rate published within the delivery month,
  rounded half-up to 4 decimals (the precision of the central parity).

"Published before it" looks back at most :data:`LOOKBACK_DAYS` calendar days (the longest
closures of China's interbank FX market, Spring Festival and National Day with their weekends,
are 9 days). No rate in that window is an error naming the date: a missing rate is never filled
from an older one silently.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from importlib import resources
from pathlib import Path
from typing import Literal

from greenlink.errors import InputError, Problem

#: The settlement currency of the shipped series (rates are CNY per unit of a currency).
SERIES_CURRENCY = "CNY"
#: How many calendar days before the wanted date a rate may come from (non-business days).
LOOKBACK_DAYS = 10
#: Decimals of a monthly average rate (the central parity's own precision per unit).
AVERAGE_STEP = Decimal("0.0001")
COLUMNS = ("date", "currency", "cny_per_unit", "status", "source")
REQUIRED = ("date", "currency", "cny_per_unit")
UNVERIFIED = "UNVERIFIED"
FxRule = Literal["month_end", "invoice_date", "month_average"]
SHIPPED_NAME = "PBOC/CFETS central parity (shipped file)"


@dataclass(frozen=True)
class Fixing:
    """One published rate: CNY per unit of ``currency`` on ``day``."""

    day: date
    currency: str
    cny_per_unit: Decimal
    status: str
    source: str


@dataclass(frozen=True)
class FxRate:
    """The rate a contract's month is converted with, and where it comes from.

    ``rate`` is CNY per unit of ``currency``; ``fixing_dates`` are the days whose published
    rates it is (one day, or every day of the month for an average); ``wanted`` is the day the
    rule asked for (month end, invoice date) or the month's first day for an average.
    """

    currency: str
    rate: Decimal
    rule: FxRule
    wanted: date
    fixing_dates: tuple[date, ...]
    series: str
    stated_source: str
    unverified: bool
    sources: tuple[str, ...]

    def describe(self) -> str:
        """One line for a statement: rate, rule, day(s) and source."""
        if self.rule == "month_average":
            days = (f"average of {len(self.fixing_dates)} rates published "
                    f"{self.fixing_dates[0]}…{self.fixing_dates[-1]}")
        else:
            what = "month end" if self.rule == "month_end" else "invoice date"
            days = f"rate of {self.fixing_dates[0]} ({what} {self.wanted})"
        flag = "; UNVERIFIED placeholder, replace with the published rate" \
            if self.unverified else ""
        return (f"1 {self.currency} = {self.rate} {SERIES_CURRENCY}: {self.stated_source}, "
                f"{days}; series {self.series}{flag}")


@dataclass(frozen=True)
class FxSeries:
    """Rates by currency, each list sorted by day."""

    name: str
    file: str
    fixings: dict[str, tuple[Fixing, ...]]

    def currencies(self) -> list[str]:
        return sorted(self.fixings)

    def _on_or_before(self, currency: str, day: date, what: str) -> Fixing:
        rows = self.fixings.get(currency, ())
        earliest = day - timedelta(days=LOOKBACK_DAYS)
        found = [f for f in rows if earliest <= f.day <= day]
        if not found:
            raise InputError(Problem(
                f"no {currency} exchange rate for {day.isoformat()} ({what}) in {self.name}, "
                f"nor in the {LOOKBACK_DAYS} days before it", file=self.file,
                location=f"{currency} {day.isoformat()}",
                expected=f"a row '{day.isoformat()},{currency},<CNY per unit>' (the rate "
                         "published that day, or on the last business day before it)"))
        return found[-1]

    def rate(self, currency: str, rule: FxRule, month: str, *, invoice_day: int = 5,
             stated_source: str = "") -> FxRate:
        """The rate of ``currency`` for the delivery ``month`` (``YYYY-MM``) under ``rule``.

        Raises
        ------
        InputError
            no rate for the day the rule asks for (naming it), or none in the month for an
            average.
        """
        year, mon = int(month[:4]), int(month[5:7])
        first = date(year, mon, 1)
        nxt = date(year + (mon == 12), mon % 12 + 1, 1)
        if rule == "month_average":
            rows = [f for f in self.fixings.get(currency, ()) if first <= f.day < nxt]
            if not rows:
                raise InputError(Problem(
                    f"no {currency} exchange rate published in {month} in {self.name} (the "
                    "contract converts at the month's average rate)", file=self.file,
                    location=f"{currency} {month}",
                    expected=f"the rates published in {month}"))
            total = sum((f.cny_per_unit for f in rows), Decimal(0))
            value = (total / len(rows)).quantize(AVERAGE_STEP, rounding=ROUND_HALF_UP)
            return FxRate(currency, value, rule, first, tuple(f.day for f in rows), self.name,
                          stated_source or self.name, any(f.status == UNVERIFIED for f in rows),
                          tuple(sorted({f.source for f in rows if f.source})))
        if rule == "month_end":
            wanted = nxt - timedelta(days=1)
            what = f"the last day of {month}"
        else:
            wanted = nxt + timedelta(days=invoice_day - 1)
            what = f"the invoice date of {month}, day {invoice_day} of the following month"
        f = self._on_or_before(currency, wanted, what)
        return FxRate(currency, f.cny_per_unit, rule, wanted, (f.day,), self.name,
                      stated_source or self.name, f.status == UNVERIFIED,
                      (f.source,) if f.source else ())


def _fx_folder() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "fx"))


def shipped_fx_file() -> Path:
    return _fx_folder() / "cny_central_parity.csv"


def _problem(file: str, row: int, column: str, message: str, expected: str) -> Problem:
    return Problem(f"row {row}: {message}", file=file, location=column, expected=expected)


def parse_fx_csv(text: str, file: str, name: str | None = None) -> FxSeries:
    """Read a rate file (the columns of the module doc); every bad row is named."""
    reader = csv.DictReader(text.splitlines())
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise InputError([Problem(f"rate file has no column {c!r}", file=file, location=c,
                                  expected=", ".join(COLUMNS)) for c in missing])
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise InputError([Problem(f"unknown column {h!r}", file=file, location=h,
                                  expected=", ".join(COLUMNS)) for h in unknown])
    problems: list[Problem] = []
    by_currency: dict[str, dict[date, Fixing]] = defaultdict(dict)
    for i, raw in enumerate(reader, start=2):
        row = {k.strip(): (v or "").strip() for k, v in raw.items() if k is not None}
        try:
            day = date.fromisoformat(row["date"])
        except ValueError:
            problems.append(_problem(file, i, "date", f"{row['date']!r} is not a date",
                                     "YYYY-MM-DD"))
            continue
        currency = row["currency"]
        if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
            problems.append(_problem(file, i, "currency", f"{currency!r} is not a currency",
                                     "an ISO 4217 code such as EUR"))
            continue
        try:
            value = Decimal(row["cny_per_unit"])
        except InvalidOperation:
            value = Decimal(-1)
        if not value.is_finite() or value <= 0:
            problems.append(_problem(file, i, "cny_per_unit",
                                     f"{row['cny_per_unit']!r} is not a positive rate",
                                     "CNY for one unit, e.g. 8.3157"))
            continue
        status = row.get("status") or "published"
        if status not in ("published", UNVERIFIED):
            problems.append(_problem(file, i, "status", f"unknown status {status!r}",
                                     f"published or {UNVERIFIED}"))
            continue
        if day in by_currency[currency]:
            problems.append(_problem(file, i, "date", f"a second {currency} rate for {day}",
                                     "one rate per day and currency"))
            continue
        by_currency[currency][day] = Fixing(day, currency, value, status, row.get("source", ""))
    if problems:
        raise InputError(problems)
    fixings = {c: tuple(sorted(d.values(), key=lambda f: f.day)) for c, d in by_currency.items()}
    return FxSeries(name or Path(file).name, file, fixings)


def load_fx_series(path: str | Path | None = None) -> FxSeries:
    """The shipped PBOC/CFETS central parity series, or a user file (same columns)."""
    file = Path(path) if path is not None else shipped_fx_file()
    try:
        text = file.read_text(encoding="utf-8-sig")
    except OSError as err:
        raise InputError(Problem(f"cannot read the rate file: {err.strerror or err}",
                                 file=str(file), expected="a CSV file of exchange rates")
                         ) from None
    return parse_fx_csv(text, str(file), SHIPPED_NAME if path is None else None)
