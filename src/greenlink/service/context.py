"""What every service function receives: settings, sessions and the job runner, passed in.

A leaf of the service package: it imports no other service module but roles and settings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from greenlink.service.roles import Role
from greenlink.service.settings import Settings


class Runner(Protocol):
    """What the service needs of its job worker (:class:`greenlink.service.jobs.JobRunner`)."""

    def submit(self, job_id: int) -> None: ...

    def wait(self, job_id: int, timeout_s: float | None = None) -> None: ...

    def shutdown(self) -> None: ...


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user_id: int
    email: str
    role: Role
    organisation_id: int
    #: the dashboard's language chosen by the user (``en``, ``zh-CN``); None: the browser's
    language: str | None = None


@dataclass
class ServiceContext:
    """Settings, database and job runner of one running service."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    runner: Runner | None = field(default=None)

    def close(self) -> None:
        if self.runner is not None:
            self.runner.shutdown()
        self.engine.dispose()
