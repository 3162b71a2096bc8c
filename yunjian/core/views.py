"""Login, the per-role home pages, the security admin's and the audit admin's pages."""

from __future__ import annotations

import time
from datetime import timedelta

from axes.utils import reset as axes_reset
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from yunjian.core import audit, organizations, selectors
from yunjian.core.forms import LoginForm
from yunjian.core.middleware import SESSION_KEY
from yunjian.core.models import AuditEntry, Organization, Role, User
from yunjian.core.pagination import keyset_page
from yunjian.core.permissions import require_roles

ROLE_HOME = {
    Role.ENTERPRISE: "enterprise",
    Role.INSTITUTION: "reviewer",
    Role.REVIEWER: "reviewer",
    Role.DESIGN_DIVISION: "reviewer",
    Role.PROVINCE_ADMIN: "province-admin",
    Role.SECURITY_ADMIN: "security-admin",
    Role.AUDIT_ADMIN: "audit-admin",
}
HOME_ROLES = {
    "enterprise": {Role.ENTERPRISE},
    "reviewer": {Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION},
    "province-admin": {Role.PROVINCE_ADMIN},
    "security-admin": {Role.SECURITY_ADMIN},
    "audit-admin": {Role.AUDIT_ADMIN},
}


class LoginView(auth_views.LoginView):
    template_name = "core/login.html"
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        if settings.DEBUG:
            from yunjian.core.demo import DEMO_ACCOUNTS

            context["demo_accounts"] = DEMO_ACCOUNTS
        return context


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    from django.contrib.auth import logout

    logout(request)
    messages.success(request, "您已安全退出。")
    return redirect("core:login")


@require_POST
def keepalive(request: HttpRequest) -> HttpResponse:
    """ "继续" on the timeout warning: counts as activity and keeps the session (the idle timeout
    restarts). A session already ended answers 401, and the page says so."""
    if not request.user.is_authenticated:
        return JsonResponse({"ok": False, "message": "已超时退出，请重新登录。"}, status=401)
    request.session[SESSION_KEY] = int(time.time())
    return JsonResponse({"ok": True, "idle_timeout_seconds": settings.IDLE_TIMEOUT_SECONDS})


@require_GET
@login_required
def org_lookup(request: HttpRequest) -> HttpResponse:
    """Units whose name contains the text typed, or whose code starts with it (entry forms' suggestions).
    Enterprise users only; every suggestion is "名称（统一社会信用代码）", the form's accepted spelling."""
    require_roles(request.user, {Role.ENTERPRISE})
    kind = request.GET.get("kind", "")
    kind = kind if kind in Organization.Kind.values else None
    rows = organizations.lookup(request.GET.get("q", ""), kind)
    return JsonResponse(
        {
            "results": [
                {
                    "value": f"{org.name}（{org.credit_code}）",
                    "name": org.name,
                    "code": org.credit_code,
                    "verified": org.is_verified,
                }
                for org in rows
            ]
        }
    )


def favicon(request: HttpRequest) -> HttpResponse:
    """/favicon.ico, which browsers ask for whatever the page says."""
    return redirect(static("img/favicon.ico"), permanent=True)


def healthz(request: HttpRequest) -> HttpResponse:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Send each user to the home page of their first role."""
    for role in request.user.role_list:
        if role in ROLE_HOME:
            return redirect("core:home-role", role=ROLE_HOME[role])
    return render(request, "core/home_none.html")


@login_required
def home_role(request: HttpRequest, role: str) -> HttpResponse:
    if role not in HOME_ROLES:
        raise PermissionDenied
    require_roles(request.user, HOME_ROLES[role])
    context = {"role": role}
    if role == "enterprise":
        context.update(selectors.enterprise_home(request.user))
    elif role == "reviewer":
        context.update(selectors.reviewer_home(request.user))
    elif role == "province-admin":
        context.update(selectors.province_admin_home())
    elif role == "security-admin":
        context.update(selectors.security_admin_home())
    elif role == "audit-admin":
        context["entries"] = list(AuditEntry.objects.select_related("actor", "actor_org")[:20])
    return render(request, f"core/home_{role.replace('-', '_')}.html", context)


@login_required
def accounts(request: HttpRequest) -> HttpResponse:
    """Security admin: accounts with their lock state; unlock is a POST below."""
    require_roles(request.user, {Role.SECURITY_ADMIN})
    query = request.GET.get("q", "").strip()
    rows = User.objects.select_related("organization").order_by("-id")
    if query:
        rows = rows.filter(username__icontains=query) | rows.filter(full_name__icontains=query)
    page = keyset_page(rows, request, key="id", descending=True)
    locked = selectors.locked_usernames([u.username for u in page.rows])
    return render(request, "core/accounts.html", {"page": page, "locked": locked, "q": query})


@require_POST
@login_required
def account_unlock(request: HttpRequest, pk: int) -> HttpResponse:
    require_roles(request.user, {Role.SECURITY_ADMIN})
    user = get_object_or_404(User, pk=pk)
    axes_reset(username=user.username)
    audit.record(
        action=AuditEntry.Action.PERMISSION,
        actor=request.user,
        obj=user,
        reason="解除登录锁定",
        ip=audit.client_ip(request),
    )
    messages.success(request, f"已解除账号 {user.username} 的登录锁定。")
    return redirect("core:accounts")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Audit admin: the append-only log, newest first, filtered by action, object and time."""
    require_roles(request.user, {Role.AUDIT_ADMIN})
    rows = AuditEntry.objects.select_related("actor", "actor_org")
    action = request.GET.get("action", "")
    if action in AuditEntry.Action.values:
        rows = rows.filter(action=action)
    object_type = request.GET.get("object_type", "").strip()
    if object_type:
        rows = rows.filter(object_type=object_type[:40])
    days = request.GET.get("days", "")
    if days in AUDIT_PERIODS:
        rows = rows.filter(at__gte=timezone.now() - timedelta(days=int(days)))
    page = keyset_page(rows, request, key="id", descending=True)
    return render(
        request,
        "core/audit_log.html",
        {"page": page, "actions": AuditEntry.Action.choices, "action": action, "object_type": object_type},
    )


AUDIT_PERIODS = ("1", "7", "30", "180")


def error_403(request, exception=None):
    message = str(exception) if exception and str(exception) else "您无权执行此操作。"
    return render(request, "errors/403.html", {"message": message}, status=403)


def error_404(request, exception=None):
    return render(request, "errors/404.html", status=404)


def error_500(request):
    return render(request, "errors/500.html", status=500)
