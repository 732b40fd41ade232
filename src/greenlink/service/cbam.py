"""CBAM over the service: SEE per process (with the electricity-factor route), liability per
year on grid electricity vs the direct connection, the exposure map over the phase-in years
(``greenlink.carbon.cbam_data.phase_in_years``), shipments addressed to
an importer, and the PACT / Commission-template downloads.

Everything is computed by :mod:`greenlink.workflows.cbam` from the scenario and the flows
of the park's latest successful run; the per-installation accounts are cached per run (they take
a fraction of a second; the template fill takes ~10 s, so it runs as a job, see
:mod:`greenlink.service.jobs`). A tenant sees only the installations of its own scenario user;
an importer only the shipments whose ``importer`` (or, when that is empty, ``customer``) equals
its organisation's name.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import select

from greenlink.jsonio import records, to_jsonable
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotFound
from greenlink.service.models import Job, Organisation, Park, ParkAccess
from greenlink.service.parks import ParkResult, latest_result, require
from greenlink.service.roles import Action, Role

_cache: dict[tuple[int, str], tuple[Any, Any]] = {}
_cache_lock = threading.Lock()
CACHE_SIZE = 64  # installations × runs kept (a few MB each at most)
SHIPMENT_FIELDS = ["shipment_id", "customer", "importer", "sku", "cn_code", "tonnes", "date",
                   "year", "see_direct_t_per_t", "see_counted_grid_t_per_t",
                   "see_counted_dc_t_per_t", "footprint_grid_t_per_t", "footprint_dc_t_per_t",
                   "green_share", "certificates_grid", "certificates_dc", "cost_grid_eur",
                   "cost_dc_eur", "saving_eur"]


def _result(ctx: ServiceContext, actor: Principal, park_id: int,
            action: Action = Action.CBAM_READ) -> ParkResult:
    require(actor, action)
    return latest_result(ctx, actor, park_id)


def cbam_view(ctx: ServiceContext, actor: Principal, park_id: int) -> dict[str, Any]:
    """Per installation: SEE per process with the route, liability per year, top exposure."""
    result = _result(ctx, actor, park_id)
    cbam = result.visible.cbam
    return {"park_id": park_id, "job_id": result.job.id,
            "installations": [] if cbam is None
            else [i.model_dump(mode="json") for i in cbam.installations]}


def _accounts(result: ParkResult, installation_id: str) -> tuple[Any, Any]:
    """(loaded scenario, InstallationAccounts) of one installation in the latest run."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import cbam
    from greenlink.workflows.flows_source import read_scenario_flows

    key = (result.job.id, installation_id)
    with _cache_lock:
        cached = _cache.get(key)
    if cached is None:
        loaded = load_scenario(result.scope.folder / "scenario" / "park.toml")
        if installation_id not in {i.id for i in loaded.scenario.installations}:
            raise NotFound(f"installation {installation_id!r} not found in park "
                           f"{result.scope.park.id}")
        flows = read_scenario_flows(loaded, result.folder / "flows.parquet")
        cached = (loaded, cbam.accounts_for(loaded, flows, installation_id))
        with _cache_lock:
            if len(_cache) >= CACHE_SIZE:
                _cache.clear()
            _cache[key] = cached
    # the scope check runs on every call, cached or not: a tenant sees its own plant only
    if result.scope.user_id is not None and cached[1].installation.user != result.scope.user_id:
        raise NotFound(f"installation {installation_id!r} not found in park "
                       f"{result.scope.park.id}")
    return cached


def installation_see(ctx: ServiceContext, actor: Principal, park_id: int,
                     installation_id: str) -> dict[str, Any]:
    """SEE per process, the electricity-factor route and the audit trail."""
    from greenlink.workflows.cbam import see_report

    return to_jsonable(see_report(_accounts(_result(ctx, actor, park_id), installation_id)[1]))


def installation_liability(ctx: ServiceContext, actor: Principal, park_id: int,
                           installation_id: str) -> dict[str, Any]:
    """Liability per shipment (its own year) and per year, grid-only vs direct connection."""
    from greenlink.workflows.cbam import liability_report

    acc = _accounts(_result(ctx, actor, park_id), installation_id)[1]
    return to_jsonable(liability_report(acc))


def installation_exposure(ctx: ServiceContext, actor: Principal, park_id: int,
                          installation_id: str, by: str = "sku") -> list[dict[str, Any]]:
    from greenlink.workflows.cbam import exposure_report

    acc = _accounts(_result(ctx, actor, park_id), installation_id)[1]
    return records(exposure_report(acc, by))


def installation_pact(ctx: ServiceContext, actor: Principal, park_id: int,
                      installation_id: str) -> list[dict[str, Any]]:
    """PACT ProductFootprints (one per process) of an installation."""
    from greenlink.workflows.cbam import pact_footprints

    loaded, acc = _accounts(_result(ctx, actor, park_id, Action.CBAM_EXPORT), installation_id)
    names = {u.id: u.name for u in loaded.scenario.users}
    footprints: list[dict[str, Any]] = to_jsonable(
        pact_footprints(acc, names.get(acc.installation.user) or acc.installation.user))
    return footprints


def fill_template(park_folder: Path, flows_path: Path, installation_id: str, out: Path) -> Path:
    """Fill the Commission's template for one installation (no LibreOffice recalculation);
    called by the ``cbam_template`` job."""
    from greenlink.scenario.load import load_scenario
    from greenlink.workflows import cbam
    from greenlink.workflows.flows_source import read_scenario_flows

    loaded = load_scenario(park_folder / "scenario" / "park.toml")
    acc = cbam.accounts_for(loaded, read_scenario_flows(loaded, flows_path), installation_id)
    cbam.template(acc, out, recalc=False)
    return out


def check_installation(ctx: ServiceContext, actor: Principal, park_id: int,
                       installation_id: str) -> None:
    """Raise NotFound unless the caller may see this installation of the park."""
    _accounts(_result(ctx, actor, park_id, Action.CBAM_TEMPLATE), installation_id)


def template_file(ctx: ServiceContext, actor: Principal, park_id: int,
                  installation_id: str) -> Path:
    """The filled template of the newest succeeded ``cbam_template`` job for the installation."""
    result = _result(ctx, actor, park_id, Action.CBAM_EXPORT)
    _accounts(result, installation_id)
    with ctx.sessions() as s:
        jobs = list(s.scalars(select(Job).where(Job.park_id == park_id,
                                                Job.kind == "cbam_template",
                                                Job.status == "succeeded")
                              .order_by(Job.id.desc())))
    for job in jobs:
        if (job.params or {}).get("installation") == installation_id and job.result_folder:
            path = Path(job.result_folder) / f"cbam_template_{installation_id}.xlsx"
            if path.exists():
                return path
    raise NotFound(f"no filled template for {installation_id!r} yet (start a cbam_template job)")


def list_shipments(ctx: ServiceContext, actor: Principal) -> list[dict[str, Any]]:
    """Shipments with their embedded emissions and liability: an importer gets those addressed
    to its organisation (``importer`` column, else ``customer``), over every park; admin and
    verifier every shipment of the parks they may see."""
    require(actor, Action.SHIPMENT_READ)
    with ctx.sessions() as s:
        org = s.get(Organisation, actor.organisation_id)
        q = select(Park.id).order_by(Park.id)
        if actor.role == Role.VERIFIER:
            q = q.join(ParkAccess, ParkAccess.park_id == Park.id).where(
                ParkAccess.organisation_id == actor.organisation_id)
        park_ids = list(s.scalars(q))
    name = (org.name if org else "").strip().casefold()
    out: list[dict[str, Any]] = []
    for park_id in park_ids:
        try:
            # the importer has no park access: read the result as the service, filter here
            result = latest_result(ctx, _service_reader(actor), park_id)
        except NotFound:
            continue
        installations = result.summary.cbam.installations if result.summary.cbam else []
        for inst in installations:
            _loaded, acc = _accounts(result, inst.id)
            if acc.liability is None:
                continue
            table = acc.liability
            for row in table.to_dict("records"):
                addressee = str(row.get("importer") or row.get("customer") or "")
                if actor.role == Role.IMPORTER and addressee.strip().casefold() != name:
                    continue
                item = {k: row.get(k) for k in SHIPMENT_FIELDS}
                out.append(to_jsonable({"park_id": park_id, "installation": inst.id, **item}))
    return out


def _service_reader(actor: Principal) -> Principal:
    """An admin view for reading results on behalf of an importer or verifier (the filtering
    is done by :func:`list_shipments`, which checked the caller's role already)."""
    return Principal(user_id=actor.user_id, email=actor.email, role=Role.ADMIN,
                     organisation_id=actor.organisation_id)
