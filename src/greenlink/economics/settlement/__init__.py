"""Monthly settlement of a park from a flows table (simulated or metered and allocated).

``settle(flows, scenario, month)`` → :class:`Settlement`: one :class:`Statement` per tenant with
typed lines (energy under each PPA, surplus, uncontracted green, grid import per TOU period,
the contracted volume not delivered — seller shortfall, buyer under-take, above the monthly
cap —, take-or-pay, capacity fees, battery service, direct-line fees), one
:class:`BuyerStatement` per PPA with a buyer outside the park (energy, attributes, price, FX,
amounts in both currencies, who pays whom), the park's totals and the green supply agreements'
assignments.

Energy lines of a statement add up, to the Wh, to the tenant's metered consumption
(``<user>.load_kwh`` summed over the month); a contract's contracted volume is the sum of its
lines, to the Wh; every line amount is quantity × unit price rounded once, half-up, in the line's
currency, and its CNY equivalent is that amount × the contract's FX rate rounded once more
(:mod:`greenlink.economics.money`). Every line names who pays whom (``payer`` → ``payee``); its
amount is signed from the statement holder's view (positive: the holder pays).

The flows table comes in through :func:`greenlink.flows.normalise` (index or column, any zone):
a month is a calendar month of the scenario's zone, and time-of-day prices read the local clock.
"""

from __future__ import annotations

from greenlink.economics.settlement.compute import (
    settle,
)
from greenlink.economics.settlement.lines import (
    ENERGY_KINDS,
    GRID_COMPANY,
    PARK_OPERATOR,
    VOLUME_KINDS,
    ZERO_KWH,
    Group,
    Line,
    LineKind,
    make_line,
    mirrored,
    party_of_seller,
    plain,
    totals_by_currency,
)
from greenlink.economics.settlement.model import (
    Attributes,
    BuyerStatement,
    ContractTotals,
    MeterTotals,
    ParkTotals,
    Settlement,
    Statement,
)
from greenlink.economics.settlement.month import (
    month_flows,
    parse_month,
    required_columns,
)
from greenlink.economics.settlement.registry import (
    RegistryTransfers,
    registry_checks,
)

__all__ = [
    "ENERGY_KINDS",
    "GRID_COMPANY",
    "PARK_OPERATOR",
    "VOLUME_KINDS",
    "ZERO_KWH",
    "Attributes",
    "BuyerStatement",
    "ContractTotals",
    "Group",
    "Line",
    "LineKind",
    "MeterTotals",
    "ParkTotals",
    "RegistryTransfers",
    "Settlement",
    "Statement",
    "make_line",
    "mirrored",
    "month_flows",
    "parse_month",
    "party_of_seller",
    "plain",
    "registry_checks",
    "required_columns",
    "settle",
    "totals_by_currency",
]
