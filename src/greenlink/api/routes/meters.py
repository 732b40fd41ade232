"""Meter uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Form, UploadFile

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import Id
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import MeterUploadPublic
from greenlink.api.uploads import read_upload
from greenlink.service import meters

router = APIRouter(prefix="/parks/{park_id}/meter-uploads", tags=["meters"], responses=ERRORS)


@router.post("", response_model=MeterUploadPublic, status_code=201)
def upload_meter(park_id: Id, file: Annotated[UploadFile, File(
        description="CSV: interval_start,energy_kwh")], caller: Caller, ctx: Ctx,
                 user_id: Annotated[str | None, Form(max_length=100)] = None
                 ) -> MeterUploadPublic:
    """Validate and store a meter file (a tenant uploads for its own user only)."""
    upload = read_upload(file)
    row = meters.upload_meter(ctx, caller, park_id, user_id, upload.filename, upload.content)
    return MeterUploadPublic.model_validate(row)


@router.get("", response_model=list[MeterUploadPublic])
def list_meter_uploads(park_id: Id, caller: Caller, ctx: Ctx) -> list[MeterUploadPublic]:
    return [MeterUploadPublic.model_validate(m)
            for m in meters.list_meter_uploads(ctx, caller, park_id)]
