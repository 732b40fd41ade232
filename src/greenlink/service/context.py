"""What every service function receives: settings, sessions and the job runner, passed in."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from greenlink.database import make_engine, session_factory
from greenlink.service.db import migrate
from greenlink.service.roles import Role
from greenlink.service.settings import Settings

if TYPE_CHECKING:
    from greenlink.service.jobs import JobRunner


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: int
    email: str
    role: Role
    organisation_id: int


@dataclass
class ServiceContext:
    """Settings, database and job runner of one running service."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    runner: JobRunner | None = field(default=None)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.shutdown()
        self.engine.dispose()


def open_service(settings: Settings, start_runner: bool = True) -> ServiceContext:
    """Connect, migrate, recover interrupted jobs and (optionally) start the job worker."""
    from greenlink.service.jobs import JobRunner, recover_interrupted

    engine = make_engine(settings.db_url)
    migrate(engine)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    ctx = ServiceContext(settings=settings, engine=engine, sessions=session_factory(engine))
    recover_interrupted(ctx)
    if start_runner:
        ctx.runner = JobRunner(ctx, settings.job_workers)
    return ctx
