"""Shared building blocks of the scenario models (extension modules import them from here)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$",
                          description="identifier: lower-case letters, digits, '_' or '-'")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class Strict(BaseModel):
    """Base model: unknown keys are errors (with a suggestion), instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


_HHMM = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def _time_of_day(value: str) -> str:
    if not _HHMM.match(value) or (value.startswith("24") and value != "24:00"):
        raise ValueError(f"{value!r} is not a time of day HH:MM")
    return value


TimeOfDay = Annotated[str, AfterValidator(_time_of_day)]
"""A wall-clock time ``HH:MM`` (``24:00`` = the end of the day)."""


def minute_of_day(value: str) -> int:
    """Minutes since midnight of an ``HH:MM`` time of day."""
    hours, minutes = value.split(":")
    return int(hours) * 60 + int(minutes)
