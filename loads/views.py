"""The load pages (system administrator): upload → preview → apply → progress → result report.

The work runs in the `load_worker` process (started by `make run` beside the sync worker), not in
the request: these views only store the files, queue the job and show where it is. A running job's
page refreshes itself every two seconds (a meta refresh: no JavaScript needed).
"""

from __future__ import annotations

import re

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from loads import engine, services
from loads.forms import UploadForm
from loads.models import LoadIssue, LoadJob
from loads.report import report_workbook
from yunjian.core.models import Role
from yunjian.core.permissions import require_roles

ADMIN = {Role.PROVINCE_ADMIN}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ISSUES_SHOWN = 500
JOBS_SHOWN = 30
UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]")


def _file_name(name: str) -> str:
    name = UNSAFE_NAME_RE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[-120:] or "导出文件"


def _job(pk: int) -> LoadJob:
    job = LoadJob.objects.filter(pk=pk).first()
    if job is None:
        raise Http404
    return job


@login_required
@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """Upload form and the latest loads (one query for the list, whatever the number of loads)."""
    require_roles(request.user, ADMIN)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        files = [
            services.store_upload(upload.chunks(), _file_name(upload.name or ""))
            for upload in form.cleaned_data["files"]
        ]
        job = services.job_create(
            files=files,
            origin=form.cleaned_data["origin"],
            source=LoadJob.Source.WEB,
            actor=request.user,
            table=form.cleaned_data["table"],
        )
        return redirect("loads:job", pk=job.pk)
    jobs = list(LoadJob.objects.select_related("created_by").order_by("-id")[:JOBS_SHOWN])
    status = 400 if request.method == "POST" else 200
    return render(request, "loads/index.html", {"form": form, "jobs": jobs}, status=status)


@login_required
@require_GET
def job_detail(request: HttpRequest, pk: int) -> HttpResponse:
    require_roles(request.user, ADMIN)
    job = _job(pk)
    files = list(job.files.order_by("position"))
    phase = LoadIssue.Phase.APPLY if job.status == LoadJob.Status.DONE else LoadIssue.Phase.CHECK
    issues = list(
        LoadIssue.objects.filter(job=job, phase=phase)
        .select_related("file")
        .order_by("file__position", "row")[:ISSUES_SHOWN]
    )
    counts = job.apply_counts if job.status == LoadJob.Status.DONE else job.check_counts
    return render(
        request,
        "loads/job.html",
        {
            "job": job,
            "files": files,
            "issues": issues,
            "issues_shown": ISSUES_SHOWN,
            "stats": [(s, engine.STATUS_LABELS[s], (counts or {}).get(s, 0)) for s in engine.STATUSES],
            "samples": [
                (engine.STATUS_LABELS[s], job.samples.get(s, []))
                for s in engine.STATUSES
                if job.samples.get(s)
            ],
        },
    )


@login_required
@require_POST
def job_apply(request: HttpRequest, pk: int) -> HttpResponse:
    require_roles(request.user, ADMIN)
    _job(pk)
    try:
        services.job_queue_apply(actor=request.user, job_id=pk)
    except engine.LoadRefused as exc:
        return render(request, "loads/refused.html", {"message": exc.message, "pk": pk}, status=409)
    return redirect("loads:job", pk=pk)


@login_required
@require_GET
def job_report(request: HttpRequest, pk: int) -> HttpResponse:
    require_roles(request.user, ADMIN)
    job = _job(pk)
    response = HttpResponse(report_workbook(job), content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, f"存量数据导入{job.pk}结果.xlsx")
    return response
