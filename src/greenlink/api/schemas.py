"""Request and response bodies: separate Create / Update / Public models per resource."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from greenlink.api.ids import MAX_ID, BodyId
from greenlink.service.roles import Role
from greenlink.workflows.registry import UserClaimPurpose


class ErrorOut(BaseModel):
    """Every error response: a sentence and the list of problems."""

    detail: str
    problems: list[str] = Field(default_factory=list)


class _Public(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=1, max_length=1024)


class TokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    ttl_hours: float = Field(default=24.0 * 30, gt=0, le=24.0 * 366)


class TokenIssued(BaseModel):
    id: int
    name: str
    token: str
    expires_at: datetime


class TokenPublic(_Public):
    id: int
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None


class OrganisationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)


class OrganisationPublic(_Public):
    id: int
    name: str


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    email: str = Field(min_length=3, max_length=254)
    password: str = Field(min_length=10, max_length=1024)
    role: Role
    organisation_id: BodyId


class UserPublic(_Public):
    id: int
    email: str
    role: Role
    organisation_id: int
    active: bool


class MePublic(BaseModel):
    user_id: int
    email: str
    role: Role
    organisation_id: int


class ParkPublic(_Public):
    id: int
    name: str
    organisation_id: int
    user_ids: list[str]
    created_at: datetime


class AccessCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    organisation_id: BodyId
    park_user_id: str | None = Field(default=None, max_length=100)


class AccessPublic(_Public):
    park_id: int
    organisation_id: int
    park_user_id: str | None


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["simulate", "check", "optimize", "cbam_template"] = "simulate"
    ruleset: str | None = Field(default=None, max_length=100)
    installation: str | None = Field(default=None, max_length=100,
                                     description="cbam_template: the installation id")


class JobPublic(_Public):
    id: int
    park_id: int
    kind: str
    ruleset: str | None
    params: dict[str, Any] | None = None
    status: Literal["queued", "running", "succeeded", "failed"]
    progress: float
    message: str
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ResultPublic(BaseModel):
    """summary.json of the latest successful run, filtered to what the caller may see."""

    park_id: int
    job_id: int
    summary: dict[str, Any]


class UserResultPublic(BaseModel):
    user: dict[str, Any]
    products: list[dict[str, Any]]


class MeterUploadPublic(_Public):
    id: int
    park_id: int
    park_user_id: str
    filename: str
    sha256: str
    rows: int
    energy_kwh: float
    created_at: datetime


class AuditEventPublic(_Public):
    id: int
    at: datetime
    actor_user_id: int | None
    action: str
    target: str
    detail: dict[str, Any]


class ShipmentPublic(BaseModel):
    """A shipment with its embedded emissions (t CO2e per t) and CBAM liability, grid-only vs
    direct connection."""

    park_id: int
    installation: str
    shipment_id: str
    customer: str | None = None
    importer: str | None = None
    sku: str | None = None
    cn_code: str | None = None
    tonnes: float | None = None
    date: str | None = None
    year: int | None = None
    see_direct_t_per_t: float | None = None
    see_counted_grid_t_per_t: float | None = None
    see_counted_dc_t_per_t: float | None = None
    footprint_grid_t_per_t: float | None = None
    footprint_dc_t_per_t: float | None = None
    green_share: float | None = None
    certificates_grid: float | None = None
    certificates_dc: float | None = None
    cost_grid_eur: float | None = None
    cost_dc_eur: float | None = None
    saving_eur: float | None = None


class MeterIngestPublic(_Public):
    id: int
    park_id: int
    filenames: list[str]
    readings: int
    issues: int
    created_at: datetime


class MeterIngestReport(BaseModel):
    """Validation report of one ingest (docs/metering.md): files, counts per meter and check,
    the issues (at most 2000 kept; ``issues_total`` counts all)."""

    id: int
    park_id: int
    filenames: list[str]
    created_at: str
    report: dict[str, Any]


class IssueResultPublic(BaseModel):
    bundles: int
    wh: int
    skipped_incomplete_hours: int
    skipped_already_issued: int


class HoldingTotal(BaseModel):
    account_id: str
    status: str
    wh: int


class HoldingsPublic(BaseModel):
    park_id: int
    account_id: str | None
    status: str | None
    bundles_total: int
    totals: list[HoldingTotal]
    bundles: list[dict[str, Any]]


class TransferIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_account: str = Field(min_length=1, max_length=100)
    quantity_wh: int | None = Field(default=None, ge=1, le=MAX_ID,
                                    description="default: the whole bundle")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    purpose: UserClaimPurpose
    beneficiary: str | None = Field(default=None, min_length=1, max_length=200,
                                    description="a registered account or user id, exactly "
                                    "(default, and for a tenant: the tenant itself)")
    quantity_wh: int | None = Field(default=None, ge=1, le=MAX_ID,
                                    description="default: the whole bundle")
    claim_id: str | None = Field(default=None, min_length=1, max_length=100,
                                 pattern=r"^[A-Za-z0-9][A-Za-z0-9._:@+=-]*$",
                                 description="the claim's id (default: derived from the "
                                 "request): the same claim again returns the first result")


class BundleMoved(BaseModel):
    bundle_id: int = Field(description="id of the bundle that was transferred or claimed")


class GecSerialsPublic(BaseModel):
    bundle_id: int
    device_id: str
    from_: str = Field(alias="from", description="first GEC serial of the range")
    to: str = Field(description="last GEC serial of the range")
    gec: int = Field(description="GECs in the range (1 GEC = 1 MWh)")
    wh: int = Field(description="Wh of the claim these serials back")
    tradable: bool
    pool: str = Field(description="held | cancelled:<beneficiary> | external:<party>")

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)


class ClaimPublic(BundleMoved):
    """A claim made through the registry's one claim path (``bundle_id``: the bundle claimed)."""

    claim_id: str
    purpose: str | None
    beneficiary: str | None
    claimed_wh: int
    event_seq: int = Field(description="the registry event that made the claim")
    replayed: bool = Field(description="the same claim was made before: its first result, "
                           "nothing changed now")
    gec_serials: list[GecSerialsPublic] = Field(
        description="the China GEC serial ranges behind the claim (empty where none is needed)")
    gec_serial_text: str


class ClaimRecordPublic(BaseModel):
    claim_id: str
    kind: str
    purpose: str | None
    beneficiary: str | None
    operation: str
    event_seq: int
    wh: int
    bundle_ids: list[int]
    hours: list[str]
    gec_serials: list[dict[str, Any]]
    gec_serial_text: str


class GecImportPublic(BaseModel):
    rows: int
    imported: int
    already_imported: int
    known: int
    gec_by_status: dict[str, int]


class VerifyPublic(BaseModel):
    park_id: int
    ok: bool
    trusted: bool = Field(description="signatures checked with the service's trusted keys")
    events: int
    bundles: int
    problems: list[str]
