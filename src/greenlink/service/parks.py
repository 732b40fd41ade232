"""Parks: create from an upload, list, access (who sees which park, tenants bound to one user),
and the results of the latest successful run, filtered to what the caller may see."""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select

from greenlink.database import transaction
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import Conflict, NotAllowed, NotFound
from greenlink.service.models import Job, Organisation, Park, ParkAccess
from greenlink.service.roles import Action, Role, allowed
from greenlink.service.uploads import UploadedFile, stage_bundle
from greenlink.summary import RunSummary, TenantSummary, read_summary, tenant_view

PLOT_NAMES = ("seasonal", "monthly", "battery", "users")
RESULT_KINDS = ("simulate", "check")  # jobs whose outputs are "the park's latest result"


def require(actor: Principal, action: Action) -> None:
    if not allowed(actor.role, action):
        raise NotAllowed(f"role {actor.role} may not {action.value}")


@dataclass(frozen=True)
class ParkScope:
    """A park as one caller sees it: ``user_id`` is set for a tenant (its own scenario user)."""

    park: Park
    user_id: str | None

    @property
    def folder(self) -> Path:
        return Path(self.park.folder)


def create_park(ctx: ServiceContext, actor: Principal, files: list[UploadedFile]) -> Park:
    """Validate an uploaded scenario bundle and store it as a new park of the caller's
    organisation (nothing is stored when validation fails)."""
    require(actor, Action.PARK_CREATE)
    root = ctx.settings.data_dir / "parks"
    staged, loaded = stage_bundle(files, ctx.settings.data_dir / "staging")
    final = root / uuid.uuid4().hex / "scenario"
    try:
        final.parent.mkdir(parents=True)
        os.replace(staged, final)
        with transaction(ctx.sessions) as s:
            park = Park(name=loaded.scenario.name, organisation_id=actor.organisation_id,
                        folder=str(final.parent), user_ids=list(loaded.scenario.user_ids))
            s.add(park)
            s.flush()
            s.add(ParkAccess(park_id=park.id, organisation_id=actor.organisation_id))
            audit.record(s, actor, "park.create", f"park:{park.id}", name=park.name,
                         files=sorted(f.filename for f in files))
            return park
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(final.parent, ignore_errors=True)
        raise


def list_parks(ctx: ServiceContext, actor: Principal) -> list[Park]:
    require(actor, Action.PARK_READ)
    with ctx.sessions() as s:
        q = select(Park).order_by(Park.id)
        if actor.role != Role.ADMIN:
            q = q.join(ParkAccess, ParkAccess.park_id == Park.id).where(
                ParkAccess.organisation_id == actor.organisation_id)
        return list(s.scalars(q))


def park_scope(ctx: ServiceContext, actor: Principal, park_id: int,
               action: Action = Action.PARK_READ) -> ParkScope:
    """The park if the caller's role may do ``action`` and its organisation may see the park.

    A park the caller may not see is reported as not found (its existence is not revealed).
    """
    require(actor, action)
    with ctx.sessions() as s:
        park = s.get(Park, park_id)
        if park is None:
            raise NotFound(f"park {park_id} not found")
        if actor.role == Role.ADMIN:
            return ParkScope(park, None)
        access = s.scalar(select(ParkAccess).where(
            ParkAccess.park_id == park_id, ParkAccess.organisation_id == actor.organisation_id))
    if access is None:
        raise NotFound(f"park {park_id} not found")
    if actor.role == Role.TENANT:
        if not access.park_user_id:
            raise NotFound(f"park {park_id} not found")
        return ParkScope(park, access.park_user_id)
    return ParkScope(park, None)


def grant_access(ctx: ServiceContext, actor: Principal, park_id: int, organisation_id: int,
                 park_user_id: str | None) -> ParkAccess:
    """Let an organisation see a park; a tenant organisation is bound to one scenario user."""
    scope = park_scope(ctx, actor, park_id, Action.PARK_GRANT)
    if park_user_id is not None and park_user_id not in scope.park.user_ids:
        raise NotFound(f"park {park_id} has no user {park_user_id!r} "
                       f"(users: {', '.join(scope.park.user_ids)})")
    with transaction(ctx.sessions) as s:
        if s.get(Organisation, organisation_id) is None:
            raise NotFound(f"organisation {organisation_id} not found")
        if s.scalar(select(ParkAccess).where(ParkAccess.park_id == park_id,
                                             ParkAccess.organisation_id == organisation_id)):
            raise Conflict(f"organisation {organisation_id} already has access to park {park_id}")
        row = ParkAccess(park_id=park_id, organisation_id=organisation_id,
                         park_user_id=park_user_id)
        s.add(row)
        s.flush()
        audit.record(s, actor, "park.grant", f"park:{park_id}", organisation_id=organisation_id,
                     park_user_id=park_user_id)
        return row


def tenant_user_id(ctx: ServiceContext, actor: Principal, park_id: int) -> str | None:
    """The scenario user a tenant caller is bound to in ``park_id`` (None for other roles)."""
    return park_scope(ctx, actor, park_id).user_id


# ------------------------------------------------------------------ results


@dataclass(frozen=True)
class ParkResult:
    """The latest successful run of a park, and the part of it the caller may see."""

    scope: ParkScope
    job: Job
    summary: RunSummary

    @property
    def folder(self) -> Path:
        return Path(self.job.result_folder or "")

    @property
    def visible(self) -> RunSummary | TenantSummary:
        """The whole summary, or for a tenant its allow-listed view (:func:`tenant_view`)."""
        if self.scope.user_id is None:
            return self.summary
        return tenant_view(self.summary, self.scope.user_id)


def latest_result(ctx: ServiceContext, actor: Principal, park_id: int) -> ParkResult:
    """Summary of the newest succeeded job; 404 when the park has not been simulated yet."""
    scope = park_scope(ctx, actor, park_id)
    with ctx.sessions() as s:
        job = s.scalar(select(Job).where(Job.park_id == park_id, Job.status == "succeeded",
                                         Job.kind.in_(RESULT_KINDS))
                       .order_by(Job.id.desc()).limit(1))
    if job is None or not job.result_folder:
        raise NotFound(f"park {park_id} has no successful run yet (start a simulate job)")
    summary = read_summary((Path(job.result_folder) / "summary.json").read_bytes())
    return ParkResult(scope, job, summary)


def user_result(ctx: ServiceContext, actor: Principal, park_id: int,
                user_id: str) -> dict[str, Any]:
    """One scenario user's shares and products; a tenant may only open its own user."""
    result = latest_result(ctx, actor, park_id)
    if result.scope.user_id is not None and result.scope.user_id != user_id:
        raise NotFound(f"user {user_id!r} not found in park {park_id}")
    users = [u for u in result.summary.users if u.id == user_id]
    if not users:
        raise NotFound(f"user {user_id!r} not found in park {park_id}")
    products = [p.model_dump(mode="json") for p in result.summary.products
                if p.user_id == user_id]
    return {"user": users[0].model_dump(mode="json"), "products": products}


def plot_svg(ctx: ServiceContext, actor: Principal, park_id: int, name: str) -> str:
    """One stored figure of the latest run (``seasonal``, ``monthly``, ``battery``, ``users``).

    The per-user figure shows every user, so a tenant gets it only re-drawn for its own user.
    """
    if name not in PLOT_NAMES:
        raise NotFound(f"plot {name!r} not found (plots: {', '.join(PLOT_NAMES)})")
    result = latest_result(ctx, actor, park_id)
    if name == "users" and result.scope.user_id is not None:
        from greenlink.report.plots import user_share_svg

        view = result.visible.model_dump(mode="json")
        return standalone_svg(user_share_svg(view["users"], view["shares"]))
    return standalone_svg((result.folder / f"plot_{name}.svg").read_text(encoding="utf-8"))


def standalone_svg(svg: str) -> str:
    """An inline ``<svg>`` (as :mod:`greenlink.report.plots` draws them, for embedding in HTML)
    as a stand-alone SVG document: the namespaces HTML implies are declared again."""
    if "xmlns=" in svg.split(">", 1)[0]:
        return svg
    return svg.replace("<svg ", '<svg xmlns="http://www.w3.org/2000/svg" '
                       'xmlns:xlink="http://www.w3.org/1999/xlink" ', 1)


def report_file(ctx: ServiceContext, actor: Principal, park_id: int) -> Path:
    """The HTML report of the latest run (every user's data: not for tenants)."""
    park_scope(ctx, actor, park_id, Action.REPORT_DOWNLOAD)
    result = latest_result(ctx, actor, park_id)
    return result.folder / "report.html"
