"""One database transaction around several registry operations (cancel all, or none).

``Registry`` commits each operation on its own. Building a pack cancels many bundles (one per
hour, splits included) and must keep none of them when the pack cannot be completed, so
:func:`one_transaction` gives a view of the registry whose every write is a savepoint inside one
outer transaction on one connection: its reads see the writes, others see nothing until the
commit, and an exception anywhere in the block — or a failed commit — rolls all of them back.
While it is open, other writers wait (SQLite ``BEGIN IMMEDIATE``; PostgreSQL: the chain-head
row lock every write takes).
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.orm import sessionmaker


class _ConnectionAsEngine:
    """Stands in for the registry's engine: ``connect()`` hands out the one open connection
    (not closed after use); everything else is the real engine's."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        yield self._connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection.engine, name)


@contextmanager
def one_transaction(registry: Any, *, commit: bool = True) -> Iterator[Any]:
    """A view of ``registry`` (a :class:`greenlink.certificates.registry.Registry`) whose
    writes all land in one transaction: committed when the block ends without an exception and
    ``commit`` is true, rolled back otherwise (``commit=False``: a dry run)."""
    with registry.engine.connect() as connection:
        outer = connection.begin()
        view = copy.copy(registry)
        view.engine = _ConnectionAsEngine(connection)
        view.sessions = sessionmaker(bind=connection, expire_on_commit=False,
                                     join_transaction_mode="create_savepoint")
        try:
            yield view
        except BaseException:
            outer.rollback()
            raise
        if not commit:
            outer.rollback()
            return
        try:
            outer.commit()
        except BaseException:
            # the outcome of a failed COMMIT is not trusted: drop the database connection,
            # so an unfinished transaction dies with it instead of going back to the pool
            connection.invalidate()
            raise
