"""Errors of the registry (re-exported by :mod:`greenlink.certificates.registry`)."""

from __future__ import annotations

from greenlink.errors import GreenlinkError


class RegistryError(GreenlinkError):
    """An operation the registry refuses (double issuance, wrong owner, over-claim, …)."""


class ClaimRefused(RegistryError):
    """A claim, cancellation or withdrawal the one claim path refuses (nothing was written).

    Every entry point (CLI, API, web form, library) raises or shows this same message for the
    same input."""


class NothingToClaim(ClaimRefused):
    """A claim whose hours hold no Active certificate of the account at all (shortfall allowed,
    but nothing found)."""
