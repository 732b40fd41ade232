"""One list of claim purposes: every place that takes a purpose accepts exactly its subset of
``greenlink.certificates.purposes`` (registry: all; API, web, CLI, service: the user's; evidence
claim file: the consumption claims)."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

from pydantic import ValidationError
from typer.testing import CliRunner

from greenlink.api.schemas import CancelIn
from greenlink.certificates.purposes import (
    CLAIM_PURPOSES,
    CONSUMPTION_CLAIM_PURPOSES,
    STORAGE_CHARGE,
    USER_CLAIM_PURPOSES,
)
from greenlink.certificates.registry import RegistryError
from greenlink.cli.registry_cmd import registry_app
from greenlink.evidence.spec import CertificatesSpec
from tests.certificates.conftest import claim_ready, hours, park

CANDIDATES = (*CLAIM_PURPOSES, "bogus", "Tenant_Scope2", "")


def test_the_lists_nest() -> None:
    assert (*USER_CLAIM_PURPOSES, STORAGE_CHARGE) == CLAIM_PURPOSES
    assert (*CONSUMPTION_CLAIM_PURPOSES, "sold_as_certificate") == USER_CLAIM_PURPOSES
    assert len(set(CLAIM_PURPOSES)) == len(CLAIM_PURPOSES)


def test_registry_accepts_every_purpose(tmp_path: Path) -> None:
    reg, meta = park(f"sqlite:///{tmp_path / 'r.sqlite'}")
    reg.issue(hours("pv", [100] * len(CANDIDATES)), metadata_id=meta)
    claim_ready(reg, users=("alu", "bess"))  # consumption of alu, charging of bess; GECs
    accepted = []
    for bundle_id, purpose in enumerate(CANDIDATES, start=1):
        try:  # storage charging only into a registered storage device
            reg.cancel(bundle_id, beneficiary="bess" if purpose == STORAGE_CHARGE else "alu",
                       purpose=purpose)
        except RegistryError:
            continue
        accepted.append(purpose)
    assert tuple(accepted) == CLAIM_PURPOSES


def test_api_schema_accepts_the_user_purposes() -> None:
    assert get_args(CancelIn.model_fields["purpose"].annotation) == USER_CLAIM_PURPOSES
    accepted = []
    for purpose in CANDIDATES:
        try:
            CancelIn(purpose=purpose)  # type: ignore[arg-type]
        except ValidationError:
            continue
        accepted.append(purpose)
    assert tuple(accepted) == USER_CLAIM_PURPOSES


def test_evidence_claim_file_accepts_the_consumption_purposes() -> None:
    accepted = []
    for purpose in CANDIDATES:
        try:
            CertificatesSpec(account="park", purpose=purpose)  # type: ignore[arg-type]
        except ValidationError:
            continue
        accepted.append(purpose)
    assert tuple(accepted) == CONSUMPTION_CLAIM_PURPOSES


def test_cli_cancel_accepts_and_lists_the_user_purposes(tmp_path: Path) -> None:
    help_text = CliRunner().invoke(registry_app, ["cancel", "--help"],
                                   env={"COLUMNS": "200"}).output
    assert "|".join(USER_CLAIM_PURPOSES) in help_text  # the choices, as Typer lists them
    db = f"sqlite:///{tmp_path / 'r.sqlite'}"
    for purpose in CANDIDATES:
        r = CliRunner().invoke(registry_app, ["cancel", "1", "--beneficiary", "alu",
                                              "--purpose", purpose, "--db", db])
        if purpose in USER_CLAIM_PURPOSES:  # past the option check: the registry is empty
            assert r.exit_code == 2 and "bundle 1 does not exist" in r.output, r.output
        else:
            assert r.exit_code == 2 and "Invalid value for '--purpose'" in r.output, r.output
