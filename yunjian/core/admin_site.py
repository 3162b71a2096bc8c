"""The admin site is the system administrator's data-maintenance console, and nothing more (三员分立).

- Only an active system administrator (role, not a superuser flag) who has passed the second factor
  gets in; there are no superusers in normal operation (yunjian.core.models.access_conflict).
- Only the data-maintenance models are registered, whatever an app or a library tries to register:
  accounts, groups, permissions and login locks are the security administrator's (their own pages),
  the audit log is the audit administrator's.
- Every addition, change and deletion made here is written to the audit log with its actor.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import reverse

from yunjian.core import audit
from yunjian.core.models import AuditEntry, Role

# app label → model names the system administrator maintains here (None: every model of the app).
DATA_MAINTENANCE_MODELS: dict[str, frozenset[str] | None] = {
    "core": frozenset({"division", "zone", "organization"}),
    "projects": None,
    "review": None,
    "sync": None,
}


def is_data_maintenance_model(model) -> bool:
    opts = model._meta
    if opts.app_label not in DATA_MAINTENANCE_MODELS:
        return False
    names = DATA_MAINTENANCE_MODELS[opts.app_label]
    return names is None or opts.model_name in names


def _object_data(obj) -> dict:
    return {"model": obj._meta.label_lower, "object": str(obj)[:200]}


class AuditedAdminMixin:
    """Every change made through the admin site goes to the audit log, with its actor and address."""

    def log_addition(self, request, obj, message):
        audit.record(
            action=AuditEntry.Action.CREATE,
            actor=request.user,
            obj=obj,
            reason="管理后台新增",
            data={**_object_data(obj), "change": message},
            ip=audit.client_ip(request),
        )
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        audit.record(
            action=AuditEntry.Action.UPDATE,
            actor=request.user,
            obj=obj,
            reason="管理后台修改",
            data={**_object_data(obj), "change": message},
            ip=audit.client_ip(request),
        )
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            audit.record(
                action=AuditEntry.Action.DELETE,
                actor=request.user,
                obj=obj,
                reason="管理后台删除",
                data=_object_data(obj),
                ip=audit.client_ip(request),
            )
        return super().log_deletions(request, queryset)


class YunjianAdminSite(admin.AdminSite):
    site_header = "云南省工程项目数据治理系统 · 管理后台"
    site_title = "yunjian 管理后台"
    index_title = "数据维护（系统管理员）"

    def has_permission(self, request) -> bool:
        user = request.user
        if not (user.is_active and user.is_authenticated and user.has_role(Role.PROVINCE_ADMIN)):
            return False
        return not settings.OTP_REQUIRED or user.is_verified()

    def login(self, request, extra_context=None):
        if request.user.is_authenticated:
            # Signed in with another role (sending them to sign in again would loop).
            raise PermissionDenied("管理后台只对系统管理员开放。")
        # One sign-in for the whole system: password, throttling, lockout and the second factor.
        target = request.GET.get("next") or reverse("admin:index")
        return redirect(reverse("core:login") + "?" + urlencode({"next": target}))

    def password_change(self, request, extra_context=None):
        # The one password page: history, expiry and the forced-change flag are handled there.
        return redirect("core:password-change")

    def register(self, model_or_iterable, admin_class=None, **options):
        models = [model_or_iterable] if isinstance(model_or_iterable, type) else list(model_or_iterable)
        allowed = [model for model in models if is_data_maintenance_model(model)]
        if not allowed:
            return
        admin_class = admin_class or admin.ModelAdmin
        audited = type(admin_class.__name__, (AuditedAdminMixin, admin_class), {})
        super().register(allowed, audited, **options)
