"""Starting the service: connect, migrate, recover interrupted jobs, start the job worker."""

from __future__ import annotations

from greenlink.database import make_engine, session_factory
from greenlink.service.context import ServiceContext
from greenlink.service.db import migrate
from greenlink.service.jobs import JobRunner, recover_interrupted
from greenlink.service.settings import Settings


def open_service(settings: Settings, start_runner: bool = True) -> ServiceContext:
    """Connect, migrate, recover interrupted jobs and (optionally) start the job worker."""
    engine = make_engine(settings.db_url)
    migrate(engine)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx = ServiceContext(settings=settings, engine=engine, sessions=session_factory(engine))
    recover_interrupted(ctx)
    if start_runner:
        ctx.runner = JobRunner(ctx, settings.job_workers)
    return ctx
