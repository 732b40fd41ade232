"""Errors of the service layer; the API maps each to one HTTP status."""

from __future__ import annotations

from greenlink.errors import GreenlinkError


class ServiceError(GreenlinkError):
    """Base of the service's own errors (never a bug: always something the caller can fix)."""

    status = 400


class NotAuthenticated(ServiceError):
    status = 401


class NotAllowed(ServiceError):
    status = 403


class NotFound(ServiceError):
    status = 404


class Conflict(ServiceError):
    status = 409
