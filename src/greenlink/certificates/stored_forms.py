"""Stored forms (SQLite): values of a chained table kept in another form than the one the
registry writes, which the row digest does not see but SQL comparisons do."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from greenlink.certificates.chained import CHAINED, describe
from greenlink.certificates.digests import key_of

#: The text SQLAlchemy writes for a DateTime and a Date on SQLite: the only form the registry
#: stores (SQLite keeps them as text, and compares that text in SQL).
_SQLITE_DATETIME_GLOB = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:"
                         "[0-9][0-9].[0-9][0-9][0-9][0-9][0-9][0-9]")
_SQLITE_DATE_GLOB = "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]"


def _sqlite_canonical(column: Any) -> str | None:
    """SQL that is true when ``column`` holds a value in the one form the registry writes on
    SQLite (or NULL), or ``None`` for a type not checked."""
    from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String

    name = f'"{column.name}"'
    kind = column.type
    if isinstance(kind, DateTime):
        ok = f"typeof({name}) = 'text' AND {name} GLOB '{_SQLITE_DATETIME_GLOB}'"
    elif isinstance(kind, Date):
        ok = f"typeof({name}) = 'text' AND {name} GLOB '{_SQLITE_DATE_GLOB}'"
    elif isinstance(kind, Boolean):
        ok = f"typeof({name}) = 'integer' AND {name} IN (0, 1)"
    elif isinstance(kind, Float):
        ok = f"typeof({name}) = 'real'"
    elif isinstance(kind, Integer):
        ok = f"typeof({name}) = 'integer'"
    elif isinstance(kind, String):
        ok = f"typeof({name}) = 'text'"
    else:
        return None
    return f"({name} IS NULL OR ({ok}))"


def stored_form_problems(session: Session, limit: int = 50) -> list[str]:
    """SQLite: every value of a chained table stored in another form than the one the registry
    writes — a time rewritten as ``20250601T000000``, a boolean as ``2``, a number as text.

    SQLite keeps such values as written (type affinity), and SQLAlchemy reads many forms back as
    the same value, so the row digest (over the values read) does not change — but SQL compares
    the stored text (``production_starting_interval >= '2025-06-01 …'``), so the registry's own
    queries (the GEC limit, the hourly cap) would read the row differently. Each is named: the
    row, the column, what is stored and what the registry writes.
    """
    from sqlalchemy import literal_column
    from sqlalchemy import text as sql_text

    problems: list[str] = []
    dialect = session.get_bind().dialect
    for chained in CHAINED:
        columns = [c for c in chained.table.columns if _sqlite_canonical(c) is not None]
        if not columns:
            continue
        checks = [str(_sqlite_canonical(c)) for c in columns]
        quoted = ", ".join(f'quote("{c.name}")' for c in columns)
        wrong = " OR ".join(f"NOT {c}" for c in checks)
        found = session.execute(sql_text(
            f"SELECT rowid, {quoted} FROM {chained.name} WHERE {wrong} LIMIT {limit + 1}")).all()
        for rec in found:
            rowid, raws = rec[0], rec[1:]
            row: Any = None
            try:
                row = session.execute(select(chained.table).where(
                    literal_column("rowid") == rowid)).mappings().one()
                name = describe(chained, chained.name, key_of(chained, row))
            except (ValueError, TypeError, OverflowError):
                name = f"{chained.label} (SQLite rowid {rowid}) [{chained.name}]"
            for column, raw in zip(columns, raws, strict=True):
                ok = session.execute(sql_text(
                    f"SELECT {_sqlite_canonical(column)} FROM {chained.name} "
                    "WHERE rowid = :r"), {"r": rowid}).scalar()
                if ok:
                    continue
                want = ""
                if row is not None:
                    bind = column.type.dialect_impl(dialect).bind_processor(dialect)
                    value = row[column.name]
                    try:
                        want = f" ({(bind(value) if bind else value)!r})"
                    except (TypeError, ValueError):
                        want = ""
                problems.append(
                    f"{name}: {column.name} is stored as {raw}, not in the form the registry "
                    f"writes{want}: SQL compares the stored form, so the registry's own "
                    "queries read this row differently (edited outside the registry)")
        if len(problems) > limit:
            break
    return problems

