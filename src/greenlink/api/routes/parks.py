"""Parks: upload, list, access, results, figures and the report."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, File, Response, UploadFile

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import Id
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import (
    AccessCreate,
    AccessPublic,
    ParkPublic,
    ResultPublic,
    UserResultPublic,
)
from greenlink.api.uploads import read_uploads
from greenlink.service import parks
from greenlink.service.errors import public_data, public_text

router = APIRouter(prefix="/parks", tags=["parks"], responses=ERRORS)


@router.get("", response_model=list[ParkPublic])
def list_parks(caller: Caller, ctx: Ctx) -> list[ParkPublic]:
    return [ParkPublic.model_validate(p) for p in parks.list_parks(ctx, caller)]


@router.post("", response_model=ParkPublic, status_code=201)
def create_park(files: Annotated[list[UploadFile], File(
        description="one scenario .toml and every file its paths reference")],
                caller: Caller, ctx: Ctx) -> ParkPublic:
    """Upload a scenario and its series; validated (every series read) before storing."""
    return ParkPublic.model_validate(parks.create_park(ctx, caller, read_uploads(files)))


@router.get("/{park_id}", response_model=ParkPublic)
def get_park(park_id: Id, caller: Caller, ctx: Ctx) -> ParkPublic:
    return ParkPublic.model_validate(parks.park_scope(ctx, caller, park_id).park)


@router.post("/{park_id}/access", response_model=AccessPublic, status_code=201)
def grant_access(park_id: Id, body: AccessCreate, caller: Caller, ctx: Ctx) -> AccessPublic:
    row = parks.grant_access(ctx, caller, park_id, body.organisation_id, body.park_user_id)
    return AccessPublic.model_validate(row)


@router.get("/{park_id}/result", response_model=ResultPublic)
def latest_result(park_id: Id, caller: Caller, ctx: Ctx) -> ResultPublic:
    """summary.json of the latest successful run (a tenant sees only its own user's rows)."""
    r = parks.latest_result(ctx, caller, park_id)
    return ResultPublic(park_id=park_id, job_id=r.job.id, summary=public_data(
        r.visible.model_dump(mode="json"), ctx.settings.data_dir))


@router.get("/{park_id}/users/{user_id}", response_model=UserResultPublic)
def user_result(park_id: Id, user_id: str, caller: Caller, ctx: Ctx) -> UserResultPublic:
    return UserResultPublic(**parks.user_result(ctx, caller, park_id, user_id))


@router.get("/{park_id}/plots/{name}.svg", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}}})
def plot(park_id: Id, name: str, caller: Caller, ctx: Ctx) -> Response:
    return Response(parks.plot_svg(ctx, caller, park_id, name), media_type="image/svg+xml")


@router.get("/{park_id}/report", response_class=Response,
            responses={200: {"content": {"text/html": {}}}})
def report(park_id: Id, caller: Caller, ctx: Ctx) -> Response:
    """The HTML report of the latest run, as a download (server paths removed)."""
    text = parks.report_file(ctx, caller, park_id).read_text(encoding="utf-8")
    return Response(public_text(text, ctx.settings.data_dir), media_type="text/html",
                    headers={"Content-Disposition":
                             f'attachment; filename="greenlink-park-{park_id}-report.html"'})
