"""Canonical encoding and digests: the text of a row and its sha256, event hashes, the
canonical JSON of event payloads, and the records of rows inserted in bulk.

* A row's digest (:func:`row_hash`) is the sha256 of all its columns (but its own hash column)
  in an unambiguous canonical text (:func:`_text`).
* An event's hash is ``sha256(prev_hash | seq | at | kind | payload)`` (:func:`event_hash`;
  ``prev_hash`` of event 1 is :data:`GENESIS`), its payload canonical JSON (:func:`canonical`).
* Bulk inserts (an issuance of 175,200 bundles, a year of consumption) are recorded as a batch
  (:func:`batch_record`): the keys, the first :data:`LEAF_CHARS` hex digits of each row digest
  (to name a changed row) and the sha256 over the full digests (the check itself).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import RowMapping

from greenlink.certificates.chained import BUNDLES, Chained

GENESIS = "0" * 64
#: Hex digits of each row digest a batch record keeps (to name a changed row; the full digest
#: over the batch is the check).
LEAF_CHARS = 16
#: Payload keys of the row records and batch records (beside the operation's own fields).
ROWS_KEY = "chain_rows"
BATCHES_KEY = "chain_batches"


@lru_cache(maxsize=65536)
def _datetime_text(value: datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    return f"{text}.{value.microsecond:06d}" if value.microsecond else text


def _text(value: Any) -> str:
    """Canonical text of a column value: UTC times without offset, ``repr`` of floats, ``1``/
    ``0`` for booleans, ``\\N`` for NULL; a backslash or unit separator inside a string is
    escaped, so distinct rows never have the same text."""
    kind = type(value)
    if kind is str:
        if "\\" in value or "\x1f" in value:
            return value.replace("\\", "\\\\").replace("\x1f", "\\x1f")  # type: ignore[no-any-return]
        return value  # type: ignore[no-any-return]
    if kind is int:
        return str(value)
    if value is None:
        return "\\N"
    if kind is bool:
        return "1" if value else "0"
    if isinstance(value, datetime):
        return _datetime_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return repr(value)
    return _text(str(value))


def row_text(chained: Chained, row: Mapping[str, Any] | RowMapping) -> str:
    return "\x1f".join([_text(row[name]) for name in chained.columns])


def row_hash(chained: Chained, row: Mapping[str, Any] | RowMapping) -> str:
    """sha256 of a row's columns (all but its hash column) in canonical text."""
    return hashlib.sha256(row_text(chained, row).encode()).hexdigest()


def bundle_hash(row: Mapping[str, Any]) -> str:
    """The FEA ``hash`` of a bundle: :func:`row_hash` of its other columns."""
    return row_hash(BUNDLES, row)


def key_of(chained: Chained, row: Mapping[str, Any] | RowMapping) -> tuple[str, ...]:
    return tuple(_text(row[name]) for name in chained.key)


def format_template(names: list[str], constants: Mapping[str, Any], varying: list[str],
                    render: Any) -> tuple[str, list[str]]:
    """A ``%``-template of one row: constants rendered once, ``%s`` for the varying columns;
    returns it and the varying names in the order their values are to be given.

    Joined with the unit separator for :func:`bundle_hash` (``render=_text``; the varying values
    must then be given as :func:`_text` renders them) or with tabs and a newline for PostgreSQL
    COPY.
    """
    parts = []
    order = []
    for name in names:
        if name in varying or name == "hash":
            parts.append("%s")
            order.append(name)
        else:
            parts.append(render(constants[name]).replace("%", "%%"))
    if render is _text:
        return "\x1f".join(parts), order
    return "\t".join(parts) + "\n", order


def batch_digest(hashes: Iterable[str]) -> str:
    digest = hashlib.sha256()
    for h in hashes:
        digest.update(h.encode())
    return digest.hexdigest()


def event_hash(prev_hash: str, seq: int, at: str, kind: str, payload: str) -> str:
    return hashlib.sha256(f"{prev_hash}|{seq}|{at}|{kind}|{payload}".encode()).hexdigest()


def canonical(payload: Mapping[str, Any] | Sequence[Any]) -> str:
    """Canonical JSON (sorted keys, no spaces, no NaN): event payloads, claim serials."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), default=_text,
                      allow_nan=False)


# ------------------------------------------------------------------------------ batches
def encode_keys(keys: Sequence[tuple[str, ...]]) -> dict[str, Any]:
    """Keys of a batch: runs ``[[first, last], …]`` of a single integer key, else the list."""
    if keys and all(len(k) == 1 and k[0].isdigit() for k in keys):
        runs: list[list[int]] = []
        for (text,) in keys:
            n = int(text)
            if runs and runs[-1][1] + 1 == n:
                runs[-1][1] = n
            else:
                runs.append([n, n])
        return {"runs": runs}
    return {"keys": [list(k) for k in keys]}


def decode_keys(record: Mapping[str, Any]) -> list[tuple[str, ...]]:
    if "runs" in record:
        return [(str(n),) for lo, hi in record["runs"] for n in range(int(lo), int(hi) + 1)]
    return [tuple(str(v) for v in k) for k in record.get("keys", [])]


def batch_record(table: str, hashes: Sequence[str], *, keys: Sequence[tuple[str, ...]] | None
                 = None, id_range: tuple[int, int] | None = None) -> dict[str, Any]:
    """The record of rows inserted in bulk: keys (or a range of integer ids), leaves, digest."""
    if id_range is not None:
        encoded: dict[str, Any] = {"runs": [[id_range[0], id_range[1]]]}
    else:
        encoded = encode_keys(list(keys or []))
    return {"table": table, **encoded, "leaves": "".join([h[:LEAF_CHARS] for h in hashes]),
            "digest": batch_digest(hashes)}
