"""The registry workflow behind ``greenlink registry``, the service's certificate routes and
forms, ``cbam claim`` and the evidence build: each registry job is one function here, and every
claim, cancellation and withdrawal goes through :func:`claim` — the registry's one claim path
(:meth:`greenlink.certificates.registry.Registry.claim`, rules in
:mod:`greenlink.certificates.claims`).

Shells (CLI, API, web, service) import this module, never ``greenlink.certificates.registry``
or ``greenlink.certificates.from_meters`` directly (``tests/certificates/test_one_claim_path``
checks it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from greenlink.certificates.claims import ClaimLine, ClaimRequest, ClaimResult, serial_text
from greenlink.certificates.errors import ClaimRefused, RegistryError
from greenlink.certificates.heads import Checkpoint, Trust, verifier_trust
from greenlink.certificates.purposes import (
    CLAIM_PURPOSES,
    STORAGE_CHARGE,
)
from greenlink.certificates.purposes import USER_CLAIM_PURPOSES as USER_CLAIM_PURPOSES
from greenlink.certificates.purposes import UserClaimPurpose as UserClaimPurpose
from greenlink.certificates.registry import Registry
from greenlink.scenario.model import Scenario

__all__ = ["CLAIM_PURPOSES", "STORAGE_CHARGE", "USER_CLAIM_PURPOSES", "Checkpoint", "ClaimLine",
           "ClaimRefused", "ClaimRequest", "ClaimResult", "Registry", "RegistryError",
           "Trust", "UserClaimPurpose", "accounts", "cancel", "checkpoint", "claim",
           "claims", "ensure_account", "ensure_users", "export", "gec_position",
           "import_gec", "issue_from_store", "open_registry", "serial_text", "statement",
           "storage_charge",
           "transfer", "unsigned_tail", "verifier_trust", "verify", "withdraw"]


# ------------------------------------------------------------------------------- opening


def open_registry(url: str | Path, *, key_dir: Path | None = None) -> Registry:
    """The registry at ``url`` (migrated), signing with the key of ``key_dir`` (default
    ``$GREENLINK_KEY_DIR`` or ``~/.greenlink/keys`` when it holds one; otherwise unsigned)."""
    from greenlink.certificates.db import open_registry as _open

    return _open(url, key_dir=key_dir)


# ------------------------------------------------------------------------------ accounts


def accounts(registry: Registry) -> list[str]:
    """Ids of the registry's accounts."""
    from sqlalchemy import select

    from greenlink.certificates.models import Account

    with registry.sessions() as s:
        return sorted(s.scalars(select(Account.id)))


def ensure_account(registry: Registry, account_id: str, name: str = "",
                   accepts_from: Sequence[str] = ()) -> bool:
    """Create the account, or whitelist ``accepts_from`` on an existing one; True if new."""
    if account_id not in accounts(registry):
        registry.add_account(account_id, name, list(accepts_from))
        return True
    for sender in accepts_from:
        registry.whitelist(account_id, sender)
    return False


def ensure_users(registry: Registry, park_account: str, user_ids: Sequence[str]) -> None:
    """The park's account and one account per user accepting transfers from it (the service's
    layout: docs/service.md)."""
    have = set(accounts(registry))
    if park_account not in have:
        registry.add_account(park_account, "park operator")
    for uid in user_ids:
        if uid not in have:
            registry.add_account(uid, uid, [park_account])


# ----------------------------------------------------------------------------- issuance


def issue_from_store(registry: Registry, scenario: Scenario, store: Path | str, *,
                     account_id: str = "park") -> Any:
    """Issue the park's complete metered hours (one transaction, with the users' hourly
    consumption): :func:`greenlink.certificates.from_meters.issue_from_store`."""
    from greenlink.certificates.from_meters import issue_from_store as _issue

    return _issue(registry, scenario, store, account_id=account_id)


def transfer(registry: Registry, bundle_id: int, to_account: str, *,
             from_account: str | None = None, quantity_wh: int | None = None) -> int:
    """Transfer a bundle (or part of it); the id of the bundle moved."""
    return int(registry.transfer(bundle_id, to_account, from_account=from_account,
                                 quantity_wh=quantity_wh))


def split(registry: Registry, bundle_id: int, quantity_wh: int) -> tuple[int, int]:
    a, b = registry.split(bundle_id, quantity_wh)
    return int(a), int(b)


# -------------------------------------------------------------------------------- claims


def claim(registry: Registry, request: ClaimRequest) -> ClaimResult:
    """The one claim path: every claim, cancellation into storage and withdrawal."""
    return registry.claim(request)


def cancel(registry: Registry, bundle_id: int, *, beneficiary: str, purpose: str,
           quantity_wh: int | None = None, account_id: str | None = None,
           claim_id: str | None = None, operation: str = "library") -> ClaimResult:
    """Claim a bundle (or ``quantity_wh`` of it) for a beneficiary and purpose."""
    return claim(registry, ClaimRequest.for_bundle(
        bundle_id, beneficiary=beneficiary, purpose=purpose, quantity_wh=quantity_wh,
        account_id=account_id, claim_id=claim_id, operation=operation))


def storage_charge(registry: Registry, storage_device: str, bundle_ids: Sequence[int], *,
                   account_id: str | None = None, claim_id: str | None = None,
                   operation: str = "library") -> ClaimResult:
    """Cancel whole bundles into a registered storage device (one storage charge record)."""
    return claim(registry, ClaimRequest.storage_charge(
        storage_device, bundle_ids, account_id=account_id, claim_id=claim_id,
        operation=operation))


def withdraw(registry: Registry, bundle_id: int, *, reason: str = "",
             claim_id: str | None = None, operation: str = "library") -> ClaimResult:
    """Withdraw a whole Active bundle (issuing body: its meter data were wrong)."""
    return claim(registry, ClaimRequest.withdrawal(bundle_id, reason=reason, claim_id=claim_id,
                                                   operation=operation))


def claims(registry: Registry, *, beneficiary: str | None = None,
           claim_id: str | None = None) -> pd.DataFrame:
    """The registry's claim records, one row per bundle (claim id, kind, purpose, beneficiary,
    operation, event, bundle, hour, Wh, subject, GEC serials)."""
    return registry.claims(beneficiary=beneficiary, claim_id=claim_id)


def claim_text(result: ClaimResult) -> str:
    """One line about a claim for people: what, for whom, Wh, the GEC serials behind it."""
    what = "withdrawn" if result.kind == "withdraw" else \
        f"claimed for {result.beneficiary} ({result.purpose})"
    serials = result.serial_text()
    text = (f"claim {result.claim_id}: {result.claimed_wh:,} Wh in {len(result.parts)} "
            f"bundle(s) {what}; GEC serials: {serials or 'none (no GEC needed)'}")
    if result.shortfall_wh:
        text += f"; {result.shortfall_wh:,} Wh not backed (no certificates left)"
    if result.replayed:
        text += f" — made before (event {result.event_seq}): nothing changed"
    return text


# ---------------------------------------------------------------------- statement, export


def statement(registry: Registry, scenario: Scenario, store: Path | str, *, user_id: str,
              month: str) -> dict[str, Any]:
    """Monthly statement of a user: matched green energy from the meter store, the
    certificates claimed for it with their claims and GEC serials."""
    from greenlink.certificates.from_meters import matched_from_store
    from greenlink.certificates.statement import monthly_statement

    matched = matched_from_store(scenario, store)
    return monthly_statement(registry, matched, user_id=user_id, month=month,
                             timezone=scenario.site.timezone)


def statement_html(st: dict[str, Any]) -> str:
    from greenlink.certificates.statement import statement_html as _html

    return _html(st)


def export(registry: Registry, path: Path, *, status: str | None = None,
           account_id: str | None = None) -> int:
    """Bundles with the EnergyTag / FEA fields as JSON or CSV; the count written."""
    from greenlink.certificates.statement import export_bundles

    return export_bundles(registry, path, status=status, account_id=account_id)


# ----------------------------------------------------------------------------- verify


@dataclass(frozen=True)
class Verified:
    """A verification for people: ``ok`` only when everything checks and the head is signed
    by a trusted key."""

    ok: bool
    trusted: bool
    events: int
    bundles: int
    problems: list[str]
    untrusted: list[str]
    head_seq: int
    head_signer: str | None


def verify(registry: Registry, *, trust: Trust | None = None,
           checkpoint: Checkpoint | None = None) -> Any:
    """The whole history: every link, signature (with ``trust``; default the registry's own
    key folder), row and the head (:func:`greenlink.certificates.audit.verify`)."""
    return registry.verify(trust=trust, checkpoint=checkpoint)


def verify_trusted(registry: Registry) -> Verified:
    """Verification with the keys the registry trusts (its operator's key folder). Without a
    trusted key nothing is verified: ``ok`` is false and the problem says so."""
    if not registry.trust:
        r = registry.verify(trust=None)
        return Verified(False, False, int(r.events), int(r.bundles),
                        ["no trusted key: the registry's signatures were not checked (set the "
                         "operator's key folder, GREENLINK_KEY_DIR)", *r.problems], [],
                        int(r.head_seq), r.head_signer)
    r = registry.verify()
    untrusted = list(getattr(r, "untrusted", []))
    return Verified(bool(r.ok) and not untrusted, True, int(r.events), int(r.bundles),
                    list(r.problems), untrusted, int(r.head_seq), r.head_signer)


def unsigned_tail(registry: Registry) -> Any:
    """The events a seal would vouch for, with the rows they record, and what keeps them from
    being sealed (:meth:`Registry.unsigned_tail`)."""
    return registry.unsigned_tail()


def checkpoint(registry: Registry, *, seal: bool = False,
               through: tuple[int, str] | None = None) -> Checkpoint:
    """A signed checkpoint; with ``seal``, unsigned events up to ``through`` (the head the
    operator was shown) are sealed first."""
    return registry.checkpoint(seal=seal, through=through)


# ---------------------------------------------------------------------------------- GEC


def import_gec(registry: Registry, path: Path | str, mapping: Path | str | Any) -> Any:
    """Import a GEC export with its mapping: all rows in one registry event, or none."""
    return registry.import_gec_file(path, mapping)


def gec_position(registry: Registry, device_id: str, month: str) -> Any:
    """GECs of a device-month, the Wh claimed against them, what may still be claimed."""
    from greenlink.certificates import gec

    with registry.sessions() as s:
        return gec.gec_position(s, device_id, month)
