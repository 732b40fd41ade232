"""One database transaction around several registry operations (cancel all, or none).

Building a pack cancels many bundles (one per hour, splits included) and must keep none of them
when the pack cannot be completed. :func:`one_transaction` is the registry's own
:meth:`greenlink.certificates.registry.Registry.transaction`: a view of the registry whose
every operation is a savepoint inside one outer transaction on one connection (one event each,
the last one signed at the commit); its reads see the writes, others see nothing until the
commit, and an exception anywhere in the block — or a failed commit — rolls all of them back.
While it is open, other writers wait (it holds the chain head: SQLite ``BEGIN IMMEDIATE``,
PostgreSQL the chain-head row lock).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def one_transaction(registry: Any, *, commit: bool = True) -> Iterator[Any]:
    """A view of ``registry`` (a :class:`greenlink.certificates.registry.Registry`) whose
    writes all land in one transaction: committed when the block ends without an exception and
    ``commit`` is true, rolled back otherwise (``commit=False``: a dry run)."""
    with registry.transaction(commit=commit) as view:
        yield view
