"""The roster pages: overview, template, upload → preview → apply, exports, activation.

Thin views: roles by require_roles (403), the writing in review.roster.apply (lock, atomic, audit),
reads in review.roster.selectors. Uploaded bytes stay on the server between preview and apply
(review.roster.storage); apply never reads a file from the client.
"""

from __future__ import annotations

import re

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from review import routing
from review.roster import activation, selectors, storage
from review.roster.apply import (
    STATUS_LABELS,
    STATUSES,
    RosterApplyError,
    apply_roster,
    place_label,
    plan_roster,
    read_roster,
)
from review.roster.excel import error_report_workbook, summary_workbook, template_workbook
from review.roster.forms import ApplyForm, ExportForm, RevealForm, UploadForm
from review.roster.parse import RosterFileError
from yunjian.core import audit
from yunjian.core.forms import FirstPasswordForm
from yunjian.core.models import AuditEntry, Role, User
from yunjian.core.pagination import keyset_page
from yunjian.core.permissions import require_roles

ADMIN = {Role.PROVINCE_ADMIN}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PREVIEW_PAGE = 200
RESULT_SHOWN = 500
ROSTER_KEY = ("place", "stage_order", "id")
UNSAFE_NAME_RE = re.compile(r"[\x00-\x1f\\/:*?\"<>|]")
EXPIRED = "上传的文件已失效（超过一天或已导入），请重新上传。"


def _xlsx(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _file_name(name: str) -> str:
    name = UNSAFE_NAME_RE.sub("_", name.rsplit("/", 1)[-1].rsplit("\\", 1)[-1]).strip()
    return name[-120:] or "汇总表.xlsx"


def _stored(request: HttpRequest, token: str) -> storage.StoredUpload | None:
    try:
        return storage.load(request.session, token, user_id=request.user.pk)
    except storage.UploadExpired:
        messages.error(request, EXPIRED)
        return None


# --- overview, template, upload ---------------------------------------------------------------


@login_required
@require_GET
def index(request: HttpRequest) -> HttpResponse:
    """Province admin: every prefecture with its liaison and people per stage (5 queries + auth)."""
    require_roles(request.user, ADMIN)
    return render(request, "roster/index.html", selectors.overview())


@login_required
@require_GET
def template_download(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, ADMIN)
    return _xlsx(template_workbook(), "工程项目数据审核人员及联络员汇总表（模板）.xlsx")


@login_required
@require_http_methods(["GET", "POST"])
def upload(request: HttpRequest) -> HttpResponse:
    """Check the file at once (a bad file is a 400 with the reason); keep a readable one for the preview."""
    require_roles(request.user, ADMIN)
    if request.method != "POST":
        return render(request, "roster/upload.html", {"form": UploadForm()})
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        uploaded = form.cleaned_data["file"]
        content = uploaded.read()
        name = _file_name(uploaded.name or "")
        try:
            read_roster(content, name)
        except RosterFileError as exc:
            form.add_error("file", exc.message)
        else:
            token = storage.save(request.session, content=content, name=name, user_id=request.user.pk)
            return redirect("roster:preview", token=token)
    return render(request, "roster/upload.html", {"form": form}, status=400)


# --- preview, error report, apply, result ------------------------------------------------------


@login_required
@require_GET
def preview(request: HttpRequest, token: str) -> HttpResponse:
    """Every line marked new, updated, unchanged or error, and the assignments that would go."""
    require_roles(request.user, ADMIN)
    stored = _stored(request, token)
    if stored is None:
        return redirect("roster:upload")
    plan = plan_roster(read_roster(stored.content, stored.name))
    status = request.GET.get("status", "")
    rows = [row for row in plan.rows if row.status == status] if status in STATUSES else plan.rows
    page = _int(request.GET.get("page"), 1)
    pages = max(1, -(-len(rows) // PREVIEW_PAGE))
    page = min(max(page, 1), pages)
    counts = plan.counts
    tabs = [{"key": "", "label": "全部", "count": len(plan.rows), "active": status not in STATUSES}]
    tabs += [
        {"key": key, "label": STATUS_LABELS[key], "count": counts[key], "active": status == key}
        for key in STATUSES
    ]
    context = {
        "token": token,
        "name": stored.name,
        "plan": plan,
        "counts": counts,
        "tabs": tabs,
        "status": status if status in STATUSES else "",
        "rows": rows[(page - 1) * PREVIEW_PAGE : page * PREVIEW_PAGE],
        "page": page,
        "pages": pages,
        "removals": [
            {
                "roster": plan.roster_labels.get(a.roster_key, a.roster_key),
                "place": place_label(a),
                "name": a.user.full_name,
                "username": a.user.username,
                "stage": a.get_stage_display(),
                "phone": a.user.phone,
            }
            for a in plan.removals
        ],
        "apply_form": ApplyForm(initial={"plan": plan.digest}),
        "rosters": [plan.roster_labels[key] for key in plan.roster_keys],
    }
    return render(request, "roster/preview.html", context)


def _int(value: str | None, default: int) -> int:
    try:
        return int(value or default)
    except ValueError:
        return default


@login_required
@require_GET
def error_report(request: HttpRequest, token: str) -> HttpResponse:
    require_roles(request.user, ADMIN)
    stored = _stored(request, token)
    if stored is None:
        return redirect("roster:upload")
    parse = read_roster(stored.content, stored.name)
    plan_roster(parse)  # adds the errors only the database can tell (a conflicting account)
    stem = stored.name.rsplit(".", 1)[0]
    return _xlsx(error_report_workbook(parse), f"检查结果-{stem}.xlsx")


@login_required
@require_POST
def apply_view(request: HttpRequest, token: str) -> HttpResponse:
    """Apply the stored file, if its plan is still the one the admin saw."""
    require_roles(request.user, ADMIN)
    stored = _stored(request, token)
    if stored is None:
        return redirect("roster:upload")
    form = ApplyForm(request.POST)
    if not form.is_valid():
        messages.error(request, "确认信息不完整，请在预览页面点击“确认导入”。")
        return redirect("roster:preview", token=token)
    try:
        result = apply_roster(
            parse=read_roster(stored.content, stored.name),
            actor=request.user,
            filename=stored.name,
            sha256=stored.sha256,
            expected_digest=form.cleaned_data["plan"],
            ip=audit.client_ip(request),
        )
    except RosterApplyError as exc:
        messages.error(request, exc.message)
        return redirect("roster:preview", token=token)
    storage.discard(request.session, token)
    storage.remember_result(
        request.session,
        token,
        {
            "name": stored.name,
            "counts": result.plan.counts,
            "rosters": [result.plan.roster_labels[key] for key in result.plan.roster_keys],
            "created": result.created_user_ids,
            "orgs": [org.name for org in result.created_orgs],
            "changed": result.changed,
        },
    )
    if result.changed:
        messages.success(request, f"已导入“{stored.name}”。")
    else:
        messages.info(request, f"“{stored.name}”与系统中的名单完全一致，没有任何变更。")
    return redirect("roster:result", token=token)


def _result(request: HttpRequest, token: str) -> dict:
    data = storage.result(request.session, token)
    if data is None:
        raise Http404
    return data


def _created_pending(data: dict):
    return (
        activation.pending_accounts()
        .filter(pk__in=data["created"])
        .select_related("organization")
        .order_by("pk")
    )


@login_required
@never_cache
@require_GET
def result(request: HttpRequest, token: str) -> HttpResponse:
    """After apply: what changed, and the new accounts with their one-time activation links."""
    require_roles(request.user, ADMIN)
    data = _result(request, token)
    users = list(_created_pending(data)[:RESULT_SHOWN])
    context = {
        "token": token,
        "data": data,
        "lines": activation.activation_lines(users, request.build_absolute_uri),
        "more": max(0, len(data["created"]) - RESULT_SHOWN),
        "expires": activation.expires_at(),
    }
    return render(request, "roster/result.html", context)


@login_required
@never_cache
@require_GET
def result_accounts(request: HttpRequest, token: str) -> HttpResponse:
    require_roles(request.user, ADMIN)
    data = _result(request, token)
    lines = activation.activation_lines(_created_pending(data), request.build_absolute_uri)
    _audit_links(request, lines, "导出本次导入新建账号的激活链接")
    return _xlsx(activation.activation_workbook(lines), "审核人员账号激活清单.xlsx")


def _audit_links(request: HttpRequest, lines, reason: str) -> None:
    audit.record(
        action=AuditEntry.Action.EXPORT,
        actor=request.user,
        object_type="roster_activation",
        object_id=str(len(lines)),
        reason=reason,
        data={"usernames": [line.username for line in lines]},
        ip=audit.client_ip(request),
    )


@login_required
@never_cache
@require_GET
def pending(request: HttpRequest) -> HttpResponse:
    """Accounts waiting for activation, with fresh links (the old ones may have expired)."""
    require_roles(request.user, ADMIN)
    page = keyset_page(selectors.all_pending(), request, key="id", descending=True)
    context = {
        "page": page,
        "lines": activation.activation_lines(page.rows, request.build_absolute_uri),
        "expires": activation.expires_at(),
    }
    return render(request, "roster/pending.html", context)


@login_required
@never_cache
@require_GET
def pending_export(request: HttpRequest) -> HttpResponse:
    require_roles(request.user, ADMIN)
    lines = activation.activation_lines(
        selectors.all_pending().order_by("organization__division_id", "username"), request.build_absolute_uri
    )
    _audit_links(request, lines, "导出全部待激活账号的激活链接")
    return _xlsx(activation.activation_workbook(lines), "待激活审核人员账号.xlsx")


# --- exports and the prefecture page -----------------------------------------------------------


def _export(
    request: HttpRequest, *, key: str | None, label: str, full_id: bool, per_prefecture: bool, why: str = ""
):
    groups = selectors.summary_groups(key=key, full_id=full_id)
    content = summary_workbook(groups, one_sheet_per_prefecture=per_prefecture)
    data = {
        "full_id_numbers": full_id,
        "per_prefecture": per_prefecture,
        "lines": sum(len(people) for _label, people in groups),
    }
    if full_id:
        data["reason"] = why
    audit.record(
        action=AuditEntry.Action.EXPORT,
        actor=request.user,
        object_type="roster",
        object_id=key or "all",
        reason=f"导出{label}审核人员汇总表"
        + (f"（含完整身份证号码，事由：{why}）" if full_id else "（身份证号码已脱敏）"),
        data=data,
        ip=audit.client_ip(request),
    )
    suffix = "（含完整身份证号码）" if full_id else ""
    return _xlsx(content, f"工程项目数据审核人员及联络员汇总表（{label}）{suffix}.xlsx")


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def export(request: HttpRequest) -> HttpResponse:
    """Province admin: the province-wide summary, a sheet per prefecture or one sheet.

    A GET link downloads it masked; full ID numbers only come from the form, POSTed with a reason.
    """
    require_roles(request.user, ADMIN)
    data = request.POST.copy() if request.method == "POST" else request.GET.copy()
    if request.method != "POST":
        data.pop("full_id", None)
    if "layout" not in data:
        return render(request, "roster/export.html", {"form": ExportForm()})
    form = ExportForm(data)
    if not form.is_valid():
        return render(request, "roster/export.html", {"form": form}, status=400)
    return _export(
        request,
        key=None,
        label="全省",
        full_id=form.cleaned_data["full_id"],
        per_prefecture=form.cleaned_data["layout"] == "per_prefecture",
        why=form.cleaned_data["reason"],
    )


def _roster_for_user(user: User, key: str) -> selectors.Roster:
    """A province admin sees every roster; a liaison (州（市）联络员) only their own."""
    if not user.has_role(Role.PROVINCE_ADMIN) and (
        not user.has_role(Role.REVIEWER) or key not in selectors.liaison_keys(user)
    ):
        raise PermissionDenied("只有系统管理员和本州（市）的联络员可以查看该名单。")
    roster = selectors.roster_for_key(key)
    if roster is None:
        raise Http404
    return roster


def _reveal_reason(request: HttpRequest) -> tuple[RevealForm | None, str]:
    """(form, reason): a POST asks for full ID numbers; only a province admin may, with a reason."""
    if request.method != "POST":
        return None, ""
    if not request.user.has_role(Role.PROVINCE_ADMIN):
        raise PermissionDenied("只有系统管理员可以查看完整身份证号码。")
    form = RevealForm(request.POST)
    return form, form.cleaned_data["reason"] if form.is_valid() else ""


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def prefecture(request: HttpRequest, key: str) -> HttpResponse:
    """One prefecture's roster, ID numbers masked. A province admin may POST a reason to see them in
    full; each time is audited with the reason."""
    roster = _roster_for_user(request.user, key)
    is_admin = request.user.has_role(Role.PROVINCE_ADMIN)
    form, why = _reveal_reason(request)
    full_id = bool(why)
    page = keyset_page(selectors.roster_lines(key), request, key=ROSTER_KEY, size=100)
    if full_id:
        audit.record(
            action=AuditEntry.Action.EXPORT,
            actor=request.user,
            object_type="roster",
            object_id=key,
            reason=f"页面显示{roster.label}审核人员的完整身份证号码，事由：{why}",
            data={"full_id_numbers": True, "lines": len(page.rows), "reason": why},
            ip=audit.client_ip(request),
        )
    context = {
        "roster": roster,
        "page": page,
        "lines": [selectors.display_line(line, full_id=full_id) for line in page.rows],
        "is_admin": is_admin,
        "full_id": full_id,
        "reveal_form": form if form is not None else RevealForm() if is_admin else None,
    }
    return render(request, "roster/prefecture.html", context, status=400 if form and not why else 200)


@login_required
@never_cache
@require_http_methods(["GET", "POST"])
def prefecture_export(request: HttpRequest, key: str) -> HttpResponse:
    roster = _roster_for_user(request.user, key)
    form, why = _reveal_reason(request)
    if form is not None and not why:
        messages.error(request, "导出完整身份证号码须填写事由（至少4个字）。")
        return redirect("roster:prefecture", key=key)
    return _export(request, key=key, label=roster.label, full_id=bool(why), per_prefecture=True, why=why)


@login_required
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """A liaison's way in: their prefecture's roster."""
    if request.user.has_role(Role.PROVINCE_ADMIN):
        return redirect("roster:index")
    keys = selectors.liaison_keys(request.user) if request.user.has_role(Role.REVIEWER) else []
    if not keys:
        raise PermissionDenied("只有州（市）联络员可以查看本州（市）的审核人员名单。")
    return redirect("roster:prefecture", key=keys[0])


# --- activation ------------------------------------------------------------------------------


class ActivateView(auth_views.PasswordResetConfirmView):
    """The one-time link: the person sets their first password, then logs in."""

    template_name = "roster/activate.html"
    form_class = FirstPasswordForm
    token_generator = activation.activation_token
    reset_url_token = "set-password"  # noqa: S105 (a URL segment, not a password)
    success_url = reverse_lazy("core:login")
    post_reset_login = False

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Only an account that has never had a password can be activated.
        return user if user is not None and activation.is_pending(user) else None

    def form_valid(self, form):
        user = form.user
        with transaction.atomic():
            response = super().form_valid(form)
            # The person now performs their posts: steps that waited for nobody lose the flag.
            routing.refresh_person(user)
        audit.record(
            action=AuditEntry.Action.PASSWORD,
            actor=user,
            obj=user,
            reason="通过激活链接设置初始密码",
            ip=audit.client_ip(self.request),
        )
        messages.success(self.request, f"账号 {user.username} 已激活，请用新密码登录。")
        return response


activate = ActivateView.as_view()
