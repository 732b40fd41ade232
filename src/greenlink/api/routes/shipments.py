"""Shipments and emission data addressed to an importer."""

from __future__ import annotations

from fastapi import APIRouter

from greenlink.api.deps import Caller, Ctx
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import ShipmentPublic
from greenlink.service import shipments

router = APIRouter(prefix="/shipments", tags=["shipments"], responses=ERRORS)


@router.get("", response_model=list[ShipmentPublic])
def list_shipments(caller: Caller, ctx: Ctx) -> list[ShipmentPublic]:
    """Shipments addressed to the caller's organisation (importer), or of the parks it sees."""
    return [ShipmentPublic(**s) for s in shipments.list_shipments(ctx, caller)]
