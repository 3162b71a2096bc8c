"""The reviewer's pages: inbox (待办), done (已办), the review page with its decision, bulk approval, exports.

Thin views: roles by require_roles (403), records through projects.access (404), decisions through
review.services (PermissionDenied → 403, Conflict → 409, ValidationError → 400). Templates get plain data.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Max, Q
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import presenters, snapshots, workflow
from projects.models import (
    Origin,
    RecordKind,
    ReviewableRecord,
    Revocation,
    Round,
    State,
)
from projects.selectors import revocations_of_record
from review import exports, inbox_rows, jurisdiction, selectors, services
from review.access import get_record_for_user
from review.forms import (
    BULK_MAX,
    BulkApproveForm,
    DecisionForm,
    DoneFilterForm,
    LevelDecisionForm,
    LevelRequestForm,
    RevokeForm,
    TaskFilterForm,
)
from review.models import LevelRequest, Task
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Role
from yunjian.core.pagination import keyset_page, sort_for, sorted_page
from yunjian.core.permissions import require_roles

REVIEW_ROLES = {Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION}
INBOX_KEY = ("submitted_at", "id")  # the default order: what "通过并审核下一条" opens next
PAGE_SIZE = 50


# --- helpers -------------------------------------------------------------------------------------


def _query(params: QueryDict, **changes) -> str:
    """The current list query with some parameters changed (None removes one); never the cursor."""
    query = params.copy()
    query.pop("after", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value not in (None, ""):
            query[key] = value
    return query.urlencode()


def _kind_tabs(params: QueryDict, current: str, counts: dict[str, int], total: int, capped: bool) -> list:
    def label(n: int) -> str:
        return f"{n}+" if capped else str(n)

    tabs = [
        {"label": "全部", "count": label(total), "query": _query(params, kind=None), "active": not current}
    ]
    for kind, name in RecordKind.choices:
        if counts.get(kind) or kind == current:
            tabs.append(
                {
                    "label": name,
                    "count": label(counts.get(kind, 0)),
                    "query": _query(params, kind=kind),
                    "active": kind == current,
                    "kind": kind,
                }
            )
    return tabs


def _mark_overdue(rows: list[Task]) -> None:
    now = timezone.now()
    for task in rows:
        late = task.status == Task.Status.OPEN and task.due_at < now
        task.overdue_days = ((now - task.due_at).days + 1) if late else 0


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


def _filters_for_audit(filters: selectors.InboxFilters) -> dict:
    data = {
        "kind": filters.kind,
        "division": filters.division.code if filters.division else "",
        "org": filters.org,
        "q": filters.q,
        "overdue": filters.overdue,
        "outcome": filters.outcome,
    }
    for name in ("submitted_from", "submitted_to", "decided_from", "decided_to"):
        value = getattr(filters, name)
        data[name] = value.isoformat() if value else ""
    return {k: v for k, v in data.items() if v not in ("", False)}


def _safe_next(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return fallback


def _url_exists(name: str) -> bool:
    try:
        reverse(name, args=[0])
    except NoReverseMatch:
        return False
    return True


# --- 待办 ----------------------------------------------------------------------------------------


def _filtered(request, form_class):
    """Check the role, then read the list's filters: (roster lines, bound form, cleaned filters)."""
    user = request.user
    require_roles(user, REVIEW_ROLES)
    assignments = selectors.assignments_of(user)
    form = form_class(request.GET, divisions=selectors.filter_divisions(user, assignments))
    return assignments, form, form.filters()


def _audit_export(request, object_type: str, reason: str, filters, result) -> None:
    audit.record(
        action=AuditEntry.Action.EXPORT,
        actor=request.user,
        object_type=object_type,
        reason=reason,
        data={"filters": _filters_for_audit(filters), "rows": result.rows, "truncated": result.truncated},
        ip=audit.client_ip(request),
    )


@require_GET
@login_required
def inbox(request: HttpRequest) -> HttpResponse:
    """The records waiting for this user's step, stage and jurisdiction: oldest first, or in the order
    of the column the reviewer chose (selectors.INBOX_SORTING), across pages.

    Queries, whatever the number of rows: session, user, roster lines, divisions of the filter,
    per-type counts (bounded), the page itself (keyset; owner names and lock versions inline).
    """
    user = request.user
    assignments, form, filters = _filtered(request, TaskFilterForm)
    pending = selectors.filter_tasks(selectors.inbox_for(user, assignments), filters, with_kind=False)
    counts, total, capped = selectors.kind_counts(pending)
    rows = selectors.inbox_rows(user, filters, assignments)
    page, order = sorted_page(rows, request, selectors.INBOX_SORTING, size=PAGE_SIZE)
    _mark_overdue(page.rows)
    here = request.get_full_path()
    context = {
        "form": form,
        "filters": filters,
        "page": page,
        "rows_html": inbox_rows.render_rows(page.rows, here=here, kind_filter=filters.kind),
        "order": order,
        "tabs": _kind_tabs(request.GET, filters.kind, counts, total, capped),
        "total": f"{total}+" if capped else total,
        "has_assignments": bool(assignments) or not user.has_role(Role.REVIEWER),
        "export_query": _query(request.GET),
        "here": here,
        "bulk_max": BULK_MAX,
    }
    return render(request, "review/inbox.html", context)


@require_GET
@login_required
def inbox_export(request: HttpRequest) -> HttpResponse:
    """The filtered inbox as .xlsx (at most exports.EXPORT_LIMIT rows); the export is audited."""
    user = request.user
    assignments, _form, filters = _filtered(request, TaskFilterForm)
    queryset = selectors.filter_tasks(selectors.inbox_for(user, assignments), filters)
    ordering = sort_for(request, selectors.INBOX_SORTING).ordering  # the order the list was shown in
    result = exports.export_tasks(queryset, done=False, ordering=ordering)
    _audit_export(request, "review_inbox", "导出待办审核列表", filters, result)
    return _xlsx_response(result.content, f"待办审核_{timezone.localdate():%Y%m%d}.xlsx")


# --- 已办 ----------------------------------------------------------------------------------------


@require_GET
@login_required
def done(request: HttpRequest) -> HttpResponse:
    """What this user decided, with the outcome and reason: newest first, or by the chosen column."""
    user = request.user
    _assignments, form, filters = _filtered(request, DoneFilterForm)
    page, order = sorted_page(
        selectors.done_rows(user, filters), request, selectors.DONE_SORTING, size=PAGE_SIZE
    )
    context = {"form": form, "page": page, "order": order, "export_query": _query(request.GET)}
    return render(request, "review/done.html", context)


@require_GET
@login_required
def done_export(request: HttpRequest) -> HttpResponse:
    user = request.user
    _assignments, _form, filters = _filtered(request, DoneFilterForm)
    result = exports.export_tasks(
        selectors.filter_tasks(selectors.done_by(user), filters),
        done=True,
        ordering=sort_for(request, selectors.DONE_SORTING).ordering,
    )
    _audit_export(request, "review_done", "导出已办审核列表", filters, result)
    return _xlsx_response(result.content, f"已办审核_{timezone.localdate():%Y%m%d}.xlsx")


# --- the review page -----------------------------------------------------------------------------


def _chain(record: ReviewableRecord) -> list[dict]:
    steps = workflow.chain_for(record)
    position = workflow.step_position(record)
    rows = []
    for index, step in enumerate(steps):
        if record.state == State.APPROVED or (record.state == State.IN_REVIEW and index < position):
            status = "done"
        elif record.state == State.IN_REVIEW and index == position:
            status = "current"
        else:
            status = "pending"
        rows.append({"number": index + 1, "label": step.label, "status": status})
    return rows


def _decision_labels(record: ReviewableRecord) -> dict:
    """Button texts that say which step this is (two-step drawing reviews, addition requests)."""
    step = workflow.step_of(record) or workflow.chain_for(record)[0]
    approve, send_back = step.buttons
    return {"approve": approve, "return": send_back}


def _round_diff(record: ReviewableRecord) -> dict | None:
    """From the second round on: what changed against the previous submission."""
    if record.revision < 2:
        return None
    rounds = {
        r.revision: r
        for r in Round.objects.filter(
            kind=record.KIND, record_id=record.pk, revision__in=[record.revision - 1, record.revision]
        )
    }
    old, new = rounds.get(record.revision - 1), rounds.get(record.revision)
    if old is None or new is None:
        return None
    files = presenters.attachments(record)
    return {
        "previous": record.revision - 1,
        "current": record.revision,
        "changes": snapshots.diff(old.data, new.data, snapshots.field_labels(record)),
        # Scans are kept per round: what this round added is the attachments' change.
        "added_files": [a for a in files if a.revision == record.revision],
        "earlier_files": [a for a in files if a.revision < record.revision],
    }


def _last_return(entries) -> object | None:
    returns = [e for e in entries if e.action == AuditEntry.Action.RETURN]
    return returns[-1] if returns else None


def _record_context(request: HttpRequest, record: ReviewableRecord, form: DecisionForm | None) -> dict:
    user = request.user
    can_decide = jurisdiction.can_decide(user, record)
    if can_decide and form is None:
        form = DecisionForm(initial={"lock_version": record.lock_version}, record=record)
    entries = presenters.timeline(record)
    project = record.project if getattr(record, "project_id", None) else None
    task = Task.objects.filter(kind=record.KIND, record_id=record.pk, status=Task.Status.OPEN).first()
    if task is not None:
        _mark_overdue([task])
    related = record.related_records()
    return {
        "record": record,
        "addition": record.review_aids() if record.state == State.IN_REVIEW else None,
        "kind_label": RecordKind(record.KIND).label,
        "project": project,
        "fields": presenters.record_fields(record),
        "project_fields": presenters.project_fields(record),
        "buildings": list(project.buildings.all())
        if project and workflow.kind_of(record).carries_project
        else [],
        "attachments": presenters.attachments(record),
        "attachment_links": _url_exists("projects:attachment-download"),
        "timeline": entries,
        "last_return": _last_return(entries),
        "linked": selectors.linked_records(record),
        "linked_reviews": related.get("reviews", ()),
        "linked_permits": related.get("permits", ()),
        "diff": _round_diff(record),
        "chain": _chain(record),
        "step_number": workflow.step_position(record) + 1,
        "task": task,
        "can_decide": can_decide,
        "form": form if can_decide else None,
        "can_revoke": jurisdiction.can_revoke(user, record),
        "revoke_form": RevokeForm(initial={"lock_version": record.lock_version}),
        "revocations": revocations_of_record(record.KIND, record.pk),
        "labels": _decision_labels(record),
        "next": _safe_next(request, reverse("review:inbox")),
    }


@require_http_methods(["GET", "POST"])
@login_required
def record_page(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Everything about one record, and the decision on its current step.

    POST decides with the lock_version the page showed: Conflict → the page again, status 409,
    nothing changed; a return without reason → 400; a user who may not decide → 403.
    """
    user = request.user
    require_roles(user, REVIEW_ROLES)
    record = get_record_for_user(user, kind, pk)
    if request.method != "POST":
        return render(request, "review/record.html", _record_context(request, record, None))

    form = DecisionForm(request.POST, record=record)
    if not form.is_valid():
        context = _record_context(request, record, form)
        context["form"] = form
        return render(request, "review/record.html", context, status=400)
    try:
        decided = services.record_decide(
            actor=user,
            kind=record.KIND,
            record_id=record.pk,
            approve=form.approve,
            lock_version=form.cleaned_data["lock_version"],
            reason=form.reason,
            fields=form.cleaned_data.get("fields") or [],
            ip=audit.client_ip(request),
        )
    except services.Conflict as exc:
        fresh = get_record_for_user(user, kind, pk)
        data = request.POST.copy()
        data["lock_version"] = str(fresh.lock_version)
        context = _record_context(request, fresh, DecisionForm(data, record=fresh))
        context["conflict"] = exc.message
        return render(request, "review/record.html", context, status=409)
    except ValidationError as exc:
        for field, errors in (
            exc.message_dict.items() if hasattr(exc, "error_dict") else [(None, exc.messages)]
        ):
            form.add_error("reason_text" if field == "reason" else None, errors)
        context = _record_context(request, record, form)
        context["form"] = form
        return render(request, "review/record.html", context, status=400)
    messages.success(request, _decided_message(decided, form.approve))
    if form.then_next:
        following = (
            selectors.inbox_for(user)
            .exclude(kind=decided.KIND, record_id=decided.pk)
            .order_by(*INBOX_KEY)
            .values_list("kind", "record_id")
            .first()
        )
        if following is None:
            messages.info(request, "待办审核已全部办理完毕。")
        else:
            url = reverse("review:record", args=following)
            return redirect(f"{url}?{urlencode({'next': _safe_next(request, reverse('review:inbox'))})}")
    return redirect(_safe_next(request, reverse("review:inbox")))


def _decided_message(record: ReviewableRecord, approved: bool) -> str:
    name = f"{RecordKind(record.KIND).label}“{record.number or record.pk}”"
    if not approved:
        return f"已退回{name}，录入单位将看到退回原因。"
    if record.state == State.IN_REVIEW:
        step = workflow.current_step(record)
        return f"已确认{name}，已转{step.label}。"
    created = getattr(record, "created_review", None)
    if created is not None:
        return f"已批准{name}，已为{record.owner_org.name}生成施工图审查信息“{created.censor_num}”。"
    return f"{name}已审核认定。"


# --- 批量审核 -------------------------------------------------------------------------------------


BULK_RESULT_KEY = "review_bulk_result"


@require_POST
@login_required
def bulk_approve(request: HttpRequest) -> HttpResponse:
    """Approve the ticked records, each in its own transaction; list which succeeded and which failed, why."""
    user = request.user
    require_roles(user, REVIEW_ROLES)
    form = BulkApproveForm(request.POST)
    back = _safe_next(request, reverse("review:inbox"))
    if not form.is_valid():
        for error in form.errors.get("items", []):
            messages.error(request, error)
        return redirect(back)
    items = form.cleaned_data["items"]
    if request.POST.get("confirm") != "yes":
        # Approval cannot be undone: list what was ticked and ask once more (the page's script asks
        # in a dialog instead and sends confirm=yes).
        titles = _task_titles([(kind, record_id) for kind, record_id, _ in items])
        labels = dict(RecordKind.choices)
        rows = [
            {
                "kind_label": str(labels[kind]),
                "title": titles.get((kind, rid), ("", ""))[0],
                "number": titles.get((kind, rid), ("", ""))[1],
            }
            for kind, rid, _ in items
        ]
        return render(
            request,
            "review/bulk_confirm.html",
            {"rows": rows, "values": request.POST.getlist("items"), "back": back},
        )
    by_kind: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for kind, record_id, lock_version in items:
        by_kind[kind].append((record_id, lock_version))
    outcome = {}
    ip = audit.client_ip(request)
    for kind, group in by_kind.items():
        for result in services.bulk_approve(actor=user, kind=kind, items=group, ip=ip):
            outcome[(kind, result.record_id)] = result
    # Titles and links only for what the reviewer may see (services.bulk_approve decides).
    visible = [(kind, record_id) for kind, record_id, _ in items if outcome[(kind, record_id)].visible]
    titles = _task_titles(visible)
    labels = dict(RecordKind.choices)
    rows = []
    for kind, record_id, _ in items:
        result = outcome[(kind, record_id)]
        title, number = titles.get((kind, record_id), ("", "")) if result.visible else ("", "")
        rows.append(
            {
                "kind": kind,
                "kind_label": str(labels[kind]),
                "record_id": record_id,
                "title": title,
                "number": number,
                "ok": result.ok,
                "message": result.message,
                "visible": result.visible,
            }
        )
    # Post/redirect/get: refreshing the result page shows it again instead of deciding again.
    request.session[BULK_RESULT_KEY] = {"rows": rows, "back": back}
    return redirect("review:bulk-result")


@require_GET
@login_required
def bulk_result(request: HttpRequest) -> HttpResponse:
    """The outcome of the user's last bulk approval, kept in their session."""
    require_roles(request.user, REVIEW_ROLES)
    result = request.session.get(BULK_RESULT_KEY)
    if not result:
        return redirect("review:inbox")
    rows = result["rows"]
    context = {
        "rows": rows,
        "succeeded": sum(1 for r in rows if r["ok"]),
        "failed": sum(1 for r in rows if not r["ok"]),
        "back": result["back"],
    }
    return render(request, "review/bulk_result.html", context)


def _task_titles(keys: list[tuple[str, int]]) -> dict[tuple[str, int], tuple[str, str]]:
    """Project name and number of each record, from its latest task (one query)."""
    if not keys:
        return {}
    q = Q(pk__in=[])
    for kind, record_id in keys:
        q |= Q(kind=kind, record_id=record_id)
    titles: dict[tuple[str, int], tuple[str, str]] = {}
    for kind, record_id, title, number in (
        Task.objects.filter(q).order_by("-id").values_list("kind", "record_id", "title", "number")
    ):
        titles.setdefault((kind, record_id), (title, number))
    return titles


@require_POST
@login_required
def record_revoke(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """撤销认定 of an approved record (review.services.record_revoke). A reviewer who may not see the
    record gets 404, one who sees it but may not revoke it 403; a missing reason or evidence, or a file
    that is no scan, the page again with the error (400); a record changed since the page: 409."""
    user = request.user
    require_roles(user, REVIEW_ROLES)
    record = get_record_for_user(user, kind, pk)
    form = RevokeForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            services.record_revoke(
                actor=user,
                kind=record.KIND,
                record_id=record.pk,
                reason=form.cleaned_data["reason"],
                evidence=form.cleaned_data["evidence"],
                lock_version=form.cleaned_data["lock_version"],
                ip=audit.client_ip(request),
            )
        except services.Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已撤销该记录的审核认定，录入单位和省一体化平台将收到撤销信息。")
            return redirect("review:record", kind=record.KIND, pk=record.pk)
    record = get_record_for_user(user, kind, pk)
    context = _record_context(request, record, None)
    context["revoke_form"] = form
    return render(request, "review/record.html", context, status=status)


@require_GET
@login_required
def revocations(request: HttpRequest) -> HttpResponse:
    """The province's list of revocations (撤销认定), per enterprise: how many each has, and every
    revocation newest first (or one enterprise's with ?org=<id>); the basis of credit penalties, which
    are outside this system. Province reviewers and the design division."""
    user = request.user
    if not (
        jurisdiction.is_province_reviewer(user) or (user.has_role(Role.DESIGN_DIVISION) and user.is_active)
    ):
        raise PermissionDenied
    org_id = request.GET.get("org", "")
    org_id = int(org_id) if org_id.isdigit() and len(org_id) < 12 else None
    rows = Revocation.objects.select_related("owner_org", "revoked_org", "project")
    if org_id is not None:
        rows = rows.filter(owner_org_id=org_id)
    page = keyset_page(rows, request, key="id", descending=True)
    per_org = list(
        Revocation.objects.values("owner_org_id", "owner_org__name", "owner_org__credit_code")
        .annotate(n=Count("id"), last=Max("revoked_at"))
        .order_by("-n", "owner_org__name")[:PER_ORG_LIMIT]
    )
    return render(
        request,
        "review/revocations.html",
        {"page": page, "per_org": per_org, "org_id": org_id, "per_org_limit": PER_ORG_LIMIT},
    )


PER_ORG_LIMIT = 50


# --- 提级 (issue 18) --------------------------------------------------------------------------------

RAISABLE_LIMIT = 200


def _raisable(org_id: int, kind: str):
    """The enterprise's records of `kind` that may be raised (approved here, at C or B), newest first."""
    model = workflow.KINDS[kind].model
    return (
        model.objects.filter(
            owner_org_id=org_id, state=State.APPROVED, data_level__in=list(workflow.RAISE_TO)
        )
        .exclude(origin=Origin.PLATFORM)
        .select_related("project")
        .order_by("-id")[:RAISABLE_LIMIT]
    )


@require_http_methods(["GET", "POST"])
@login_required
def level_request_new(request: HttpRequest, kind: str) -> HttpResponse:
    """An enterprise asks for a higher 数据等级 for approved records of one kind (review.services
    .level_request_submit); the record page's link names the kind and a record to tick (?record=)."""
    user = request.user
    require_roles(user, {Role.ENTERPRISE})
    params = request.POST if request.method == "POST" else request.GET
    if kind not in workflow.PROJECT_KINDS or user.organization_id is None:
        raise Http404
    rows = list(_raisable(user.organization_id, kind))
    choices = [
        (r.pk, f"{r.number or '（无编号）'} · {r.project.name if r.project_id else ''} · {r.data_level}级")
        for r in rows
    ]
    if request.method == "POST":
        form = LevelRequestForm(request.POST, choices=choices)
        if form.is_valid():
            try:
                services.level_request_submit(
                    actor=user,
                    kind=kind,
                    record_ids=form.cleaned_data["records"],
                    purpose=form.cleaned_data["purpose"],
                    ip=audit.client_ip(request),
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, "提级申请已提交，由上级住房城乡建设部门核实。")
                return redirect("review:level-mine")
        status = 400
    else:
        chosen = params.get("record", "")
        form = LevelRequestForm(
            initial={"records": [int(chosen)] if chosen.isdigit() and len(chosen) < 12 else []},
            choices=choices,
        )
        status = 200
    context = {"form": form, "kind": kind, "kind_label": RecordKind(kind).label, "rows": rows}
    return render(request, "review/level_new.html", context, status=status)


@require_GET
@login_required
def level_requests_mine(request: HttpRequest) -> HttpResponse:
    """The enterprise's level requests, newest first, with their outcome."""
    user = request.user
    require_roles(user, {Role.ENTERPRISE})
    rows = (
        LevelRequest.objects.filter(owner_org_id=user.organization_id)
        .select_related("decided_by__organization")
        .prefetch_related("items")
    )
    page = keyset_page(rows, request, key="id", descending=True)
    return render(request, "review/level_mine.html", {"page": page})


@require_GET
@login_required
def level_requests(request: HttpRequest) -> HttpResponse:
    """The level requests filed with the reviewer's roster lines (review.jurisdiction.level_requests_q):
    open ones by default, or all with ?status=all."""
    user = request.user
    require_roles(user, {Role.REVIEWER})
    rows = (
        LevelRequest.objects.filter(jurisdiction.level_requests_q(jurisdiction.assignments_of(user)))
        .exclude(owner_org_id=user.organization_id)
        .select_related("owner_org")
        .prefetch_related("items")
    )
    show_all = request.GET.get("status") == "all"
    if not show_all:
        rows = rows.filter(status=LevelRequest.Status.SUBMITTED)
    page = keyset_page(rows, request, key="id", descending=True)
    return render(request, "review/level_requests.html", {"page": page, "show_all": show_all})


def _level_context(request: HttpRequest, level_request: LevelRequest, form) -> dict:
    model = workflow.KINDS[level_request.kind].model
    ids = [item.record_id for item in level_request.items.all()]
    return {
        "level_request": level_request,
        "records": list(model.objects.filter(pk__in=ids).select_related("project").order_by("pk")),
        "form": form,
        "kind_label": RecordKind(level_request.kind).label,
    }


@require_http_methods(["GET", "POST"])
@login_required
def level_request_page(request: HttpRequest, pk: int) -> HttpResponse:
    """One level request, and its verification by the authority it is filed with (404 for anyone else
    but the reviewer who decided it)."""
    user = request.user
    require_roles(user, {Role.REVIEWER})
    level_request = LevelRequest.objects.select_related("owner_org", "decided_by").filter(pk=pk).first()
    if level_request is None or not (
        jurisdiction.performs_level(user, level_request) or level_request.decided_by_id == user.pk
    ):
        raise Http404
    open_ = level_request.status == LevelRequest.Status.SUBMITTED and jurisdiction.performs_level(
        user, level_request
    )
    if request.method != "POST":
        form = LevelDecisionForm(initial={"lock_version": level_request.lock_version}) if open_ else None
        return render(request, "review/level_request.html", _level_context(request, level_request, form))
    form = LevelDecisionForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.level_request_decide(
                actor=user,
                request_id=level_request.pk,
                raise_level=data["decision"] == "raise",
                checklist=data["checklist"],
                onsite_date=data["onsite_date"],
                onsite_findings=data["onsite_findings"],
                files=data["files"],
                reason=data["reason"],
                lock_version=data["lock_version"],
                ip=audit.client_ip(request),
            )
        except services.Conflict as exc:
            form.add_error(None, exc.message)
            status = 409
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, "已办理该提级申请。")
            return redirect("review:level-request", pk=level_request.pk)
    level_request = LevelRequest.objects.select_related("owner_org", "decided_by").get(pk=pk)
    return render(
        request, "review/level_request.html", _level_context(request, level_request, form), status=status
    )
