"""Loads: create a job from files, check it, queue it, apply it; claimed by one process at a time.

Every state change of a job runs under its row lock. The work itself (loads.engine) runs outside
that lock, in the process holding the job's lease: the `load_worker` process beside the app (the
browser path) or the `load_records` command. A process that dies leaves the job with a lease
that expires; the next claimant resumes it (check: from the start; apply: after the last
committed batch).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from loads import engine
from loads.models import LoadFile, LoadJob
from projects.models import Origin
from yunjian.core.models import Role

S = LoadJob.Status


@dataclass(frozen=True)
class SourceFile:
    path: str
    name: str
    sha256: str
    size: int


def digest_file(path: str | Path) -> tuple[str, int]:
    sha = hashlib.sha256()
    size = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            sha.update(chunk)
            size += len(chunk)
    return sha.hexdigest(), size


def store_upload(chunks, name: str) -> SourceFile:
    """Keep an uploaded file on the server (STORAGE_ROOT/loads/) for the worker; return it with its digest."""
    directory = engine.store_dir()
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{secrets.token_urlsafe(18)}.bin"
    sha = hashlib.sha256()
    size = 0
    with open(path, "xb") as handle:
        for chunk in chunks:
            handle.write(chunk)
            sha.update(chunk)
            size += len(chunk)
    return SourceFile(path=str(path), name=name, sha256=sha.hexdigest(), size=size)


def may_load(user) -> bool:
    return user.is_authenticated and user.is_active and user.has_role(Role.PROVINCE_ADMIN)


@transaction.atomic
def job_create(*, files: list[SourceFile], origin: str, source: str, actor=None, table: str = "") -> LoadJob:
    """A new load of `files`, queued for checking. System administrator (or the command line) only."""
    if actor is not None and not may_load(actor):
        raise PermissionDenied("只有系统管理员可以导入存量数据。")
    if origin not in (Origin.PMS, Origin.PLATFORM):
        raise ValueError(origin)
    job = LoadJob.objects.create(origin=origin, source=source, created_by=actor)
    LoadFile.objects.bulk_create(
        [
            LoadFile(
                job=job, position=i, name=f.name[:200], path=f.path, sha256=f.sha256, size=f.size, table=table
            )
            for i, f in enumerate(files)
        ]
    )
    return job


@transaction.atomic
def job_queue_apply(*, actor, job_id: int) -> LoadJob:
    """The administrator confirms a checked load: it is queued for the worker."""
    if not may_load(actor):
        raise PermissionDenied("只有系统管理员可以导入存量数据。")
    job = LoadJob.objects.select_for_update().get(pk=job_id)
    if job.status != S.CHECKED:
        raise engine.LoadRefused("该导入不在“已检查，待确认导入”状态，不能再次确认。")
    job.status = S.APPLY_QUEUED
    job.save(update_fields=["status"])
    return job


def claim(worker: str, job_id: int | None = None) -> LoadJob | None:
    """Take the oldest queued job, or one whose holder died (lease expired); SKIP LOCKED, so several
    workers never take the same job."""
    now = timezone.now()
    with transaction.atomic():
        jobs = LoadJob.objects.select_for_update(skip_locked=True).filter(
            Q(status__in=[S.CHECK_QUEUED, S.APPLY_QUEUED])
            | Q(status__in=[S.CHECKING, S.APPLYING], lease_until__lt=now)
        )
        if job_id is not None:
            jobs = jobs.filter(pk=job_id)
        job = jobs.order_by("id").first()
        if job is None:
            return None
        # A phase that starts afresh starts at row 0 in the same write that names it: between the two,
        # a job "applying" with the check's count would read as done (the progress bar, a resume).
        fresh = job.status == S.CHECK_QUEUED or (job.status == S.APPLY_QUEUED and not job.apply_counts)
        job.status = S.CHECKING if job.status in (S.CHECK_QUEUED, S.CHECKING) else S.APPLYING
        job.lease_until = now + dt.timedelta(seconds=settings.LOAD_LEASE_SECONDS)
        job.worker = worker[:80]
        fields = ["status", "lease_until", "worker"]
        if fresh:
            job.done_rows = 0
            fields.append("done_rows")
        job.save(update_fields=fields)
        return job


def run(job: LoadJob, on_row: engine.RowCallback | None = None, classify: bool = True) -> LoadJob:
    """Do the phase a claimed job is in: check it, or apply it; leaves it checked/refused or done.

    `classify=False`: a check that only validates (see engine.Pass.classify)."""
    if job.status == S.CHECKING:
        return _check(job, on_row, classify)
    if job.status == S.APPLYING:
        return _apply(job, on_row)
    return job


def _check(job: LoadJob, on_row, classify: bool) -> LoadJob:
    job.done_rows = 0
    LoadJob.objects.filter(pk=job.pk).update(done_rows=0, file_errors=[])
    try:
        engine.check_job(job, on_row, classify)
    except engine.LoadRefused as exc:
        job.status = S.REFUSED
        job.file_errors = [exc.message]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "file_errors", "finished_at", "done_rows"])
        _discard_uploads(job)
        return job
    job.status = S.CHECKED
    job.save(
        update_fields=[
            "status",
            "total_rows",
            "check_counts",
            "samples",
            "new_orgs",
            "done_rows",
            "file_errors",
        ]
    )
    return job


def _apply(job: LoadJob, on_row) -> LoadJob:
    if not job.apply_counts:
        job.done_rows = 0
        job.new_orgs = []
        LoadJob.objects.filter(pk=job.pk).update(done_rows=0, new_orgs=[])
    state = engine.apply_job(job, on_row)
    with transaction.atomic():
        job = LoadJob.objects.select_for_update().get(pk=job.pk)
        job.status = S.DONE
        job.apply_counts = state.counts
        job.finished_at = timezone.now()
        job.lease_until = None
        job.save(update_fields=["status", "apply_counts", "finished_at", "lease_until"])
        engine.audit_load(job, actor=job.created_by)
    _discard_uploads(job)
    return job


def _discard_uploads(job: LoadJob) -> None:
    """Files uploaded in the browser are kept until the load is done or refused (a resume reads them)."""
    if job.source != LoadJob.Source.WEB:
        return
    directory = engine.store_dir().resolve()
    for load_file in job.files.all():
        path = Path(load_file.path).resolve()
        if path.parent == directory:
            path.unlink(missing_ok=True)
