"""Pages of issue 16 §2 (thin; review.routing and review.services change things): the records nobody
reviews (无人审核) and overdue steps of a liaison's prefecture or of the province, a reviewer's open steps
with their reassignment (转交), deactivating a reviewer, and the enterprise's withdrawal (撤回)."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from projects import workflow
from projects.access import load_record
from projects.services import Conflict
from review import routing, services
from review.models import ReviewerAssignment, Task
from yunjian.core import audit
from yunjian.core.models import Division, Role, User
from yunjian.core.pagination import keyset_page

SHOW = {"unroutable": "无人审核", "overdue": "已超期"}


def _division_names(rows) -> dict[str, str]:
    codes = {row.division_code for row in rows if row.division_code}
    return dict(Division.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}


@login_required
@require_http_methods(["GET"])
def stalled(request: HttpRequest) -> HttpResponse:
    """无人审核 (default) or 已超期 steps, of the province (administrators) or of a liaison's rosters."""
    user = request.user
    scope = routing.oversight_q(user)
    if scope is None:
        raise PermissionDenied("只有省级管理员和州（市）联络员可以查看无人审核和超期的记录。")
    show = request.GET.get("show", "unroutable")
    show = show if show in SHOW else "unroutable"
    if show == "unroutable":
        rows = routing.unroutable_tasks(user)
    else:
        rows = Task.objects.filter(scope, status=Task.Status.OPEN, due_at__lt=timezone.now())
    rows = rows.select_related("owner_org", "assignee")
    page = keyset_page(rows, request, key="id")
    names = _division_names(page.rows)
    now = timezone.now()
    lines = [
        {
            "task": task,
            "place": names.get(task.division_code, task.division_code) + (" · 滇中新区" if task.zone else ""),
            "overdue": task.due_at < now,
        }
        for task in page.rows
    ]
    return render(
        request,
        "review/stalled.html",
        {
            "page": page,
            "lines": lines,
            "show": show,
            "shows": SHOW,
            "keys": routing.liaison_keys(user),
            "is_admin": user.has_role(Role.PROVINCE_ADMIN),
        },
    )


def _person(pk: int) -> User:
    person = User.objects.select_related("organization").filter(pk=pk).first()
    if person is None:
        raise Http404
    return person


class MoveForm(forms.Form):
    to_user = forms.TypedChoiceField(label="接手的审核人员", coerce=int, choices=())
    reason = forms.CharField(label="停用原因", max_length=200, required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = [("", "请选择")] + choices
        self.fields["to_user"].error_messages["required"] = "请选择接手的审核人员。"
        self.fields["to_user"].error_messages["invalid_choice"] = "请从列表中选择接手的审核人员。"


def _choices(person: User) -> list[tuple[int, str]]:
    return [
        (
            u.pk,
            f"{u.full_name or u.username}（{u.username}，{u.organization.name if u.organization_id else ''}）",
        )
        for u in routing.candidates(person)[:200]
    ]


def _context(request, person: User, form: MoveForm) -> dict:
    scope = routing.oversight_q(request.user)
    tasks = routing.tasks_of(person).filter(scope)
    page = keyset_page(tasks.select_related("owner_org", "assignee"), request, key="id")
    lines = ReviewerAssignment.objects.filter(user=person).select_related("division", "zone").order_by("id")
    return {
        "person": person,
        "page": page,
        "assignments": lines,
        "form": form,
        "can_deactivate": person.is_active and routing.can_deactivate(request.user, person),
    }


@login_required
@require_http_methods(["GET", "POST"])
def reviewer_tasks(request: HttpRequest, pk: int) -> HttpResponse:
    """A reviewer's open steps (in the actor's scope) and the form that reassigns them (转交)."""
    person = _person(pk)
    if not routing.can_manage(request.user, person):
        raise PermissionDenied("只有省级管理员和该审核人员所在州（市）的联络员可以转交其审核任务。")
    form = MoveForm(request.POST or None, choices=_choices(person))
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moved = routing.reassign_tasks(
                    actor=request.user,
                    from_user_id=person.pk,
                    to_user_id=form.cleaned_data["to_user"],
                    ip=audit.client_ip(request),
                )
            except ValidationError as exc:
                for message in exc.message_dict.get("to_user", exc.messages):
                    form.add_error("to_user", message)
            else:
                text = f"已将 {len(moved.moved)} 件待审核任务转交。"
                if moved.left:
                    text += f"另有 {len(moved.left)} 件不在接手人员的辖区或审核环节内，仍由原审核人员办理。"
                messages.success(request, text)
                return redirect("review:reviewer-tasks", person.pk)
        status = 400
    return render(request, "review/reviewer_tasks.html", _context(request, person, form), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def reviewer_deactivate(request: HttpRequest, pk: int) -> HttpResponse:
    """停用审核人员: says where the person's open steps go, refuses to leave any with nobody."""
    person = _person(pk)
    if not routing.can_deactivate(request.user, person) or not person.has_role(Role.REVIEWER):
        raise PermissionDenied("只有省级管理员或该审核人员所在州（市）的联络员可以停用该账号。")
    form = MoveForm(request.POST or None, choices=_choices(person))
    form.fields["to_user"].required = False
    form.fields["reason"].required = True
    form.fields["reason"].error_messages["required"] = "请填写停用原因（如：调离岗位）。"
    own = routing.tasks_of(person)
    stranded = len(routing.uncovered_without(own, person.pk)) + own.filter(assignee=person).count()
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                moved = routing.reviewer_deactivate(
                    actor=request.user,
                    user_id=person.pk,
                    to_user_id=form.cleaned_data["to_user"],
                    reason=form.cleaned_data["reason"],
                    ip=audit.client_ip(request),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    for message in errors:
                        form.add_error(field if field in form.fields else None, message)
            else:
                messages.success(
                    request,
                    f"已停用 {person.full_name or person.username}，{len(moved.moved)} 件待审核任务已转交。",
                )
                return redirect("review:reviewer-tasks", person.pk)
        status = 400
    context = _context(request, person, form) | {"stranded": stranded}
    return render(request, "review/reviewer_deactivate.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def record_withdraw(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """撤回 (the enterer): a confirmation page (GET, or a POST without confirm), then the withdrawal."""
    record = load_record(kind, pk)
    if record is None or record.owner_org_id != request.user.organization_id:
        raise Http404
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        try:
            services.record_withdraw(
                actor=request.user,
                kind=kind,
                record_id=record.pk,
                lock_version=_int(request.POST.get("lock_version")),
                ip=audit.client_ip(request),
            )
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("projects:record", kind, record.pk)
        messages.success(
            request, "已撤回该记录，记录回到草稿状态；修改后可以重新提交审核（本轮提交记录保留在历史中）。"
        )
        return redirect("projects:record", kind, record.pk)
    if not workflow.is_enterer(request.user, record):
        raise PermissionDenied("只有录入单位的填报人员可以撤回该记录。")
    return render(request, "review/withdraw_confirm.html", {"record": record})


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 10 else None
