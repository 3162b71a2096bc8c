"""Idle-session timeout (等保 2.0), NUL characters, and the sign-in policy (second factor, password)."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from yunjian.core import audit, signin
from yunjian.core.models import AuditEntry

SESSION_KEY = "last_activity"


class IdleTimeoutMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.user.is_authenticated:
            now = int(time.time())
            last = request.session.get(SESSION_KEY)
            if last is not None and now - last > settings.IDLE_TIMEOUT_SECONDS:
                user = request.user
                audit.record(
                    action=AuditEntry.Action.TIMEOUT, actor=user, obj=user, ip=audit.client_ip(request)
                )
                logout(request)
                minutes = settings.IDLE_TIMEOUT_SECONDS // 60
                messages.info(request, f"您已超过{minutes}分钟未操作，为保障账号安全已自动退出，请重新登录。")
                login_url = reverse("core:login")
                if request.path == login_url:  # "重新登录" on the timeout notice: keep its ?next=
                    return self.get_response(request)
                return redirect(login_url + "?" + urlencode({"next": request.path}))
            # Write the session at most once a minute (or a tenth of the timeout), not on every request;
            # the pages' timeout warning (static/js/forms.js) counts from that much earlier.
            if last is None or now - last >= min(60, settings.IDLE_TIMEOUT_SECONDS // 10):
                request.session[SESSION_KEY] = now
        return self.get_response(request)


class RejectNulCharactersMiddleware:
    """Refuse a request whose parameters contain NUL characters: PostgreSQL cannot store or compare
    them, and no legitimate form or search box produces one. One check here instead of one per view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        values = [*request.GET.lists()]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values += [*request.POST.lists()]
        if any("\x00" in key or any("\x00" in v for v in vals) for key, vals in values):
            return render(
                request,
                "errors/400.html",
                {"message": "提交的内容中含有不可见的控制字符（NUL），请删除后重新输入。"},
                status=400,
            )
        return self.get_response(request)


class SignInPolicyMiddleware:
    """Before any page: the second factor (for those who need it), then a temporary or expired
    password must be changed; a warning when the password expires soon. Also binds the request for
    the audit receivers (yunjian.core.audit.current_request), so changes name their actor."""

    OTP_PAGES = ("core:otp-verify", "core:otp-setup", "core:logout")
    PASSWORD_PAGES = ("core:password-change", "core:logout")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = audit.current_request.set(request)
        try:
            return self._policy(request) or self.get_response(request)
        finally:
            audit.current_request.reset(token)

    def _policy(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        path = request.path
        if path.startswith(settings.STATIC_URL) or path == "/healthz":
            return None
        if signin.otp_pending(request):
            if path in {reverse(name) for name in self.OTP_PAGES}:
                return None
            return redirect(reverse("core:otp-verify") + "?" + urlencode({"next": request.get_full_path()}))
        reason = signin.password_change_reason(user)
        if reason:
            if path in {reverse(name) for name in self.PASSWORD_PAGES}:
                return None
            messages.warning(request, reason)
            return redirect("core:password-change")
        if not request.session.get(signin.EXPIRY_WARNED):
            days = signin.days_until_expiry(user)
            if days is not None:
                messages.warning(request, f"您的密码将在{days}天后过期，请尽快修改。")
            request.session[signin.EXPIRY_WARNED] = True
        return None


PERMISSIONS_POLICY = ", ".join(
    f"{feature}=()"
    for feature in (
        "accelerometer",
        "autoplay",
        "camera",
        "display-capture",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "midi",
        "payment",
        "usb",
        "interest-cohort",
    )
)


class SecurityHeadersMiddleware:
    """Permissions-Policy on every response; `Cache-Control: no-store` on everything a signed-in user
    gets (pages and exports hold personal and unpublished data that no shared or browser cache may keep)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            response["Cache-Control"] = "no-store, private"
            response["Pragma"] = "no-cache"
            if "Expires" in response:
                del response["Expires"]
        return response
