"""Shared building blocks of the scenario models (extension modules import them from here)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

# user-facing texts of this module (one place, for translation later)
_MSG_PERCENT_AS_FRACTION = ("{value:g} looks like a percentage, but this is a fraction 0..1: "
                            "write {fraction:g} for {value:g} %")
_MSG_FRACTION_AS_PERCENT = ("{value:g} looks like a fraction, but this field is in percent: "
                            "write {percent:g} for {percent:g} % (0 for none)")

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$",
                          description="identifier: lower-case letters, digits, '_' or '-'")]


def percent_as_fraction_message(value: float) -> str | None:
    """The fix for a share given as a percentage number (20 for 20 %), or ``None`` when
    ``value`` is not one (between 0 and 1, or above 100)."""
    if 1.0 < value <= 100.0:
        return _MSG_PERCENT_AS_FRACTION.format(value=value, fraction=value / 100.0)
    return None


def _not_a_percentage(value: object) -> object:
    if isinstance(value, int | float) and not isinstance(value, bool):
        message = percent_as_fraction_message(float(value))
        if message is not None:
            raise ValueError(message)
    return value


Fraction = Annotated[float, Field(ge=0.0, le=1.0), BeforeValidator(_not_a_percentage)]
"""A share or ratio 0..1 (20 % is 0.2; 20 is refused with that fix spelled out)."""
Efficiency = Annotated[float, Field(gt=0.0, le=1.0), BeforeValidator(_not_a_percentage)]
"""An efficiency above 0 and at most 1 (95 % is 0.95; 95 is refused with that fix)."""


def percent_field(minimum: float) -> AfterValidator:
    """A validator for a field in percent whose plausible values start at ``minimum``: a value
    between 0 and 1 (0.14 for 14 %) is refused with the fix spelled out; 0 stays allowed."""
    def check(value: float) -> float:
        if 0.0 < value < 1.0 and value < minimum:
            raise ValueError(_MSG_FRACTION_AS_PERCENT.format(value=value, percent=value * 100))
        return value
    return AfterValidator(check)
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
