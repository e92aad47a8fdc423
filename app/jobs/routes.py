"""Admins: the background jobs, by status, and a retry for a failed one."""

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app.deps import AdminUser, SessionDep
from app.errors import NotFound, StaleEdit
from app.jobs import service
from app.jobs.models import Job, JobStatus
from app.jobs.registry import TASKS
from app.web import redirect, render

router = APIRouter(prefix="/admin")


def describe(job: Job) -> str:
    task = TASKS.get(job.name)
    return task.describe(job.payload) if task else ""


@router.get("/jobs")
def jobs_page(request: Request, admin: AdminUser, session: SessionDep,
              status: str = "") -> Response:
    chosen = JobStatus(status) if status in set(JobStatus) else None
    return render(request, "admin/jobs.html", {
        "counts": service.counts(session), "status": chosen, "describe": describe,
        "jobs": service.listing(session, status=chosen),
    })


def _job(session: SessionDep, job_id: int) -> Job:
    job = session.get(Job, job_id)
    if job is None:
        raise NotFound("There is no job with that number (old jobs are removed after a while).")
    return job


@router.get("/jobs/{job_id}")
def job_page(request: Request, admin: AdminUser, session: SessionDep, job_id: int) -> Response:
    job = _job(session, job_id)
    return render(request, "admin/job.html", {"job": job, "description": describe(job)})


@router.post("/jobs/{job_id}/retry")
def retry(request: Request, admin: AdminUser, session: SessionDep, job_id: int) -> Response:
    job = _job(session, job_id)
    if job.status != JobStatus.failed:
        raise StaleEdit(f"Job {job_id} is {job.status} now; only a failed job can be retried.")
    service.retry(session, job)
    return redirect(request, f"/admin/jobs/{job_id}",
                    message=f"Job {job_id} is queued again; a worker will pick it up.")
