"""Login, the per-role home pages, the security admin's and the audit admin's pages."""

from __future__ import annotations

import time
from datetime import timedelta

import django_otp
import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout, update_session_auth_hash
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from yunjian.core import accounts as account_services
from yunjian.core import audit, certificates, organizations, selectors, signin, throttle
from yunjian.core.forms import (
    AdminCertificateBindForm,
    CertificateBindForm,
    LoginForm,
    PasswordChangeForm,
    TokenForm,
)
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

    def form_invalid(self, form):
        response = super().form_invalid(form)
        if form.throttled:
            response.status_code = 429
        return response

    def form_valid(self, form):
        response = super().form_valid(form)
        # Signed in with the password while presenting a verified certificate bound to nobody: offer
        # to bind it (the page asks for the password once more).
        presented = getattr(self.request, "client_certificate", None)
        user = form.get_user()
        if (
            presented is not None
            and certificates.may_bind(user)
            and certificates.binding_for(presented) is None
        ):
            return redirect(
                reverse("core:certificate-bind") + "?" + urlencode({"next": self.get_success_url()})
            )
        return response


@require_POST
def ca_login(request: HttpRequest) -> HttpResponse:
    """ "使用CA数字证书登录": the certificate the proxy verified, bound to an account, signs it in.
    The certificate is the second factor too (yunjian.core.certificates)."""
    from django.contrib.auth import login

    if request.user.is_authenticated:
        return redirect("core:home")
    presented = getattr(request, "client_certificate", None)
    try:
        user = certificates.account_for_sign_in(presented, ip=audit.client_ip(request))
    except ValidationError as error:
        messages.error(request, error.messages[0])
        return redirect("core:login")
    request.ca_sign_in = presented  # the sign-in audit entry names the certificate (signals.on_login)
    login(request, user, backend="yunjian.core.backends.OrganizationModelBackend")
    request.session[signin.CA_SIGNED_IN] = presented.fingerprint
    request.session[signin.OTP_PENDING] = False
    return redirect(_safe_next(request))


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
    """Send each user to the home page of their first role (省厅业务处室: the province's board)."""
    if request.user.has_role(Role.BOARD_VIEWER):
        return redirect("boards:board")
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
    account_services.account_unlock(actor=request.user, user_id=user.pk, ip=audit.client_ip(request))
    messages.success(request, f"已解除账号 {user.username} 的登录锁定。")
    return redirect("core:accounts")


@never_cache
@require_POST
@login_required
def account_password_reset(request: HttpRequest, pk: int) -> HttpResponse:
    """Security admin: a temporary password, shown once on this page (never in a URL or a log)."""
    require_roles(request.user, {Role.SECURITY_ADMIN})
    get_object_or_404(User, pk=pk)
    user, password = account_services.password_reset(
        actor=request.user, user_id=pk, ip=audit.client_ip(request)
    )
    return render(request, "core/password_reset_done.html", {"account": user, "password": password})


@require_POST
@login_required
def account_otp_reset(request: HttpRequest, pk: int) -> HttpResponse:
    require_roles(request.user, {Role.SECURITY_ADMIN})
    user = get_object_or_404(User, pk=pk)
    account_services.otp_reset(actor=request.user, user_id=user.pk, ip=audit.client_ip(request))
    messages.success(request, f"已重置账号 {user.username} 的动态口令，其下次登录时须重新绑定。")
    return redirect("core:accounts")


# --- the person's own account security ------------------------------------------------------------


def _safe_next(request, fallback: str = "core:home") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return reverse(fallback)


@never_cache
@login_required
def password_change(request: HttpRequest) -> HttpResponse:
    """Every user's own password: forced after an activation or a reset, and after expiry."""
    form = PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = account_services.password_change(
                actor=request.user,
                old_password=form.cleaned_data["old_password"],
                new_password=form.cleaned_data["new_password1"],
                ip=audit.client_ip(request),
            )
        except ValidationError as error:
            _add_errors(form, error, default_field="new_password1")
        else:
            update_session_auth_hash(request, user)
            messages.success(request, "密码已修改。")
            return redirect("core:home")
    return render(
        request,
        "core/password_change.html",
        {
            "form": form,
            "reason": signin.password_change_reason(request.user),
            "expires_at": signin.password_expires_at(request.user),
            "max_age_days": settings.PASSWORD_MAX_AGE_DAYS,
            "history_count": settings.PASSWORD_HISTORY_COUNT,
            "may_bind_certificate": certificates.may_bind(request.user),
        },
    )


def _add_errors(form, error: ValidationError, default_field: str) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(default_field, error.messages)


@never_cache
@login_required
def otp_setup(request: HttpRequest) -> HttpResponse:
    """Enrol an authenticator app (QR code drawn here, no outside service), then one-time backup codes."""
    user = request.user
    device = account_services.confirmed_totp(user)
    if device is not None:
        if not user.is_verified():
            return redirect(reverse("core:otp-verify") + "?" + request.GET.urlencode())
        return render(
            request,
            "core/otp_status.html",
            {"device": device, "backup_left": _backup_left(user), "required": user.otp_required_by_role},
        )
    pending = account_services.pending_totp(user)
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device, codes = account_services.otp_enrol(
                actor=user, token=form.cleaned_data["token"], ip=audit.client_ip(request)
            )
        except ValidationError as error:
            form.add_error("token", error.messages)
        else:
            django_otp.login(request, device)
            request.session[signin.OTP_PENDING] = False
            messages.success(request, "动态口令已启用。请妥善保存下面的备用码。")
            return render(
                request, "core/otp_backup_codes.html", {"codes": codes, "next": _safe_next(request)}
            )
    qr = segno.make(pending.config_url, error="m")
    return render(
        request,
        "core/otp_setup.html",
        {
            "form": form,
            "qr_svg": mark_safe(
                qr.svg_inline(scale=5, title="动态口令二维码")
            ),  # drawn here from our own data
            "secret": _base32(pending),
            "required": user.otp_required_by_role,
            "next": request.GET.get("next", ""),
        },
    )


def _base32(device) -> str:
    from base64 import b32encode

    secret = b32encode(device.bin_key).decode()
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _backup_left(user) -> int:
    from django_otp.plugins.otp_static.models import StaticToken

    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


@never_cache
@require_POST
@login_required
def otp_backup_codes(request: HttpRequest) -> HttpResponse:
    if not request.user.is_verified():
        return redirect("core:otp-verify")
    try:
        codes = account_services.backup_codes_regenerate(actor=request.user, ip=audit.client_ip(request))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("core:otp-setup")
    return render(request, "core/otp_backup_codes.html", {"codes": codes, "next": reverse("core:otp-setup")})


@never_cache
@login_required
def otp_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: a code from the authenticator app, or a one-time backup code."""
    user = request.user
    if user.is_verified():
        return redirect(_safe_next(request))
    if account_services.confirmed_totp(user) is None and not _backup_left(user):
        return redirect(reverse("core:otp-setup") + "?" + request.GET.urlencode())
    form = TokenForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        device = account_services.otp_verify(user=user, token=form.cleaned_data["token"])
        if device is None:
            form.add_error("token", "动态口令或备用码不正确（或尝试过于频繁，请稍候再试）。")
        else:
            django_otp.login(request, device)
            request.session[signin.OTP_PENDING] = False
            if device.__class__.__name__ == "StaticDevice":
                messages.warning(
                    request,
                    f"您使用了一个备用码，还剩{_backup_left(user)}个；用完前请在“账号安全”中重新生成。",
                )
            return redirect(_safe_next(request))
    return render(request, "core/otp_verify.html", {"form": form, "next": request.GET.get("next", "")})


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


# --- CA digital certificates --------------------------------------------------------------------------


@never_cache
@login_required
def certificate_bind(request: HttpRequest) -> HttpResponse:
    """The holder's own certificates, and binding the one presented now (password + certificate)."""
    user = request.user
    if not certificates.may_bind(user):
        raise PermissionDenied("管理员账号不绑定CA数字证书。")
    presented = getattr(request, "client_certificate", None)
    binding = certificates.binding_for(presented)
    form = CertificateBindForm(request.POST or None)
    # The password re-entry is a sign-in in all but name: throttled and locked like one (throttle.py).
    refused = throttle.reentry_refusal(request, user) if request.method == "POST" else ""
    if refused:
        form.add_error(None, refused)
    elif request.method == "POST" and form.is_valid():
        try:
            certificates.bind_own(
                actor=user,
                password=form.cleaned_data["password"],
                certificate=presented,
                ip=audit.client_ip(request),
            )
        except ValidationError as error:
            wrong_password = hasattr(error, "error_dict") and "password" in error.error_dict
            if wrong_password and throttle.reentry_failed(request, user):
                # Locked at this address: the session that guessed goes too; axes' middleware
                # answers with the lockout page, as for a sign-in.
                logout(request)
                return HttpResponse(status=403)
            if hasattr(error, "error_dict"):
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(request, "CA数字证书已绑定：今后请插入证书，点击“使用CA数字证书登录”。")
            return redirect(_safe_next(request))
    status = (429 if refused else 400) if request.method == "POST" else 200
    return render(
        request,
        "core/certificate_bind.html",
        {
            "form": form,
            "presented": presented,
            "binding": binding,
            "bound": list(user.certificates.all()),
            "next": request.POST.get("next") or request.GET.get("next", ""),
        },
        status=status,
    )


@never_cache
@login_required
def account_certificates(request: HttpRequest, pk: int) -> HttpResponse:
    """Security admin: an account's bound certificates; bind one by serial and subject."""
    require_roles(request.user, {Role.SECURITY_ADMIN})
    account = get_object_or_404(User.objects.select_related("organization"), pk=pk)
    form = AdminCertificateBindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            certificates.bind_by_admin(
                actor=request.user, user_id=account.pk, ip=audit.client_ip(request), **form.cleaned_data
            )
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, problems in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, problems)
            else:
                form.add_error(None, error.messages)
        else:
            messages.success(
                request, f"已为账号 {account.username} 绑定CA数字证书，其首次使用证书登录时核对指纹。"
            )
            return redirect("core:account-certificates", pk=account.pk)
    return render(
        request,
        "core/account_certificates.html",
        {
            "account": account,
            "form": form,
            "bound": list(account.certificates.select_related("bound_by")),
            "may_bind": certificates.may_bind(account) and account.pk != request.user.pk,
        },
        status=400 if request.method == "POST" else 200,
    )


@require_POST
@login_required
def account_certificate_unbind(request: HttpRequest, pk: int, cert_pk: int) -> HttpResponse:
    require_roles(request.user, {Role.SECURITY_ADMIN})
    account = get_object_or_404(User, pk=pk)
    try:
        certificates.unbind(
            actor=request.user, user_id=account.pk, certificate_id=cert_pk, ip=audit.client_ip(request)
        )
    except ValidationError as error:
        messages.error(request, error.messages[0])
    else:
        messages.success(request, f"已解除账号 {account.username} 的CA数字证书绑定。")
    return redirect("core:account-certificates", pk=account.pk)
