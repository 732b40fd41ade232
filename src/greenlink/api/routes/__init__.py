"""One APIRouter per resource."""

from __future__ import annotations

from typing import Any

from greenlink.api.schemas import ErrorOut

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in (
        (401, "not logged in, or the token is revoked or expired"),
        (403, "the caller's role may not do this"),
        (404, "not found, or not visible to the caller"),
        (409, "conflicts with what is stored"),
        (413, "request body too large"),
        (422, "the request or an uploaded file is invalid"),
        (429, "too many failed logins, or too many jobs at once: retry after Retry-After [s]"),
    )
}
