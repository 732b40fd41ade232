"""Roles and what each may do: one table, read by every endpoint and by the matrix test."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user is in the park."""

    ADMIN = "admin"          # runs the service: organisations, users
    OPERATOR = "operator"    # park operator: parks, scenarios, jobs, access, meters
    TENANT = "tenant"        # a company on the park: its own loads, shares, meter uploads
    VERIFIER = "verifier"    # read-only: results, evidence, audit log
    IMPORTER = "importer"    # EU importer: only shipments and emission data addressed to it


class Action(StrEnum):
    """Everything a request can ask for."""

    ORG_CREATE = "org.create"
    ORG_LIST = "org.list"
    USER_CREATE = "user.create"
    USER_LIST = "user.list"
    PARK_CREATE = "park.create"
    PARK_READ = "park.read"
    PARK_GRANT = "park.grant"
    REPORT_DOWNLOAD = "report.download"
    JOB_CREATE = "job.create"
    JOB_READ = "job.read"
    METER_UPLOAD = "meter.upload"
    METER_READ = "meter.read"
    AUDIT_READ = "audit.read"
    SHIPMENT_READ = "shipment.read"
    TOKEN_MANAGE = "token.manage"
    METER_INGEST = "meter.ingest"          # park meter files into the metering store
    METER_REPORT_READ = "meter.report"     # validation reports of those ingests
    CERT_ISSUE = "cert.issue"
    CERT_READ = "cert.read"                # holdings (a tenant: its own account)
    CERT_TRANSFER = "cert.transfer"
    CERT_CANCEL = "cert.cancel"            # cancel / claim for a beneficiary and purpose
    CERT_VERIFY = "cert.verify"            # the registry's hash-chain verification
    CERT_EXPORT = "cert.export"            # EnergyTag export
    CBAM_READ = "cbam.read"                # SEE, liability, exposure (a tenant: its own plant)
    CBAM_EXPORT = "cbam.export"            # PACT JSON, the Commission template
    CBAM_TEMPLATE = "cbam.template"        # start the (slow) template-fill job
    OPTIMIZATION_READ = "optimization.read"  # result of an optimize job (park-level sizes)


_R = Role
ALLOWED: dict[Action, frozenset[Role]] = {
    Action.ORG_CREATE: frozenset({_R.ADMIN}),
    Action.ORG_LIST: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.USER_CREATE: frozenset({_R.ADMIN}),
    Action.USER_LIST: frozenset({_R.ADMIN}),
    Action.PARK_CREATE: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.PARK_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.PARK_GRANT: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.REPORT_DOWNLOAD: frozenset({_R.ADMIN, _R.OPERATOR, _R.VERIFIER}),
    Action.JOB_CREATE: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.JOB_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.METER_UPLOAD: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT}),
    Action.METER_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.AUDIT_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.VERIFIER}),
    Action.SHIPMENT_READ: frozenset({_R.ADMIN, _R.IMPORTER, _R.VERIFIER}),
    Action.TOKEN_MANAGE: frozenset(set(_R)),
    Action.METER_INGEST: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.METER_REPORT_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.CERT_ISSUE: frozenset({_R.ADMIN, _R.OPERATOR}),
    Action.CERT_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.CERT_TRANSFER: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT}),
    Action.CERT_CANCEL: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT}),
    Action.CERT_VERIFY: frozenset({_R.ADMIN, _R.OPERATOR, _R.VERIFIER}),
    Action.CERT_EXPORT: frozenset({_R.ADMIN, _R.OPERATOR, _R.VERIFIER}),
    Action.CBAM_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.CBAM_EXPORT: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT, _R.VERIFIER}),
    Action.CBAM_TEMPLATE: frozenset({_R.ADMIN, _R.OPERATOR, _R.TENANT}),
    Action.OPTIMIZATION_READ: frozenset({_R.ADMIN, _R.OPERATOR, _R.VERIFIER}),
}


def allowed(role: Role | str, action: Action) -> bool:
    """Whether ``role`` may perform ``action`` (the tenant/park scope is checked separately)."""
    return Role(role) in ALLOWED[action]
