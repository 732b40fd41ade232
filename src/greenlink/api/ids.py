"""Row ids as the API and the dashboard accept them.

Ids are database row ids, signed 64-bit integers in SQLite (``INTEGER``) and PostgreSQL
(``BIGINT``). A larger number handed to the database overflows — an HTTP 500 — instead of
finding nothing, and a negative one can never name a row; so every integer id the service
accepts, in a URL, a form or a JSON body, is declared with one of these types: outside
1 … :data:`MAX_ID` it is a 422 before any query.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Path
from pydantic import Field

#: The largest row id (2^63 - 1).
MAX_ID = 2**63 - 1

#: An integer id in a URL path (``/jobs/{job_id}``).
Id = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id (1 to 2^63 - 1)")]
#: An integer id in a dashboard form.
FormId = Annotated[int, Form(ge=1, le=MAX_ID)]
#: An integer id in a JSON body.
BodyId = Annotated[int, Field(ge=1, le=MAX_ID)]
