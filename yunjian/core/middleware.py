"""Idle-session timeout (等保 2.0): a session unused for IDLE_TIMEOUT_SECONDS is ended."""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from yunjian.core import audit
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
