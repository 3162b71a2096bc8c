"""Bulk entry pages: templates, upload → preview → apply → submit every valid row, error report.

Thin views: enterprise users only (require_roles, 403), an upload only for its own organisation
(404 for others); the checks are bulk.plan's, the writes bulk.services'.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET, require_POST

from bulk import plan as planning
from bulk import services, sheets
from bulk.forms import UploadForm
from bulk.models import BulkUpload
from projects import workflow
from projects.models import RecordKind
from yunjian.core import audit
from yunjian.core.models import Role
from yunjian.core.permissions import require_roles

ENTERPRISE = {Role.ENTERPRISE}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE = 200
UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]")


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _kind(request: HttpRequest, kind: str) -> str:
    require_roles(request.user, ENTERPRISE)
    if kind not in services.KINDS:
        raise Http404
    problem = services.refusal(request.user, kind)
    if problem:
        raise PermissionDenied(problem)
    return kind


def _own(request: HttpRequest, pk: int) -> BulkUpload:
    require_roles(request.user, ENTERPRISE)
    return get_object_or_404(
        BulkUpload.objects.select_related("uploaded_by"),
        pk=pk,
        owner_org_id=request.user.organization_id or -1,
    )


def _choices(user) -> list[dict]:
    return [
        {"key": kind, "label": workflow.KINDS[kind].label, "form": UploadForm(auto_id=f"id_{kind}_%s")}
        for kind in services.KINDS
        if not services.refusal(user, kind)
    ]


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, ENTERPRISE)
    uploads = (
        BulkUpload.objects.filter(owner_org_id=request.user.organization_id or -1)
        .select_related("uploaded_by")
        .order_by("-id")[:20]
    )
    return render(request, "bulk/index.html", {"kinds": _choices(request.user), "uploads": uploads})


@login_required
@require_GET
def template_download(request: HttpRequest, kind: str) -> HttpResponse:
    kind = _kind(request, kind)
    return _xlsx(
        sheets.template_workbook(kind, request.user.organization),
        f"{workflow.KINDS[kind].label}批量录入模板.xlsx",
    )


@login_required
@require_POST
def upload(request: HttpRequest, kind: str) -> HttpResponse:
    """Check the file at once: an unreadable one is a 400 with the reason, and nothing is kept."""
    kind = _kind(request, kind)
    form = UploadForm(request.POST, request.FILES, auto_id=f"id_{kind}_%s")
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        name = UNSAFE_NAME_RE.sub("_", (uploaded.name or "").rsplit("/", 1)[-1])[-120:] or "批量录入.xlsx"
        try:
            record = services.upload_check(
                actor=request.user,
                kind=kind,
                content=uploaded.read(),
                filename=name,
                ip=audit.client_ip(request),
            )
        except sheets.BulkFileError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect("bulk:preview", pk=record.pk)
    kinds = _choices(request.user)
    for choice in kinds:
        if choice["key"] == kind:
            choice["form"] = form
    uploads = (
        BulkUpload.objects.filter(owner_org_id=request.user.organization_id)
        .select_related("uploaded_by")
        .order_by("-id")[:20]
    )
    return render(
        request, "bulk/index.html", {"kinds": kinds, "uploads": uploads, "failed": kind}, status=400
    )


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


@login_required
@require_GET
def preview(request: HttpRequest, pk: int) -> HttpResponse:
    """Every row as 将新建 / 将更新草稿 / 已提交，跳过 / 错误 with its reasons; after applying, each
    row's draft, and after submitting, each row's result. One page of rows at a time."""
    upload = _own(request, pk)
    cells = {row["row"]: row["cells"] for row in upload.rows}
    # What the rows are recognised by: their numbers; a direct specialty project also by its name.
    keys = ("project.name",) if upload.kind == RecordKind.SPECIALTY_INFO else sheets.KEY_NUMBERS[upload.kind]
    status = request.GET.get("status", "")
    statuses = tuple(planning.STATUS_LABELS)
    rows = [r for r in upload.plan if r["status"] == status] if status in statuses else upload.plan
    pages = max(1, -(-len(rows) // PAGE))
    page = min(max(_int(request.GET.get("page"), 1), 1), pages)
    counts = upload.counts()
    shown = []
    for row in rows[(page - 1) * PAGE : page * PAGE]:
        row_cells = cells.get(row["row"], {})
        shown.append(
            {
                **row,
                "label": planning.STATUS_LABELS[row["status"]],
                "prj_num": row_cells.get("prj_num", ""),
                "numbers": [row_cells.get(k, "") for k in keys if row_cells.get(k)],
            }
        )
    tabs = [{"key": "", "label": "全部", "count": len(upload.plan), "active": status not in statuses}]
    tabs += [
        {
            "key": key,
            "label": planning.STATUS_LABELS[key],
            "count": counts.get(key, 0),
            "active": status == key,
        }
        for key in statuses
    ]
    submitted = [r for r in upload.plan if "submitted" in r]
    context = {
        "upload": upload,
        "kind_label": workflow.KINDS[upload.kind].label,
        "rows": shown,
        "tabs": tabs,
        "status": status if status in statuses else "",
        "page": page,
        "pages": pages,
        "valid": counts.get(planning.CREATE, 0) + counts.get(planning.UPDATE, 0),
        "errors": counts.get(planning.ERROR, 0),
        "submitted_ok": sum(1 for r in submitted if r["submitted"]),
        "submitted_refused": sum(1 for r in submitted if not r["submitted"]),
    }
    return render(request, "bulk/preview.html", context)


@login_required
@require_GET
def error_report(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _own(request, pk)
    content = sheets.error_report(
        upload.kind, request.user.organization, upload.rows, upload.plan, planning.STATUS_LABELS
    )
    stem = upload.filename.rsplit(".", 1)[0]
    return _xlsx(content, f"检查结果-{stem}.xlsx")


@login_required
@require_POST
def apply_view(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _own(request, pk)
    try:
        upload = services.apply_upload(actor=request.user, upload_id=upload.pk, ip=audit.client_ip(request))
    except services.Conflict as exc:
        messages.error(request, exc.message)
    else:
        counts = upload.counts()
        done = counts.get(planning.CREATE, 0) + counts.get(planning.UPDATE, 0)
        messages.success(request, f"已导入 {done} 条草稿。可以“提交所有有效行”提交审核，或到工作台逐条完善。")
    return redirect("bulk:preview", pk=upload.pk)


@login_required
@require_POST
def submit_view(request: HttpRequest, pk: int) -> HttpResponse:
    upload = _own(request, pk)
    try:
        upload = services.submit_upload(actor=request.user, upload_id=upload.pk, ip=audit.client_ip(request))
    except services.Conflict as exc:
        messages.error(request, exc.message)
    else:
        ok = sum(1 for r in upload.plan if r.get("submitted"))
        refused = sum(1 for r in upload.plan if r.get("submitted") is False)
        messages.success(request, f"已提交审核 {ok} 条；{refused} 条未能提交，原因见各行。")
    return redirect("bulk:preview", pk=upload.pk)
