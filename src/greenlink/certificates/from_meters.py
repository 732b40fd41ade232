"""Issue certificates from the meter store of a park (``greenlink registry issue``).

Hours are the scenario's local clock hours (:func:`greenlink.flows.hour_key`), stored as UTC
instants; generation and consumption become whole Wh by :func:`greenlink.units.kwh_to_wh`, the
rule every claim uses, so the Wh issued for a fully green hour and the Wh its user may claim
are the same number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sqlalchemy import select

from greenlink.certificates.models import Account, Device, GranularCertificateBundle
from greenlink.certificates.registry import Registry
from greenlink.metering.actuals import (
    actual_flows,
    hourly_consumption_wh,
    hourly_generation_wh,
    hourly_matched,
    metered_arrays,
)
from greenlink.metering.store import open_store
from greenlink.scenario.model import Scenario


@dataclass(frozen=True)
class IssueResult:
    """Counts of one issuance run."""

    bundles: int
    wh: int
    skipped_incomplete_hours: int
    skipped_already_issued: int


def matched_from_store(scenario: Scenario, store: Path | str) -> pd.DataFrame:
    """Hourly matched green energy per user and line from the meter store."""
    with open_store(store, read_only=True) as con:
        arrays = metered_arrays(scenario, con)
    return hourly_matched(scenario, actual_flows(scenario, arrays), arrays)


def issue_from_store(registry: Registry, scenario: Scenario, store: Path | str, *,
                     account_id: str = "park", issuing_body: str = "greenlink (self-issued)",
                     dissemination_level: str = "private line") -> IssueResult:
    """Register the park's plants (if new) and issue their complete metered hours.

    Hours with a missing or filled reading are not issued; hours issued before are skipped, so
    running it again issues only what is new. Users' hourly metered consumption is registered,
    so that claims for a user never exceed what it consumed in that hour.

    Everything — account, devices, metadata, bundles and consumption — is written in one
    transaction (:meth:`Registry.transaction`): a failure anywhere leaves the registry as it was.
    """
    with open_store(store, read_only=True) as con:
        arrays = metered_arrays(scenario, con)
    hours = hourly_generation_wh(scenario, arrays)
    matched = hourly_matched(scenario, actual_flows(scenario, arrays), arrays)
    consumption = hourly_consumption_wh(matched)
    with registry.transaction() as reg:
        with reg.sessions() as s:
            have_account = s.get(Account, account_id) is not None
            devices = set(s.execute(select(Device.id)).scalars())
            issued = set(s.execute(select(GranularCertificateBundle.device_id,
                                          GranularCertificateBundle.production_starting_interval)
                                   .where(GranularCertificateBundle.parent_bundle_id.is_(None))
                                   ).all())
        if not have_account:
            reg.add_account(account_id, "park operator")
        for p in scenario.pv:
            if p.id not in devices:
                reg.add_device(p.id, account_id=account_id, energy_source="solar",
                               technology_type="photovoltaic", capacity_kw=p.capacity_kw_dc,
                               device_name=p.name, location=f"{scenario.site.latitude},"
                               f"{scenario.site.longitude}")
        for w in scenario.wind:
            if w.id not in devices:
                reg.add_device(w.id, account_id=account_id, energy_source="wind",
                               technology_type="wind turbine", capacity_kw=w.capacity_kw)
        metadata = reg.add_metadata(
            country_of_issuance="CN", connected_grid_identification=scenario.site.province,
            issuing_body=issuing_body, issue_market_zone=scenario.site.province,
            dissemination_level=dissemination_level)
        done_keys = {(d, pd.Timestamp(t).tz_localize("UTC") if pd.Timestamp(t).tzinfo is None
                      else pd.Timestamp(t).tz_convert("UTC")) for d, t in issued}
        already = np.array([(d, t) in done_keys for d, t in zip(
            hours["device_id"], hours["hour_start"], strict=True)], dtype=bool)
        incomplete = ~hours["complete"].to_numpy(dtype=bool)
        todo = hours[~already & ~incomplete & (hours["energy_wh"] > 0)]
        n = reg.issue(todo[["device_id", "hour_start", "energy_wh"]], metadata_id=metadata) \
            if len(todo) else 0
        reg.record_consumption_table(consumption)
    return IssueResult(n, int(todo["energy_wh"].sum()), int((incomplete & ~already).sum()),
                       int(already.sum()))
