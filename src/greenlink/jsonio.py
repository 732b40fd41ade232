"""The one JSON encoder of greenlink's outputs: numpy and pandas values, dates, Decimals, and
NaN/±inf written as ``null`` (JSON has no NaN; a file with ``NaN`` in it is not JSON).

Canonical byte forms that are hashed or signed (evidence manifests, audit events) keep their own
fixed layout; everything a user or a program reads goes through :func:`dumps`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import math
from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel


def to_jsonable(value: Any) -> Any:
    """``value`` as plain JSON types; NaN and ±inf become ``None``.

    Decimals (money) become strings so that no cent is lost to a float.
    """
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, BaseModel):
        return to_jsonable(value.model_dump(mode="python"))
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return to_jsonable(float(value))
    if value is pd.NaT or value is pd.NA:
        return None
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, pd.Timedelta | dt.timedelta):
        return value.total_seconds()
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, pd.DataFrame):
        return records(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable(dataclasses.asdict(value))
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a table as JSON-ready dicts (NaN → ``None``)."""
    return [to_jsonable(row) for row in frame.to_dict(orient="records")]


def dumps(value: Any, *, indent: int | None = 2) -> str:
    """JSON text of ``value`` (UTF-8 characters kept, NaN/±inf as ``null``)."""
    return json.dumps(to_jsonable(value), indent=indent, ensure_ascii=False, allow_nan=False)


def write_json(path: str | Path, value: Any) -> Path:
    """Write ``value`` as JSON to ``path`` atomically (temporary name, then rename)."""
    target = Path(path)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(dumps(value) + "\n", encoding="utf-8")
    tmp.replace(target)
    return target
