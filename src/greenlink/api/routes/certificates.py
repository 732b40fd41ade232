"""Park meter files (ingest + validation report) and the park's certificate registry."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Query, Response, UploadFile

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import MAX_ID, Id
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import (
    BundleMoved,
    CancelIn,
    ClaimPublic,
    ClaimRecordPublic,
    GecImportPublic,
    GecSerialsPublic,
    HoldingsPublic,
    IssueResultPublic,
    MeterIngestPublic,
    MeterIngestReport,
    TransferIn,
    VerifyPublic,
)
from greenlink.api.uploads import read_upload, read_uploads
from greenlink.service import certificates

router = APIRouter(prefix="/parks/{park_id}", tags=["certificates"], responses=ERRORS)


@router.post("/meter-files", response_model=MeterIngestPublic, status_code=201)
def ingest_meter_files(park_id: Id, files: Annotated[list[UploadFile], File(
        description="meter files (CSV or Parquet, long or wide layout; docs/metering.md)")],
                       caller: Caller, ctx: Ctx) -> MeterIngestPublic:
    """Validate and store park meter files; the validation report is kept with the ingest."""
    uploads = read_uploads(files)
    return MeterIngestPublic.model_validate(
        certificates.ingest_meter_files(ctx, caller, park_id, uploads))


@router.get("/meter-files", response_model=list[MeterIngestPublic])
def list_meter_ingests(park_id: Id, caller: Caller, ctx: Ctx) -> list[MeterIngestPublic]:
    return [MeterIngestPublic.model_validate(m)
            for m in certificates.list_meter_ingests(ctx, caller, park_id)]


@router.get("/meter-files/{ingest_id}", response_model=MeterIngestReport)
def meter_ingest_report(park_id: Id, ingest_id: Id, caller: Caller,
                        ctx: Ctx) -> MeterIngestReport:
    """The validation report (a tenant sees its own meters only)."""
    return MeterIngestReport(**certificates.meter_ingest_report(ctx, caller, park_id, ingest_id))


@router.post("/certificates/issue", response_model=IssueResultPublic)
def issue(park_id: Id, caller: Caller, ctx: Ctx) -> IssueResultPublic:
    """Issue hourly certificates into the ``park`` account from the ingested meter data."""
    return IssueResultPublic(**certificates.issue_certificates(ctx, caller, park_id))


@router.get("/certificates", response_model=HoldingsPublic)
def holdings(park_id: Id, caller: Caller, ctx: Ctx,
             account_id: Annotated[str | None, Query(max_length=100)] = None,
             status: Annotated[str | None, Query(max_length=30)] = None,
             limit: Annotated[int, Query(ge=1, le=1000)] = 200,
             offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0) -> HoldingsPublic:
    """Certificate holdings (bundles and Wh per account and status)."""
    return HoldingsPublic(**certificates.holdings(ctx, caller, park_id, account_id, status,
                                                  limit, offset))


@router.post("/certificates/{bundle_id}/transfer", response_model=BundleMoved)
def transfer(park_id: Id, bundle_id: Id, body: TransferIn, caller: Caller,
             ctx: Ctx) -> BundleMoved:
    """Transfer a bundle (or part of it) to an account that whitelists the sender."""
    return BundleMoved(bundle_id=certificates.transfer(ctx, caller, park_id, bundle_id,
                                                       body.to_account, body.quantity_wh))


def claim_public(result: Any) -> ClaimPublic:
    """A claim (:class:`greenlink.certificates.claims.ClaimResult`) as the API states it."""
    return ClaimPublic(bundle_id=result.parts[0].bundle_id, claim_id=result.claim_id,
                       purpose=result.purpose, beneficiary=result.beneficiary,
                       claimed_wh=result.claimed_wh, event_seq=result.event_seq,
                       replayed=result.replayed,
                       gec_serials=[GecSerialsPublic.model_validate(x)
                                    for x in result.gec_serials],
                       gec_serial_text=result.serial_text())


@router.post("/certificates/{bundle_id}/cancel", response_model=ClaimPublic)
def cancel(park_id: Id, bundle_id: Id, body: CancelIn, caller: Caller,
           ctx: Ctx) -> ClaimPublic:
    """Cancel (claim) a bundle for a beneficiary and purpose (the registry's one claim path);
    the claim with the GEC serials behind it."""
    return claim_public(certificates.cancel(ctx, caller, park_id, bundle_id, body.beneficiary,
                                            body.purpose, body.quantity_wh,
                                            claim_id=body.claim_id, operation="api"))


@router.get("/certificates/claims", response_model=list[ClaimRecordPublic])
def claims(park_id: Id, caller: Caller, ctx: Ctx) -> list[ClaimRecordPublic]:
    """The registry's claim records with their GEC serials (a tenant sees its own)."""
    return [ClaimRecordPublic(**c) for c in certificates.claims(ctx, caller, park_id)]


@router.post("/certificates/gec", response_model=GecImportPublic)
def import_gec(park_id: Id, caller: Caller, ctx: Ctx,
               records: Annotated[UploadFile, File(description="GEC export (CSV)")],
               mapping: Annotated[UploadFile, File(description="its mapping file (TOML, "
                                                   "docs/registry.md)")]) -> GecImportPublic:
    """Import the park's China green certificate (GEC) records: all rows or none. Chinese
    certificates are claimable only for months whose GECs are imported."""
    rec, mp = read_upload(records, "records"), read_upload(mapping, "mapping")
    return GecImportPublic(**certificates.import_gec(ctx, caller, park_id, rec, mp))


@router.get("/certificates/verify", response_model=VerifyPublic)
def verify(park_id: Id, caller: Caller, ctx: Ctx) -> VerifyPublic:
    """The registry's tamper-evidence check (hash chain and every bundle row)."""
    return VerifyPublic(**certificates.verify(ctx, caller, park_id))


@router.get("/certificates/export", response_class=Response,
            responses={200: {"content": {"application/json": {}}}})
def export(park_id: Id, caller: Caller, ctx: Ctx,
           status: Annotated[str | None, Query(max_length=30)] = None) -> Response:
    """Bundles with the EnergyTag GC / FEA field names, as a JSON download."""
    return Response(certificates.export_energytag(ctx, caller, park_id, status),
                    media_type="application/json", headers={
                        "Content-Disposition":
                            f'attachment; filename="greenlink-park-{park_id}-gc.json"'})
