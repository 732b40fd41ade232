"""Finance terms as data: ``greenlink/data/finance/defaults.toml`` under a user's terms file.

A terms file (``greenlink finance --terms FILE``) has the tables of the defaults file and names
only what it changes; every other key keeps its shipped default (sources and confidence in
``data/finance/SOURCES.md``).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenlink.economics.finance import DebtTerms, TaxTerms, Terms
from greenlink.tomlfile import read_toml, validate_toml_data


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


Rate = float


class Escalation(_Model):
    tariff: Rate = Field(ge=-0.5, le=0.5, description="nominal change per year of the grid "
                         "tariff (the value of the purchases the project avoids)")
    export_price: Rate = Field(ge=-0.5, le=0.5, description="nominal change per year of the "
                               "export price")
    fees: Rate = Field(ge=-0.5, le=0.5, description="nominal change per year of the direct-line "
                       "fees")
    om: Rate = Field(ge=-0.5, le=0.5, description="nominal change per year of O&M costs")


class Degradation(_Model):
    pv_first_year: Rate = Field(ge=0, lt=1, description="PV output lost in the first year")
    pv_per_year: Rate = Field(ge=0, lt=1, description="PV output lost each later year "
                              "(compounding)")
    battery_fade_per_year: Rate = Field(ge=0, lt=1, description="usable battery capacity lost "
                                        "per year (of nameplate)")
    battery_strategy: Literal["augment", "replace", "none"] = Field(
        description="augment: buy back capacity when it falls below battery_augment_below; "
        "replace: a new battery at the end of its lifetime; none: let it fade")
    battery_augment_below: Rate = Field(ge=0, le=1)
    battery_cost_change_per_year: Rate = Field(ge=-0.5, le=0.5, description="real change per "
                                               "year of the battery's cost per kWh")


class Tax(_Model):
    income_tax_rate: Rate = Field(ge=0, lt=1)
    depreciation_years: int = Field(ge=1, le=60)
    battery_depreciation_years: int = Field(ge=1, le=60)
    residual_fraction: Rate = Field(ge=0, lt=1)
    losses: Literal["carry_forward", "offset"]
    loss_carryforward_years: int = Field(ge=0, le=50)
    exempt_years: int = Field(ge=0, le=20)
    half_rate_years: int = Field(ge=0, le=20)


class Debt(_Model):
    fraction: Rate = Field(ge=0, le=1, description="share of the initial capex borrowed")
    tenor_years: int = Field(ge=1, le=40)
    interest_rate: Rate = Field(ge=0, le=0.5)
    repayment: Literal["annuity", "equal_principal", "sculpted"]
    target_dscr: float = Field(gt=0, le=10)


class FinanceTerms(_Model):
    """All finance terms of a case (``data/finance/defaults.toml`` shows every key)."""

    project_life_years: int = Field(ge=1, le=60)
    inflation: Rate = Field(ge=-0.1, le=0.5)
    real_discount_rate: Rate = Field(ge=-0.1, le=1.0)
    other_capex: float = Field(ge=0, description="capex not in the cost tables: private line, "
                               "grid connection, development")
    escalation: Escalation
    degradation: Degradation
    tax: Tax
    debt: Debt

    def terms(self) -> Terms:
        t, d = self.tax, self.debt
        return Terms(
            years=self.project_life_years, real_discount_rate=self.real_discount_rate,
            inflation=self.inflation,
            tax=TaxTerms(rate=t.income_tax_rate, residual_fraction=t.residual_fraction,
                         losses=t.losses, loss_carryforward_years=t.loss_carryforward_years,
                         exempt_years=t.exempt_years, half_rate_years=t.half_rate_years),
            debt=DebtTerms(fraction=d.fraction, tenor_years=d.tenor_years,
                           interest_rate=d.interest_rate, repayment=d.repayment,
                           target_dscr=d.target_dscr))


def defaults_path() -> Path:
    return Path(str(resources.files("greenlink") / "data" / "finance" / "defaults.toml"))


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out


def load_terms(path: str | Path | None = None,
               overrides: dict[str, Any] | None = None) -> FinanceTerms:
    """The shipped defaults, under a terms file and under ``overrides`` (nested tables).

    Raises
    ------
    greenlink.errors.InputError
        Every problem of the file at once (unknown keys, values out of range), naming the file
        and key.
    """
    data = read_toml(defaults_path(), kind="finance defaults file")
    name = "finance defaults"
    if path is not None:
        data = _merge(data, read_toml(path, kind="finance terms file",
                                      expected="a TOML file with the tables of "
                                      "data/finance/defaults.toml"))
        name = str(path)
    if overrides:
        data = _merge(data, overrides)
    return validate_toml_data(data, FinanceTerms, name=name)
