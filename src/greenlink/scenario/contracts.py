"""A contract: PPA or green supply agreement (issue: contracts and settlement).

Extension module of the scenario: the models here are referenced by
:class:`greenlink.scenario.model.Scenario`; :func:`cross_check` adds the checks that need the
whole scenario.
"""

from __future__ import annotations

from typing import Any

from greenlink.scenario.base import Id, Strict


class Contract(Strict):
    id: Id


def cross_check(scenario: Any) -> list[str]:
    """Problems that involve other parts of the scenario (none yet for this module)."""
    return []
