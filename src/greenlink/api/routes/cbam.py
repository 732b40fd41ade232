"""CBAM: SEE per process, liability per year, exposure over the phase-in years, PACT and the
Commission template."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response
from fastapi.responses import FileResponse

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import Id
from greenlink.api.routes import ERRORS
from greenlink.service import cbam

router = APIRouter(prefix="/parks/{park_id}/cbam", tags=["cbam"], responses=ERRORS)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("", response_model=dict[str, Any])
def cbam_view(park_id: Id, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Per installation of the latest run: SEE per process with the electricity-factor route,
    liability per year (grid vs direct connection), top of the exposure map."""
    return cbam.cbam_view(ctx, caller, park_id)


@router.get("/{installation_id}/see", response_model=dict[str, Any])
def see(park_id: Id, installation_id: str, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    return cbam.installation_see(ctx, caller, park_id, installation_id)


@router.get("/{installation_id}/liability", response_model=dict[str, Any])
def liability(park_id: Id, installation_id: str, caller: Caller,
              ctx: Ctx) -> dict[str, Any]:
    return cbam.installation_liability(ctx, caller, park_id, installation_id)


@router.get("/{installation_id}/exposure", response_model=list[dict[str, Any]])
def exposure(park_id: Id, installation_id: str, caller: Caller, ctx: Ctx,
             by: Annotated[Literal["sku", "customer"], Query()] = "sku"
             ) -> list[dict[str, Any]]:
    return cbam.installation_exposure(ctx, caller, park_id, installation_id, by)


@router.get("/{installation_id}/pact", response_class=Response,
            responses={200: {"content": {"application/json": {}}}})
def pact(park_id: Id, installation_id: str, caller: Caller, ctx: Ctx) -> Response:
    """PACT ProductFootprints (one per process), as a JSON download."""
    from greenlink.jsonio import dumps

    body = dumps(cbam.installation_pact(ctx, caller, park_id, installation_id))
    return Response(body, media_type="application/json", headers={
        "Content-Disposition": f'attachment; filename="pact-{installation_id}.json"'})


@router.get("/{installation_id}/template", response_class=FileResponse,
            responses={200: {"content": {XLSX: {}}}})
def template(park_id: Id, installation_id: str, caller: Caller, ctx: Ctx) -> FileResponse:
    """The Commission's CBAM template filled by the newest ``cbam_template`` job."""
    path = cbam.template_file(ctx, caller, park_id, installation_id)
    return FileResponse(path, media_type=XLSX, filename=path.name)
