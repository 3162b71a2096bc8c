"""Operators' pages (province admin) and the platform's inbound endpoint. Thin: services write."""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects.models import Project
from sync import inbound, payloads, protocol, selectors, services, signing
from sync.models import Outbox, SyncConflict
from yunjian.core import audit
from yunjian.core.models import Role
from yunjian.core.permissions import require_roles

OPERATORS = {Role.PROVINCE_ADMIN}
log = logging.getLogger("sync.inbound")


def _ip(request) -> str | None:
    return audit.client_ip(request)


@require_GET
@login_required
def operations(request: HttpRequest) -> HttpResponse:
    """Pending, in-flight, failed and dead-lettered deliveries with their last error (keyset pages)."""
    require_roles(request.user, OPERATORS)
    status = request.GET.get("status", "open")
    if status not in selectors.OUTBOX_FILTERS:
        status = "open"
    page, order = selectors.outbox_page(request, status)
    context = {
        "page": page,
        "order": order,
        "status": status,
        "filters": [(key, label) for key, (label, _) in selectors.OUTBOX_FILTERS.items()],
        "counts": selectors.status_counts(),
        "repushable": {Outbox.Status.FAILED, Outbox.Status.DEAD},
        "endpoint": settings.SYNC_ENDPOINT,
    }
    return render(request, "sync/operations.html", context)


def _back(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


@require_POST
@login_required
def repush(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, OPERATORS)
    ids = [int(v) for v in request.POST.getlist("ids") if v.isdigit()][: selectors.COUNT_CAP]
    if not ids:
        messages.error(request, "请先勾选要重新推送的记录。")
    else:
        n = services.outbox_repush(actor=request.user, ids=ids, ip=_ip(request))
        if n:
            messages.success(request, f"已将 {n} 条记录重新放入推送队列，同步进程将尽快推送。")
        else:
            messages.warning(request, "所选记录已不是失败或需人工处理状态，未作改动。")
    return redirect(_back(request, "sync:operations"))


@require_GET
@login_required
def project(request: HttpRequest, pk: int) -> HttpResponse:
    """One project's sync: every record version sent or waiting, platform records, conflicts."""
    require_roles(request.user, OPERATORS)
    project = get_object_or_404(Project.objects.select_related("county", "owner_org"), pk=pk)
    context = {
        "project": project,
        "sync_status": selectors.project_sync_status(project),
        "rows": selectors.project_outbox(project),
        "inbound": selectors.project_inbound(project),
        "conflicts": selectors.project_conflicts(project),
        "repushable": {Outbox.Status.FAILED, Outbox.Status.DEAD},
    }
    return render(request, "sync/project.html", context)


@require_GET
@login_required
def conflicts(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, OPERATORS)
    status = request.GET.get("status", SyncConflict.Status.OPEN)
    page = selectors.conflict_page(request, status)
    return render(
        request,
        "sync/conflicts.html",
        {
            "page": page,
            "status": status,
            "statuses": SyncConflict.Status.choices,
            "counts": selectors.status_counts(),
        },
    )


def _side_by_side(conflict: SyncConflict) -> list[dict]:
    names = list(dict.fromkeys([*conflict.fields, *conflict.theirs.keys(), *conflict.ours.keys()]))
    return [
        {
            "field": name,
            "label": payloads.field_label(name),
            "ours": conflict.ours.get(name, ""),
            "theirs": conflict.theirs.get(name, ""),
            "differs": name in conflict.fields,
        }
        for name in names
        if conflict.ours.get(name, "") not in ("", None) or conflict.theirs.get(name, "") not in ("", None)
    ]


@require_http_methods(["GET", "POST"])
@login_required
def conflict(request: HttpRequest, pk: int) -> HttpResponse:
    """Both versions side by side; POST resolves (keep ours / accept theirs)."""
    require_roles(request.user, OPERATORS)
    item = get_object_or_404(SyncConflict.objects.select_related("project", "resolved_by"), pk=pk)
    error = ""
    if request.method == "POST":
        choice = request.POST.get("choice")
        if choice not in ("ours", "theirs"):
            error = "请选择“保留本系统数据”或“采用平台数据”。"
        else:
            try:
                services.conflict_resolve(
                    actor=request.user,
                    conflict_id=item.pk,
                    accept_theirs=choice == "theirs",
                    note=request.POST.get("note", "")[:2000],
                    ip=_ip(request),
                )
            except ValidationError as exc:
                error = "；".join(exc.messages)
            else:
                messages.success(request, "冲突已处理，处理结果已记入审计日志。")
                return redirect("sync:conflict", pk=item.pk)
    return render(
        request,
        "sync/conflict.html",
        {"conflict": item, "rows": _side_by_side(item), "error": error},
        status=400 if error else 200,
    )


@csrf_exempt
@require_POST
def inbound_endpoint(request: HttpRequest) -> HttpResponse:
    """Platform-originated records (notice 三). Signed like every exchange request; no session, no CSRF."""
    limit = settings.SYNC_INBOUND_MAX_BODY
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return _json(400, {"error": "Content-Length 无效"})
    if length > limit:
        return _json(413, {"error": f"请求体过大：{length} 字节，上限 {limit} 字节"})
    # Read at most limit + 1 bytes whatever the header says (request.read bypasses Django's own cap).
    body = request.read(limit + 1)
    if len(body) > limit:
        return _json(413, {"error": f"请求体过大：超过上限 {limit} 字节"})
    try:
        status, payload = inbound.receive(
            body=body,
            timestamp=request.headers.get(signing.TIMESTAMP_HEADER),
            signature=request.headers.get(signing.SIGNATURE_HEADER),
        )
    except Exception:
        # The batch was rolled back; the platform retries with a fresh envelope.
        log.exception("处理平台推送时出错")
        return _json(500, {"error": "本系统处理推送时出错，未保存任何记录，请稍后重新推送"})
    return _json(status, payload)


def _json(status: int, payload: dict) -> HttpResponse:
    return HttpResponse(protocol.dumps(payload), status=status, content_type=signing.CONTENT_TYPE)
