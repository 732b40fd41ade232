"""Shared building blocks of the scenario models (extension modules import them from here)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$",
                          description="identifier: lower-case letters, digits, '_' or '-'")]
Fraction = Annotated[float, Field(ge=0.0, le=1.0)]
NonNegative = Annotated[float, Field(ge=0.0)]
Positive = Annotated[float, Field(gt=0.0)]


class Strict(BaseModel):
    """Base model: unknown keys are errors (with a suggestion), instances are frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)
