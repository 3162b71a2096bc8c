"""The message centre's pages (thin: the services in notices.services change things)."""

from __future__ import annotations

from django.contrib import messages as flash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from notices import services
from notices.models import Delivery, Kind, Message, Preference
from yunjian.core.models import Role
from yunjian.core.pagination import keyset_page


@login_required
def message_list(request: HttpRequest) -> HttpResponse:
    rows = Message.objects.filter(recipient=request.user)
    page = keyset_page(rows, request, key="id", descending=True)
    return render(request, "notices/list.html", {"page": page})


@require_POST
@login_required
def message_open(request: HttpRequest, pk: int) -> HttpResponse:
    message = services.mark_read(actor=request.user, message_id=pk)
    link = message.link
    if link and url_has_allowed_host_and_scheme(link, allowed_hosts={request.get_host()}):
        return redirect(link)
    return redirect("notices:list")


@require_POST
@login_required
def message_read_all(request: HttpRequest) -> HttpResponse:
    count = services.mark_all_read(actor=request.user)
    flash.success(request, f"已将 {count} 条消息标为已读。")
    return redirect("notices:list")


@login_required
def preferences(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        chosen = {kind for kind in request.POST.getlist("email") if kind in Kind.values}
        services.set_email_choices(actor=request.user, email_kinds=chosen)
        flash.success(request, "通知设置已保存。")
        return redirect("notices:preferences")
    off = set(Preference.objects.filter(user=request.user, email=False).values_list("kind", flat=True))
    kinds = [{"value": value, "label": label, "email": value not in off} for value, label in Kind.choices]
    return render(
        request, "notices/preferences.html", {"kinds": kinds, "has_email": bool(request.user.email)}
    )


@login_required
def failed(request: HttpRequest) -> HttpResponse:
    """The administrator's list of sends that failed (or are waiting to be retried)."""
    if not request.user.has_role(Role.PROVINCE_ADMIN):
        raise PermissionDenied("只有系统管理员可以查看发送失败的通知。")
    rows = Delivery.objects.filter(
        status__in=[Delivery.Status.RETRYING, Delivery.Status.FAILED]
    ).select_related("message", "message__recipient")
    page = keyset_page(rows, request, key="id", descending=True)
    return render(request, "notices/failed.html", {"page": page})
