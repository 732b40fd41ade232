"""Organisations (admin)."""

from __future__ import annotations

from fastapi import APIRouter

from greenlink.api.deps import Caller, Ctx
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import OrganisationCreate, OrganisationPublic
from greenlink.service import accounts

router = APIRouter(prefix="/organisations", tags=["organisations"], responses=ERRORS)


@router.get("", response_model=list[OrganisationPublic])
def list_organisations(caller: Caller, ctx: Ctx) -> list[OrganisationPublic]:
    return [OrganisationPublic.model_validate(o)
            for o in accounts.list_organisations(ctx, caller)]


@router.post("", response_model=OrganisationPublic, status_code=201)
def create_organisation(body: OrganisationCreate, caller: Caller,
                        ctx: Ctx) -> OrganisationPublic:
    return OrganisationPublic.model_validate(accounts.create_organisation(ctx, caller, body.name))
