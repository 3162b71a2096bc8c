"""Pages of the enterprises app: public registration and its status, the province's queue, the enterprise
administrator's staff pages, the one-time password link, and the public verified-performance query.
Views stay thin: the services (enterprises.services) lock, check, change and audit."""

from __future__ import annotations

import mimetypes

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse, reverse_lazy
from django.utils.cache import patch_cache_control
from django.utils.safestring import mark_safe
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from enterprises import public, ratelimit, services
from enterprises.forms import RefuseForm, RegistrationForm, SearchForm, StaffForm
from enterprises.models import Registration
from yunjian.core import audit
from yunjian.core.forms import FirstPasswordForm
from yunjian.core.models import AuditEntry, Organization, Role, User
from yunjian.core.pagination import keyset_page
from yunjian.core.permissions import require_roles

# Registrations: at most this many submissions per address an hour (abuse: floods of fake applications).
REGISTER_LIMIT, REGISTER_WINDOW = 10, 3600
# The public query: per address a minute.
PUBLIC_LIMIT, PUBLIC_WINDOW = 60, 60


def _errors(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.message_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages)


def _too_many(request, text: str) -> HttpResponse:
    response = render(request, "enterprises/rate_limited.html", {"message": text}, status=429)
    response["Retry-After"] = "60"
    return response


# --- registration ----------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(request.POST, request.FILES) if request.method == "POST" else RegistrationForm()
    if request.method == "POST":
        if not ratelimit.hit(request, "register", limit=REGISTER_LIMIT, window=REGISTER_WINDOW):
            return _too_many(request, "同一地址提交注册申请过于频繁，请一小时后再试。")
        if form.is_valid():
            try:
                registration, token = services.register(
                    data=form.service_data(),
                    licence=form.cleaned_data["licence"],
                    ip=audit.client_ip(request),
                )
            except ValidationError as error:
                _errors(form, error)
            else:
                messages.success(
                    request,
                    f"注册申请已提交（{registration.name}）。请收藏本页地址，审核结果会显示在本页，并发送到联系人邮箱。",
                )
                return redirect("enterprises:status", token=token)
    return render(request, "enterprises/register.html", {"form": form})


@never_cache
@require_GET
def status(request: HttpRequest, token: str) -> HttpResponse:
    registration = Registration.objects.filter(token_digest=services.token_digest(token)).first()
    if registration is None:
        raise Http404
    return render(request, "enterprises/status.html", {"registration": registration})


# --- the province's queue -------------------------------------------------------------------------


def _approver(request) -> None:
    require_roles(request.user, {Role.PROVINCE_ADMIN})


@login_required
@require_GET
def queue(request: HttpRequest) -> HttpResponse:
    _approver(request)
    state = request.GET.get("state", Registration.State.PENDING)
    if state not in Registration.State.values:
        state = Registration.State.PENDING
    rows = Registration.objects.filter(state=state).select_related("division")
    descending = (
        state != Registration.State.PENDING
    )  # the oldest application first; decided ones newest first
    page = keyset_page(rows, request, key=("submitted_at", "id"), descending=descending)
    return render(
        request,
        "enterprises/queue.html",
        {"page": page, "state": state, "states": Registration.State.choices},
    )


@login_required
@require_GET
def registration(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    item = get_object_or_404(
        Registration.objects.select_related("division", "decided_by", "organization"), pk=pk
    )
    existing = Organization.objects.filter(credit_code=item.credit_code).first()
    return render(
        request,
        "enterprises/registration.html",
        {"item": item, "existing": existing, "refuse_form": RefuseForm()},
    )


@login_required
@require_GET
def licence(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    item = get_object_or_404(Registration, pk=pk)
    try:
        handle = item.licence.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    content_type = mimetypes.guess_type(item.licence.name)[0] or "application/octet-stream"
    response = FileResponse(
        handle,
        as_attachment=request.GET.get("inline") != "1",
        filename=item.licence_name,
        content_type=content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response


@login_required
@require_POST
def approve(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    try:
        item = services.approve(actor=request.user, registration_id=pk, ip=audit.client_ip(request))
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("enterprises:registration", pk=pk)
    verb = "认领了已有的待核实单位" if item.claimed else "新建了单位"
    messages.success(
        request, f"已批准“{item.name}”的注册申请，{verb}，企业管理员账号 {item.username} 已开通。"
    )
    return redirect("enterprises:queue")


@login_required
@require_POST
def refuse(request: HttpRequest, pk: int) -> HttpResponse:
    _approver(request)
    form = RefuseForm(request.POST)
    if form.is_valid():
        try:
            item = services.refuse(
                actor=request.user,
                registration_id=pk,
                reason=form.cleaned_data["reason"],
                ip=audit.client_ip(request),
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            messages.success(request, f"已不予通过“{item.name}”的注册申请，申请人可在状态页看到原因。")
            return redirect("enterprises:queue")
    item = get_object_or_404(Registration.objects.select_related("division"), pk=pk)
    existing = Organization.objects.filter(credit_code=item.credit_code).first()
    return render(
        request,
        "enterprises/registration.html",
        {"item": item, "existing": existing, "refuse_form": form},
        status=400,
    )


# --- the enterprise administrator ------------------------------------------------------------------


def _enterprise_admin(request) -> None:
    require_roles(request.user, {Role.ENTERPRISE_ADMIN})
    if not request.user.organization_id:
        raise PermissionDenied("您的账号未关联单位。")


@login_required
@require_GET
def staff(request: HttpRequest) -> HttpResponse:
    _enterprise_admin(request)
    rows = User.objects.filter(
        organization_id=request.user.organization_id, roles__contains=f"|{Role.ENTERPRISE}|"
    )
    page = keyset_page(rows, request, key="id")
    return render(request, "enterprises/staff.html", {"page": page, "form": StaffForm()})


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def staff_new(request: HttpRequest) -> HttpResponse:
    _enterprise_admin(request)
    form = StaffForm(request.POST) if request.method == "POST" else StaffForm()
    if request.method == "POST" and form.is_valid():
        try:
            user, link = services.staff_create(
                actor=request.user, data=form.cleaned_data, ip=audit.client_ip(request)
            )
        except ValidationError as error:
            _errors(form, error)
        else:
            return _link_page(request, user, link, created=True)
    return render(request, "enterprises/staff_new.html", {"form": form}, status=400 if form.errors else 200)


def _link_page(request, user, link: str, *, created: bool) -> HttpResponse:
    return render(
        request,
        "enterprises/staff_link.html",
        {"account": user, "link": request.build_absolute_uri(link), "created": created},
    )


def _staff_action(request, pk: int, action) -> HttpResponse:
    _enterprise_admin(request)
    try:
        return action()
    except ValidationError as error:
        messages.error(request, "；".join(error.messages))
        return redirect("enterprises:staff")


@login_required
@require_POST
def staff_disable(request: HttpRequest, pk: int) -> HttpResponse:
    def run():
        user = services.staff_set_active(
            actor=request.user, user_id=pk, active=False, ip=audit.client_ip(request)
        )
        messages.success(request, f"已停用账号 {user.username}（{user.display_name}）。")
        return redirect("enterprises:staff")

    return _staff_action(request, pk, run)


@login_required
@require_POST
def staff_enable(request: HttpRequest, pk: int) -> HttpResponse:
    def run():
        user = services.staff_set_active(
            actor=request.user, user_id=pk, active=True, ip=audit.client_ip(request)
        )
        messages.success(request, f"已重新启用账号 {user.username}（{user.display_name}）。")
        return redirect("enterprises:staff")

    return _staff_action(request, pk, run)


@never_cache
@login_required
@require_POST
def staff_password(request: HttpRequest, pk: int) -> HttpResponse:
    def run():
        user, link = services.staff_password_reset(
            actor=request.user, user_id=pk, ip=audit.client_ip(request)
        )
        return _link_page(request, user, link, created=False)

    return _staff_action(request, pk, run)


@login_required
@require_GET
def staff_audit(request: HttpRequest) -> HttpResponse:
    """Who of the organization did what: the audit entries its accounts wrote (newest first)."""
    _enterprise_admin(request)
    rows = AuditEntry.objects.filter(actor_org_id=request.user.organization_id).select_related(
        "actor", "actor_org"
    )
    page = keyset_page(rows, request, key="id", descending=True)
    return render(request, "enterprises/staff_audit.html", {"page": page})


class SetPasswordView(auth_views.PasswordResetConfirmView):
    """The one-time link the enterprise administrator handed over: the colleague sets their password."""

    template_name = "enterprises/set_password.html"
    form_class = FirstPasswordForm
    token_generator = services.staff_token
    reset_url_token = "set-password"  # noqa: S105 (a URL segment, not a password)
    success_url = reverse_lazy("core:login")
    post_reset_login = False

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        ok = (
            user is not None
            and user.is_active
            and user.has_role(Role.ENTERPRISE)
            and not user.has_usable_password()
        )
        return user if ok else None

    def form_valid(self, form):
        user = form.user
        response = super().form_valid(form)
        audit.record(
            action=AuditEntry.Action.PASSWORD,
            actor=user,
            obj=user,
            reason="通过一次性链接设置密码",
            ip=audit.client_ip(self.request),
        )
        messages.success(self.request, f"账号 {user.username} 的密码已设置，请用新密码登录。")
        return response


set_password = SetPasswordView.as_view()


# --- the public verified-performance query ---------------------------------------------------------

LIMIT_MESSAGE = "您查询过于频繁（每个地址每分钟最多查询60次），请稍候一分钟再试。"


def _public(response: HttpResponse, request) -> HttpResponse:
    # Cached on the server (enterprises.public), not by shared caches: the page carries a CSRF token.
    patch_cache_control(response, private=True, max_age=60)
    return response


@require_GET
def public_search(request: HttpRequest) -> HttpResponse:
    if not ratelimit.hit(request, "public", limit=PUBLIC_LIMIT, window=PUBLIC_WINDOW):
        return _too_many(request, LIMIT_MESSAGE)
    form = SearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    found = public.search(query) if query else []
    context = {"form": form, "q": query, "found": found, "short": bool(query) and len(query.strip()) < 2}
    return _public(render(request, "enterprises/public_search.html", context), request)


@require_GET
def public_enterprise(request: HttpRequest, code: str) -> HttpResponse:
    if not ratelimit.hit(request, "public", limit=PUBLIC_LIMIT, window=PUBLIC_WINDOW):
        return _too_many(request, LIMIT_MESSAGE)
    after = request.GET.get("after", "")
    after_id = int(after) if after.isdigit() and len(after) < 12 else None
    page = public.enterprise(code, after_id)
    if page is None:
        raise Http404("没有找到该单位。")
    # The rows are rendered once per cached page (Django's templates cost more than the cache read).
    key = f"public:enterprise-rows:{page.credit_code}:{after_id or 0}"
    rows_html = cache.get(key)
    if rows_html is None:
        rows_html = render_to_string("enterprises/_public_rows.html", {"enterprise": page})
        cache.set(key, rows_html, public.PUBLIC_CACHE_SECONDS)
    context = {"enterprise": page, "code": code, "after": after_id, "rows_html": mark_safe(rows_html)}  # noqa: S308
    return _public(render(request, "enterprises/public_enterprise.html", context), request)


def public_url(code: str) -> str:
    return reverse("enterprises:public-enterprise", kwargs={"code": code})
