"""Simulate/check jobs with progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from greenlink.api.deps import Caller, Ctx
from greenlink.api.ids import Id
from greenlink.api.routes import ERRORS
from greenlink.api.schemas import JobCreate, JobPublic
from greenlink.service import jobs

router = APIRouter(tags=["jobs"], responses=ERRORS)


@router.post("/parks/{park_id}/jobs", response_model=JobPublic, status_code=202)
def submit_job(park_id: Id, body: JobCreate, caller: Caller, ctx: Ctx) -> JobPublic:
    """Queue a job; poll ``GET /jobs/{id}`` for progress."""
    return JobPublic.model_validate(jobs.submit_job(ctx, caller, park_id, body.kind,
                                                    body.ruleset, body.installation))


@router.get("/parks/{park_id}/jobs", response_model=list[JobPublic])
def list_jobs(park_id: Id, caller: Caller, ctx: Ctx) -> list[JobPublic]:
    return [JobPublic.model_validate(j) for j in jobs.list_jobs(ctx, caller, park_id)]


@router.get("/jobs/{job_id}", response_model=JobPublic)
def get_job(job_id: Id, caller: Caller, ctx: Ctx) -> JobPublic:
    return JobPublic.model_validate(jobs.get_job(ctx, caller, job_id))


@router.get("/jobs/{job_id}/optimization", response_model=dict[str, Any])
def optimization(job_id: Id, caller: Caller, ctx: Ctx) -> dict[str, Any]:
    """Result of an optimize job: sizes, costs, shadow prices, relaxations needed."""
    return jobs.optimization_result(ctx, caller, job_id)
