"""Simulate/check jobs: queued by a request, run by a worker thread, with progress.

A job writes its outputs into a hidden temporary folder and renames it into place only after
everything (flows, summary, report, figures) is complete; the job is marked ``succeeded`` after
the rename. A failure removes the temporary folder, so a failed job leaves no partial results.

Who sees a job: park operators, verifiers and admins every job of a park they may see; a tenant
only the jobs its own organisation started (other jobs of the park answer 404, and are not
listed). An organisation may have ``settings.max_active_jobs_per_org`` jobs queued or running at
once; one more answers 429. A failed job's error names no server path; an unexpected error
(a bug, a full disk) is stored as a generic message and its details go to the server log.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import shutil
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import func, select

from greenlink.database import transaction
from greenlink.errors import GreenlinkError, InputError, Problem
from greenlink.service import audit
from greenlink.service.context import Principal, ServiceContext
from greenlink.service.errors import NotFound, TooManyRequests, public_data, public_text
from greenlink.service.models import Job, Organisation, Park, User, now_utc
from greenlink.service.parks import park_scope
from greenlink.service.roles import Action, Role

if TYPE_CHECKING:
    from greenlink.workflows.run import RunResult

log = logging.getLogger(__name__)
T = TypeVar("T")
ACTIVE = ("queued", "running")

JOB_KINDS = ("simulate", "check", "optimize", "cbam_template")
STEPS = 9  # progress messages of run_scenario + write_outputs + figures, roughly


class JobRunner:
    """A small pool of worker threads running jobs outside the request.

    With a Dask scheduler (``scheduler``, or the environment's ``GREENLINK_DASK_SCHEDULER``, e.g.
    ``tcp://10.0.0.5:8786``) the threads keep the bookkeeping and hand each job's computation
    (simulation, optimisation) to the cluster, the one ``greenlink portfolio run`` uses; the
    workers must see the service's data folder at the same path.
    """

    def __init__(self, ctx: ServiceContext, workers: int = 1,
                 scheduler: str | None = None) -> None:
        self.ctx = ctx
        self.pool = ThreadPoolExecutor(max_workers=max(1, workers),
                                       thread_name_prefix="greenlink-job")
        self.futures: dict[int, Future[None]] = {}
        self.scheduler = scheduler or os.environ.get("GREENLINK_DASK_SCHEDULER") or None
        self._client: object | None = None

    def compute(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        """``fn(*args, **kwargs)`` here, or on the Dask cluster when one is configured."""
        if self.scheduler is None:
            return fn(*args, **kwargs)
        if self._client is None:
            from distributed import Client

            self._client = Client(self.scheduler)
        for callback in ("progress", "solver_progress"):  # callbacks stay in this process
            kwargs.pop(callback, None)
        future = self._client.submit(fn, *args, pure=False, **kwargs)  # type: ignore[attr-defined]
        return future.result()  # type: ignore[no-any-return]

    def submit(self, job_id: int) -> None:
        self.futures[job_id] = self.pool.submit(run_job, self.ctx, job_id)

    def wait(self, job_id: int, timeout_s: float | None = None) -> None:
        """Block until ``job_id`` has finished (tests and the CLI)."""
        future = self.futures.get(job_id)
        if future is not None:
            future.result(timeout=timeout_s)

    def shutdown(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()  # type: ignore[attr-defined]


def submit_job(ctx: ServiceContext, actor: Principal, park_id: int, kind: str,
               ruleset: str | None = None, installation: str | None = None) -> Job:
    """Queue a job for a park: ``simulate`` / ``check`` (run the scenario), ``optimize``
    (least-cost sizing and dispatch, greenlink.optimize) or ``cbam_template`` (fill the
    Commission's CBAM template of ``installation`` from the latest run); inputs are checked
    first."""
    if kind not in JOB_KINDS:
        raise NotFound(f"job kind {kind!r} not known (kinds: {', '.join(JOB_KINDS)})")
    params: dict[str, str] | None = None
    if kind == "cbam_template":
        from greenlink.service.cbam import check_installation

        if not installation:
            raise InputError(Problem("installation missing", location="installation",
                                     expected="an installation id of the scenario"))
        check_installation(ctx, actor, park_id, installation)  # role, tenant, latest run
        params = {"installation": installation}
    else:
        park_scope(ctx, actor, park_id, Action.JOB_CREATE)
    if ruleset is not None:
        from greenlink.workflows.rules import check_builtin_ruleset

        if ruleset.endswith(".toml") or "/" in ruleset:
            raise NotFound(f"rule set {ruleset!r}: only built-in rule-set ids are allowed here")
        check_builtin_ruleset(ruleset)
    limit = ctx.settings.max_active_jobs_per_org
    with transaction(ctx.sessions) as s:
        # one organisation at a time (PostgreSQL: row lock; SQLite: the insert takes the
        # database's write lock before the count)
        s.get(Organisation, actor.organisation_id, with_for_update=True)
        job = Job(park_id=park_id, kind=kind, ruleset=ruleset, params=params, status="queued",
                  progress=0.0,
                  message=f"queued ({ruleset or 'scenario rule set'})", created_by=actor.user_id)
        s.add(job)
        s.flush()
        active = s.scalar(select(func.count()).select_from(Job)
                          .join(User, User.id == Job.created_by)
                          .where(User.organisation_id == actor.organisation_id,
                                 Job.status.in_(ACTIVE)))
        if (active or 0) > limit:
            raise TooManyRequests(f"your organisation already has {limit} jobs queued or "
                                  f"running (the limit); start this one when one has finished",
                                  retry_after_s=10)
        audit.record(s, actor, "job.create", f"job:{job.id}", park_id=park_id, kind=kind,
                     ruleset=ruleset, params=params)
    if ctx.runner is not None:
        ctx.runner.submit(job.id)
    return job


def get_job(ctx: ServiceContext, actor: Principal, job_id: int) -> Job:
    """One job, if the caller may see its park (and, for a tenant, its organisation made it)."""
    with ctx.sessions() as s:
        job = s.get(Job, job_id)
        creator = s.get(User, job.created_by) if job is not None else None
    if job is None:
        raise NotFound(f"job {job_id} not found")
    park_scope(ctx, actor, job.park_id, Action.JOB_READ)
    if actor.role == Role.TENANT and (creator is None
                                      or creator.organisation_id != actor.organisation_id):
        raise NotFound(f"job {job_id} not found")
    return job


def optimization_result(ctx: ServiceContext, actor: Principal, job_id: int) -> dict[str, object]:
    """``optimization.json`` of a succeeded optimize job (sizes, costs, shadow prices,
    relaxations; docs/optimize.md)."""
    import json

    with ctx.sessions() as s:
        job = s.get(Job, job_id)
    if job is None:
        raise NotFound(f"job {job_id} not found")
    park_scope(ctx, actor, job.park_id, Action.OPTIMIZATION_READ)
    if job.kind != "optimize" or job.status != "succeeded" or not job.result_folder:
        raise NotFound(f"job {job_id} is not a succeeded optimize job")
    data: dict[str, object] = json.loads(
        (Path(job.result_folder) / "optimization.json").read_text(encoding="utf-8"))
    return dict(public_data(data, ctx.settings.data_dir))


def list_jobs(ctx: ServiceContext, actor: Principal, park_id: int) -> list[Job]:
    """The park's jobs, newest first (a tenant: those its own organisation started)."""
    park_scope(ctx, actor, park_id, Action.JOB_READ)
    q = select(Job).where(Job.park_id == park_id)
    if actor.role == Role.TENANT:
        q = q.where(Job.created_by.in_(select(User.id).where(
            User.organisation_id == actor.organisation_id)))
    with ctx.sessions() as s:
        return list(s.scalars(q.order_by(Job.id.desc())))


def _update(ctx: ServiceContext, job_id: int, **values: object) -> None:
    with transaction(ctx.sessions) as s:
        job = s.get(Job, job_id)
        if job is not None:
            for key, value in values.items():
                setattr(job, key, value)


def _compute(ctx: ServiceContext, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
    runner = ctx.runner
    if isinstance(runner, JobRunner):
        return runner.compute(fn, *args, **kwargs)
    return fn(*args, **kwargs)


def run_job(ctx: ServiceContext, job_id: int) -> None:
    """Run one job to the end (never raises: failures are recorded on the job)."""
    from greenlink.report.plots import report_plots
    from greenlink.workflows.run import run_scenario, write_outputs

    with ctx.sessions() as s:
        job = s.get(Job, job_id)
        park = s.get(Park, job.park_id) if job else None
    if job is None or park is None:
        return
    ruleset = job.ruleset
    jobs_dir = Path(park.folder) / "jobs"
    tmp = jobs_dir / f".tmp-{job_id}"
    final = jobs_dir / str(job_id)
    done = [0]

    def say(message: str) -> None:
        done[0] += 1
        _update(ctx, job_id, message=message, progress=min(0.95, done[0] / STEPS))

    try:
        _update(ctx, job_id, status="running", message="starting")
        shutil.rmtree(tmp, ignore_errors=True)
        detail: dict[str, object] = {}
        if job.kind == "cbam_template":
            detail = _run_template(ctx, park, job, tmp, say)
        elif job.kind == "optimize":
            from greenlink.workflows.optimise import optimize_scenario, write_optimization

            opt = _compute(ctx, optimize_scenario, Path(park.folder) / "scenario" / "park.toml",
                           progress=say, ruleset=ruleset, solver_progress=lambda p: _update(
                               ctx, job_id, message=p.message))
            write_optimization(opt, tmp, progress=say)
            detail = {"feasible": bool(opt.feasible)}
        else:
            result = _compute(ctx, run_scenario, Path(park.folder) / "scenario" / "park.toml",
                              progress=say, ruleset=ruleset)
            result = _public_result(result, ctx.settings.data_dir)
            write_outputs(result, tmp, progress=say)
            say("drawing figures")
            for name, svg in report_plots(result.flows,
                                          result.summary.model_dump(mode="json")).items():
                (tmp / f"plot_{name}.svg").write_text(svg, encoding="utf-8")
            detail = {"all_passed": bool(result.policy.all_passed)}
        tmp.rename(final)
        with transaction(ctx.sessions) as s:
            row = s.get(Job, job_id)
            assert row is not None
            row.status, row.progress, row.message = "succeeded", 1.0, "done"
            row.result_folder, row.finished_at = str(final), now_utc()
            audit.record(s, row.created_by, "job.succeed", f"job:{job_id}",
                         park_id=park.id, **detail)
    except Exception as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(final, ignore_errors=True)
        if isinstance(exc, GreenlinkError):
            text = public_text(str(exc), ctx.settings.data_dir)
        else:
            text = f"internal error (job {job_id}); the server log has the details"
            log.exception("job %s (%s) failed", job_id, job.kind)
        with transaction(ctx.sessions) as s:
            row = s.get(Job, job_id)
            if row is not None:
                row.status, row.error, row.message = "failed", text, "failed"
                row.finished_at = now_utc()
                audit.record(s, row.created_by, "job.fail", f"job:{job_id}", error=text)


def _public_result(result: RunResult, data_dir: Path) -> RunResult:
    """``result`` with a summary that names no server path (the scenario file is
    ``park.toml``, a weather file its name): what summary.json and report.html show."""
    from greenlink.summary import RunSummary

    data = public_data(result.summary.model_dump(mode="json"), data_dir)
    return dataclasses.replace(result, summary=RunSummary.model_validate(data))


def _run_template(ctx: ServiceContext, park: Park, job: Job, tmp: Path,
                  say: Callable[[str], None]) -> dict[str, object]:
    """Fill the CBAM template of ``job.params['installation']`` from the latest run's flows."""
    from greenlink.service.cbam import fill_template
    from greenlink.service.parks import RESULT_KINDS

    installation = (job.params or {})["installation"]
    with ctx.sessions() as s:
        source = s.scalar(select(Job).where(Job.park_id == job.park_id,
                                            Job.status == "succeeded",
                                            Job.kind.in_(RESULT_KINDS))
                          .order_by(Job.id.desc()).limit(1))
    if source is None or not source.result_folder:
        raise InputError(Problem("the park has no successful simulation yet",
                                 expected="run a simulate job first"))
    _update(ctx, job.id, message=f"filling the CBAM template of {installation}", progress=0.2)
    tmp.mkdir(parents=True)
    fill_template(Path(park.folder), Path(source.result_folder) / "flows.parquet",
                  installation, tmp / f"cbam_template_{installation}.xlsx")
    return {"installation": installation, "source_job": source.id}


def recover_interrupted(ctx: ServiceContext) -> int:
    """Mark jobs left queued/running by a stopped service as failed and remove their partial
    folders; returns how many."""
    with transaction(ctx.sessions) as s:
        jobs = list(s.scalars(select(Job).where(Job.status.in_(("queued", "running")))))
        for job in jobs:
            job.status, job.error, job.message = "failed", "interrupted by a restart", "failed"
            job.finished_at = now_utc()
            audit.record(s, None, "job.fail", f"job:{job.id}", error="interrupted by a restart")
        folders = [(job.id, job.park_id) for job in jobs]

    with ctx.sessions() as s:
        for job_id, park_id in folders:
            park = s.get(Park, park_id)
            if park is not None:
                shutil.rmtree(Path(park.folder) / "jobs" / f".tmp-{job_id}", ignore_errors=True)
    return len(folders)
