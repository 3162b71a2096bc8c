"""Enterprise entry pages (历史业绩录入): the workspace, project and record pages, one entry form per
record type, attachments.

Views stay thin: method, auth, fetch through `projects.access`, form, call the service, redirect
with a message. Every state change goes through the services; PermissionDenied from a service
becomes the 403 page with its message, ValidationError the form again with errors (status 400).
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import (
    access,
    attachments,
    corrections,
    forms,
    presenters,
    rules,
    selectors,
    services,
    workflow,
    workspace,
)
from projects.codes import SCOPE_ORG_KIND
from projects.models import (
    DATA_SOURCES,
    Attachment,
    DataLevel,
    EntrySubmission,
    Origin,
    Project,
    RecordKind,
    ReviewableRecord,
    State,
)
from projects.snapshots import display_value, field_labels
from review.access import can_view_record, get_record_for_user
from sync import selectors as sync_selectors
from yunjian.core import audit
from yunjian.core.context_processors import SAVED_FORM_KEY
from yunjian.core.models import Organization
from yunjian.core.pagination import sorted_page
from yunjian.core.validators import normalize_code, prj_num_problem

WORKSPACE_PAGE_SIZE = 20
RECORD_LIST_PAGE_SIZE = 50  # 我的图审信息, 图审信息新增申请


def enterprise_required(view):
    """Signed in, with the enterprise role and an organization; other roles get the 403 page."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not rules.is_enterprise_user(request.user):
            raise PermissionDenied("此页面供企业填报人员使用，您的角色无权访问。")
        return view(request, *args, **kwargs)

    return wrapper


def _ip(request) -> str | None:
    return audit.client_ip(request)


def _org(request) -> Organization:
    return request.user.organization


# --- 我的项目 -----------------------------------------------------------------------------------


@require_GET
@enterprise_required
def workspace_view(request: HttpRequest) -> HttpResponse:
    """Every project where the organization has a role, its records' states and what it still owes."""
    org = _org(request)
    q = selectors.clean_query(request.GET.get("q", ""))
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    kind = request.GET.get("kind", "")
    kind = kind if kind in selectors.PROJECT_RECORD_KINDS else ""
    page, order = sorted_page(
        selectors.workspace_projects(org.pk, q=q, state=state, kind=kind),
        request,
        selectors.WORKSPACE_SORTING,
        size=WORKSPACE_PAGE_SIZE,
    )
    records = selectors.records_of_projects(page.rows)
    roles = selectors.roles_of_org(org.pk, [p.pk for p in page.rows])
    rows = workspace.project_rows(page.rows, records, roles, org.pk)
    unfinished = selectors.open_records_of_org(org.pk) if page.is_first else []
    context = {
        "page": page,
        "order": order,
        "rows": rows,
        "unfinished": [
            {
                "record": r,
                "label": RecordKind(r.KIND).label,
                "url": reverse("projects:record-edit", args=[r.KIND, r.pk]),
                "project": getattr(r, "project", None) if getattr(r, "project_id", None) else None,
            }
            for r in unfinished
        ],
        "q": q,
        "state": state,
        "kind": kind,
        "states": State.choices,
        "kinds": [(k, RecordKind(k).label) for k in selectors.PROJECT_RECORD_KINDS],
        "filtered": bool(q or state or kind),
        "owes": any(row.owed for row in rows),
        **_org_actions(org),
    }
    return render(request, "projects/workspace.html", context)


def _org_actions(org: Organization) -> dict:
    kind = Organization.Kind
    return {
        "is_design": org.has_kind(kind.DESIGN),
        "is_builder": org.has_kind(kind.GENERAL_CONTRACTOR),
        "is_specialty": org.has_kind(kind.SPECIALTY_CONTRACTOR),
        "can_tender": any(org.has_kind(k) for k in SCOPE_ORG_KIND.values()),
    }


@require_GET
@enterprise_required
def project_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A project of the organization: its basic info, buildings, every record, and what is owed."""
    org = _org(request)
    project = access.get_project_for_user(request.user, pk)
    records = selectors.records_of_projects([project])
    roles = selectors.roles_of_org(org.pk, [project.pk])
    row = workspace.project_rows([project], records, roles, org.pk)[0]
    closed = rules.platform_entry_closed(project)
    context = {
        "project": project,
        "row": row,
        "basic": [
            (str(Project._meta.get_field(n).verbose_name), display_value(project, n))
            for n in ("prj_num", "prj_num_provisional", "kind", "origin", *Project.BASIC_INFO_FIELDS)
        ],
        "buildings": list(project.buildings.all()),
        "closed": closed,
        "direct": project.kind == Project.Kind.DIRECT_SPECIALTY,
        "actions": workspace.project_actions(
            project, roles.get(project.pk, set()), records.get(project.pk, []), org, closed
        ),
        "permit_url": workspace.permit_url(project),
        "sync_status": sync_selectors.project_sync_status(project),
    }
    return render(request, "projects/project.html", context)


@require_GET
@enterprise_required
def project_find(request: HttpRequest) -> HttpResponse:
    """Find a project by its exact 项目编号 to join it with the tender and contract of one's own scope."""
    raw = request.GET.get("prj_num", "")
    prj_num = normalize_code(raw)[:30]
    context: dict = {"prj_num": prj_num, "project": None, "problem": "", **_org_actions(_org(request))}
    if prj_num:
        problem = prj_num_problem(prj_num)
        project = (
            None if problem else Project.objects.select_related("county").filter(prj_num=prj_num).first()
        )
        if problem:
            context["problem"] = problem
        elif project is None:
            context["problem"] = f"系统中没有项目编号为 {prj_num} 的项目，请核对编号。"
        elif access.is_party(request.user, project.pk):
            return redirect("projects:project", project.pk)
        elif project.kind == Project.Kind.DIRECT_SPECIALTY:
            context["problem"] = "该项目是建设单位直接发包的专业承包项目，由承包该项目的专业承包单位录入。"
        else:
            context["project"] = project
            context["closed"] = rules.platform_entry_closed(project)
    return render(request, "projects/project_find.html", context, status=400 if context["problem"] else 200)


# --- entry forms, shared ------------------------------------------------------------------------


def _attempt(bundle: forms.EntryBundle, call: Callable[[], ReviewableRecord]) -> ReviewableRecord | None:
    """Call a service; on refusal put its messages on the form and return None (nothing changed)."""
    try:
        return call()
    except ValidationError as exc:
        bundle.add_service_errors(exc)
    except services.Conflict as exc:
        bundle.add_error(exc.message)
    except IntegrityError:
        bundle.add_error("保存失败：填写的编号与系统中已有的记录重复，请核对后重试。")
    return None


def _success_message(request, record: ReviewableRecord, submitted: bool, files: int = 0) -> None:
    label = RecordKind(record.KIND).label
    if files:
        messages.success(
            request,
            f"已随{label}保存 {files} 个附件（第{record.revision if submitted else record.revision + 1}轮）。",
        )
    if submitted and record.state == State.IN_REVIEW:
        step = workflow.current_step(record).label
        messages.success(request, f"{label}已提交，现由“{step}”。审核期间不能修改，结果请在本页查看。")
    elif record.state == State.RETURNED:
        messages.success(request, "已保存修改，尚未重新提交。改完后请点击“重新提交审核”。")
    else:
        messages.success(request, f"{label}已保存为草稿。信息补全后请提交审核。")


def _flagged_labels(record: ReviewableRecord | None) -> list[str]:
    if record is None or not record.return_fields:
        return []
    labels = field_labels(record)
    labels["drawing_reviews"] = "所选施工图审查信息"
    return [labels.get(f, f) for f in record.return_fields]


def _form_token(request) -> uuid.UUID:
    """The entry form's one-time token: the posted one, or a fresh one for a page shown anew."""
    if request.method == "POST":
        try:
            return uuid.UUID(str(request.POST.get("form_token", ""))[:36])
        except ValueError:
            pass
    return uuid.uuid4()


def _already_saved(request, token: uuid.UUID) -> HttpResponse | None:
    """A form posted again (Back, then 提交 once more; a double click): open what it saved, save nothing."""
    done = EntrySubmission.objects.filter(token=token, user=request.user).first()
    if done is None:
        return None
    messages.info(
        request, "这份表单已经保存过（例如返回上一页后再次提交），没有重复保存。以下是已保存的信息。"
    )
    return redirect("projects:record", done.kind, done.record_id)


def _next_entry_url(record: ReviewableRecord) -> str:
    """Where "保存并录入下一条" goes: a new form of the same kind (for the same project where it has one)."""
    if record.KIND == RecordKind.PERMIT:
        return reverse("projects:permit-new")
    form_class = forms.entry_form(record.KIND)
    if form_class.NEEDS_PROJECT and record.project_id:
        return reverse("projects:record-new-in-project", args=[record.project_id, record.KIND])
    return reverse("projects:record-new", args=[record.KIND])


def _entry(
    request,
    *,
    bundle: forms.EntryBundle,
    save: Callable[[bool], ReviewableRecord],
    context: dict,
) -> HttpResponse:
    """Run one entry page: validate, confirm soft warnings, call the service with the scans chosen on
    the page (one transaction), redirect to the record (or to the next new form)."""
    status = 200
    action = request.POST.get("action", "draft") if request.method == "POST" else ""
    token = _form_token(request)
    if request.method == "POST" and not bundle.quiet:
        done = _already_saved(request, token)
        if done is not None:
            return done
        if not bundle.is_valid():
            status = 400
        elif not bundle.needs_confirmation:
            submit = action == "submit"
            record = _attempt(
                bundle,
                lambda: attachments.save_entry(
                    actor=request.user,
                    save=lambda: save(False),
                    uploads=bundle.uploads(),
                    removals=bundle.removals(),
                    submit=submit,
                    token=token,
                    ip=_ip(request),
                ),
            )
            if record is None:
                done = _already_saved(request, token)  # the same form, posted twice at once
                if done is not None:
                    return done
            else:
                if bundle.attachments is not None:
                    attachments.discard_staged(bundle.attachments.staged_paths())
                request.session[SAVED_FORM_KEY] = str(token)  # the draft kept in the browser can go
                _success_message(request, record, submit, len(bundle.uploads()))
                if action == "next":
                    return redirect(_next_entry_url(record))
                return redirect("projects:record", record.KIND, record.pk)
            status = 400
    pending = _keep_chosen_scans(request, bundle, token) if status == 400 else []
    record = context.get("record")
    project = context.get("project")
    full = {
        "pending_files": pending,
        "bundle": bundle,
        "quiet": bundle.quiet,
        "form_token": token,
        "flagged_labels": _flagged_labels(record),
        # The records that carry the basic info (notice 一(一)3) show it read-only once it is settled.
        "project_rows": _project_rows(project)
        if context.get("carries_project") and project is not None and bundle.project_form is None
        else [],
        "draft_label": "保存草稿",
        "mine": True,
        "error_summary": _error_summary(bundle) if status == 400 else [],
        "files_chosen": request.method == "POST" and bool(request.FILES),
        "files_refused": bool(
            bundle.attachments is not None and bundle.attachments.is_bound and bundle.attachments.errors
        ),
        **context,
    }
    if record is not None and record.pk:
        full.setdefault("files", presenters.attachments(record))
        full.setdefault("current_round", record.revision + 1)
    else:
        full.setdefault("current_round", 1)
    return render(request, "projects/entry_form.html", full, status=status)


def _keep_chosen_scans(request, bundle: forms.EntryBundle, token: uuid.UUID) -> list[dict]:
    """A form sent back with errors: keep the scans that passed their checks, so the corrected form
    saves them without choosing them again."""
    form = bundle.attachments
    if form is None or not form.is_bound or form.errors:
        return []
    fresh = attachments.stage_uploads(user_id=request.user.pk, token=str(token), uploads=form.fresh_uploads())
    return [*form.staged_shown, *fresh]


def _error_summary(bundle: forms.EntryBundle) -> list[tuple[str, str]]:
    """(label, message) of every error on the page, for the summary at its top (each links to its field)."""
    rows: list[tuple[str, str]] = []
    for form in (bundle.form, bundle.project_form, bundle.attachments):
        if form is None:
            continue
        for name, errors in form.errors.items():
            if name == NON_FIELD_ERRORS:
                rows += [("", str(e)) for e in errors]
                continue
            field = form[name] if name in form.fields else None
            label = field.label if field is not None else ""
            anchor = field.auto_id if field is not None else ""
            rows += [(f"#{anchor}" if anchor else "", f"{label}：{e}" if label else str(e)) for e in errors]
    if bundle.buildings is not None and bundle.buildings.is_bound:
        errors = list(bundle.buildings.non_form_errors()) + bundle.building_errors
        for index, form in enumerate(bundle.buildings.forms):
            for name, messages_ in form.errors.items():
                anchor = f"#{form[name].auto_id}" if name in form.fields else ""
                rows += [
                    (
                        anchor,
                        f"第{index + 1}个单体 {form.fields[name].label if name in form.fields else ''}：{m}",
                    )
                    for m in messages_
                ]
        rows += [("#building-rows", str(e)) for e in errors]
    return rows


@require_http_methods(["GET", "POST"])
@enterprise_required
def record_new(request: HttpRequest, kind: str, pk: int | None = None) -> HttpResponse:
    """Enter a new record of `kind`, for project `pk` where the kind is entered inside a project."""
    form_class = forms.entry_form(kind)
    return _entry_page(request, form_class, None, form_class.project_for_new(request.user, pk))


def _entry_page(
    request,
    form_class: type[forms.EntryPageMixin],
    record: ReviewableRecord | None,
    project: Project | None,
    *,
    picked: list[int] = (),
) -> HttpResponse:
    """The entry page of every record kind; what differs between kinds is in its form class."""
    if record is None:
        form_class.check_new(request.user, project)
    closed = form_class.closed(project)
    if closed:
        if request.method == "POST":
            raise PermissionDenied(closed)
        title = form_class.TITLES[record is not None]
        return render(
            request, "projects/entry_closed.html", {"title": title, "project": project, "closed": closed}
        )
    form = form_class.build(
        _post(request), user=request.user, record=record, project=project, params=request.GET, picked=picked
    )
    copy_choices: list = []
    if record is None and request.method != "POST":
        copy_choices = selectors.recent_records_of_org(form_class.KIND, request.user.organization_id)
        source = next((r for r in copy_choices if str(r.pk) == request.GET.get("copy", "")), None)
        if source is not None:
            form.copy_from(source)
    project_form = buildings = None
    if form_class.edits_project(record, user=request.user, project=project):
        project_form, buildings = _project_parts(request, project, record, form_class.spec().project_required)
    bundle = forms.EntryBundle(
        form,
        project_form,
        buildings,
        return_fields=record.return_fields if record else (),
        quiet=_is_add_row(request),
        attachments=forms.EntryAttachmentsForm(
            _post(request),
            request.FILES if request.method == "POST" else None,
            removable=attachments.current_round(record) if record is not None else (),
            user_id=request.user.pk,
        ),
    )

    def save(submit: bool) -> ReviewableRecord:
        bundle.register_new_units(actor=request.user, ip=_ip(request))
        return form.save_record(
            actor=request.user, record=record, project=project, bundle=bundle, submit=submit, ip=_ip(request)
        )

    context = {
        "record": record,
        "project": project,
        "copy_choices": copy_choices,
        "copy_params": [(k, v) for k, values in request.GET.lists() if k != "copy" for v in values],
        "copy_chosen": request.GET.get("copy", ""),
        "carries_project": form_class.spec().carries_project,
        "submit_label": form.submit_label(record),
        **form.page(record, project),
    }
    return _entry(request, bundle=bundle, save=save, context=context)


def _project_rows(project: Project) -> list[tuple[str, str]]:
    if project.pk is None:
        return []
    return [
        (str(Project._meta.get_field(n).verbose_name), display_value(project, n))
        for n in ("prj_num", *Project.BASIC_INFO_FIELDS)
    ]


def _is_add_row(request) -> bool:
    return request.method == "POST" and request.POST.get("action") == "add_building"


def _post(request):
    return request.POST if request.method == "POST" else None


def _project_parts(
    request, project: Project | None, record: ReviewableRecord | None, required: tuple[str, ...]
):
    """The project's basic-info form and buildings formset, unless that info is settled."""
    return_fields = record.return_fields if record is not None else ()
    project_form = forms.project_form_for(
        copy.copy(project) if project is not None else None,
        _post(request),
        return_fields=return_fields,
        required=required,
    )
    if project_form is None:
        return None, None
    if (
        project is not None
        and project.owner_org_id is None
        and record is not None
        and request.method != "POST"
    ):
        # The 建设单位 typed in the addition request that created this drawing review: carried over.
        forms.suggest_owner(project_form, selectors.owner_name_requested(record))
    buildings = forms.building_formset(_post(request), project=project, add_row=_is_add_row(request))
    return project_form, buildings


# --- 施工图审查信息 ---------------------------------------------------------------------------------


@require_GET
@enterprise_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    """The drawing reviews the design unit owns (pre-existing in PMS or created on approval of a request)."""
    org = _org(request)
    q = selectors.clean_query(request.GET.get("q", ""))
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    level = request.GET.get("level", "")
    level = level if level in DataLevel.values else ""
    source = request.GET.get("source", "")
    source = source if source in DATA_SOURCES else ""
    page, order = sorted_page(
        selectors.drawing_reviews_of_org(org.pk, q=q, state=state, level=level, source=source),
        request,
        selectors.DRAWING_REVIEW_SORTING,
        size=RECORD_LIST_PAGE_SIZE,
    )
    rows = [(r, workspace.status_text(r)) for r in page.rows]
    return render(
        request,
        "projects/my_reviews.html",
        {
            "page": page,
            "order": order,
            "rows": rows,
            "q": q,
            "state": state,
            "states": State.choices,
            "level": level,
            "levels": DataLevel.choices,
            "source": source,
            "sources": list(DATA_SOURCES.items()),
            "is_design": org.has_kind(Organization.Kind.DESIGN),
        },
    )


# --- 图审信息新增申请（附件1） -----------------------------------------------------------------------


@require_GET
@enterprise_required
def additions(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    page, order = sorted_page(
        selectors.addition_requests_of_org(org.pk, state=state),
        request,
        selectors.ADDITION_SORTING,
        size=RECORD_LIST_PAGE_SIZE,
    )
    rows = [(r, workspace.status_text(r)) for r in page.rows]
    return render(
        request,
        "projects/additions.html",
        {
            "page": page,
            "order": order,
            "rows": rows,
            "state": state,
            "states": State.choices,
            "is_design": org.has_kind(Organization.Kind.DESIGN),
        },
    )


@require_GET
@enterprise_required
def addition_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The request as the paper form 附件1, for signature and seal."""
    record = get_record_for_user(request.user, RecordKind.ADDITION_REQUEST, pk)
    return render(request, "projects/addition_print.html", {"record": record, "org": record.owner_org})


# --- 施工许可信息 -----------------------------------------------------------------------------------


def _int_list(values) -> list[int]:
    ids = []
    for value in values:
        if str(value).isdigit() and len(str(value)) < 19:
            ids.append(int(value))
    return list(dict.fromkeys(ids))


@require_GET
@enterprise_required
def review_picker(request: HttpRequest) -> HttpResponse:
    """The picker's results (htmx partial; the full page renders the same list)."""
    chosen = set(_int_list(request.GET.getlist("review")))
    return render(
        request,
        "projects/_review_picker.html",
        {
            "results": selectors.drawing_review_search(request.GET.get("q", ""), org=_org(request)),
            "chosen": chosen,
            "q": selectors.clean_query(request.GET.get("q", "")),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def permit_new(request: HttpRequest) -> HttpResponse:
    """New permit: first pick approved drawing reviews of one project, then enter the permit (一(一)2)."""
    user = request.user
    if not rules.org_has_kind(user, Organization.Kind.GENERAL_CONTRACTOR) and not rules.org_has_kind(
        user, Organization.Kind.SPECIALTY_CONTRACTOR
    ):
        raise PermissionDenied("施工许可信息由施工总承包单位录入。")
    if request.method == "POST":
        raw = str(request.POST.get("project", ""))
        project = (
            Project.objects.select_related("county", "owner_org")
            .filter(pk=int(raw) if raw.isdigit() and len(raw) < 19 else None)
            .first()
        )
        # Only a project the picker offered: one of the organization's, or found by exact number.
        if project is None or not selectors.permit_project_offered(
            _org(request), project.pk, request.POST.get("q", "")
        ):
            raise Http404
        return _entry_page(request, forms.PermitForm, None, project)
    ids = _int_list(request.GET.getlist("review"))
    q = request.GET.get("q", "")
    problem = ""
    if "next" in request.GET:
        # `found`: the search the ticked results came from (the picker's partial keeps it).
        found = request.GET.get("found", q)
        picked = selectors.offered_reviews(_org(request), ids, found)
        if not ids:
            problem = "请至少勾选一条已审核认定的施工图审查信息，再点击“下一步”。"
        elif len(picked) != len(ids):
            problem = "只能选择查找结果中已审核认定的施工图审查信息。"
        elif len({r.project_id for r in picked}) != 1:
            problem = "所选施工图审查信息须属于同一个工程项目，请只勾选一个项目下的图审信息。"
        else:
            return _entry_page(request, forms.PermitForm, None, picked[0].project, picked=ids)
        q = found
    return render(
        request,
        "projects/permit_pick.html",
        {
            "q": selectors.clean_query(q),
            "results": selectors.drawing_review_search(q, org=_org(request)),
            "chosen": set(ids),
            "problem": problem,
        },
        status=400 if problem else 200,
    )


# --- record page, edit, attachments ------------------------------------------------------------


def _next_step(record: ReviewableRecord, mine: bool) -> str:
    if not mine:
        return f"此信息由{record.owner_org.name}录入，本单位只能查看。"
    if record.state == State.DRAFT:
        first = workflow.chain_for(record)[0].label
        return f"信息补全后点击“继续填写”进入表单并提交审核，提交后由“{first}”。"
    if record.state == State.RETURNED:
        return f"请按退回原因修改标出的字段，需要时补充上传附件，然后重新提交；重新提交后开始第{record.revision + 1}轮审核。"
    if record.state == State.IN_REVIEW:
        step = workflow.current_step(record).label
        return f"已提交，正在“{step}”，请等待审核结果。审核期间不能修改，也不能上传附件。"
    if record.state == State.REVOKED:
        return (
            "审核认定已被撤销（原因见下方）。如确属填报有误，请修改并补充证明材料后重新提交，"
            f"重新提交后开始第{record.revision + 1}轮审核。"
        )
    return workflow.kind_of(record).approved_text


EDIT_LABELS = {State.RETURNED: "按退回意见修改", State.REVOKED: "修改后重新提交"}


def _record_context(request, record: ReviewableRecord, upload_form=None) -> dict:
    user = request.user
    editable = services.can_edit(user, record)
    mine = record.owner_org_id == user.organization_id
    carries = workflow.kind_of(record).carries_project and record.project_id
    return {
        "record": record,
        "kind_label": RecordKind(record.KIND).label,
        "status": workspace.status_text(record),
        "fields": presenters.record_fields(record),
        "project_fields": presenters.project_fields(record),
        "buildings": list(record.project.buildings.all()) if carries else [],
        "buildings_flagged": "buildings" in (record.return_fields or []),
        "linked_reviews": record.related_records().get("reviews", []),
        "files": presenters.attachments(record),
        "entries": presenters.timeline(record),
        "can_edit": editable,
        "mine": mine,
        "upload_form": (upload_form or forms.AttachmentForm()) if editable else None,
        "current_round": record.revision + 1,
        "flagged_labels": _flagged_labels(record),
        "next_step": _next_step(record, mine),
        "edit_label": EDIT_LABELS.get(record.state, "继续填写"),
        "revocations": selectors.revocations_of_record(record.KIND, record.pk),
        # 撤回 (review.services.record_withdraw refuses once a step of the round is decided).
        "can_withdraw": mine and workflow.is_enterer(user, record) and record.state == State.IN_REVIEW,
        # 提级: an approved record of one's own at C or B (review.services.level_request_submit decides).
        "can_raise": mine
        and workflow.is_enterer(user, record)
        and record.state == State.APPROVED
        and record.data_level in workflow.RAISE_TO
        and record.origin != Origin.PLATFORM
        and record.KIND in workflow.PROJECT_KINDS,
        # 更正 (issue 18): the versions and the correction in flight; the enterer may ask for one.
        "corrections": corrections.history(record),
        "can_correct": mine
        and record.state == State.APPROVED
        and record.KIND in workflow.CORRECTABLE
        and not corrections.refusal(user, record),
        # A record of one's own in a project one is not (yet) a party of: no link to that project.
        "project_link": bool(record.project_id) and access.is_party(user, record.project_id),
    }


@require_GET
@enterprise_required
def record_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_record_for_user(request.user, kind, pk)
    return render(request, "projects/record.html", _record_context(request, record))


def _edit_refusal(user, record: ReviewableRecord) -> str:
    if workflow.is_enterer(user, record) and not record.is_editable:
        return "该记录正在审核或已审核认定，不能修改。"
    return "只有录入单位可以修改该记录。"


@require_http_methods(["GET", "POST"])
@enterprise_required
def record_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    """Complete or correct a record of any kind (drafts, returned records, pre-existing ones)."""
    record = get_record_for_user(request.user, kind, pk)
    if not services.can_edit(request.user, record):
        if workflow.is_enterer(request.user, record) and not record.is_editable:
            # Back to the form after submitting: show where the record is, not a red refusal.
            if request.method == "POST":
                done = _already_saved(request, _form_token(request))
                if done is not None:
                    return done
            messages.info(
                request, "该信息已提交审核（或已审核认定），不能再修改；以下是它现在的内容和办理进度。"
            )
            return redirect("projects:record", record.KIND, record.pk)
        raise PermissionDenied(_edit_refusal(request.user, record))
    project = record.project if record.project_id else None
    return _entry_page(request, forms.entry_form(kind), record, project)


@require_POST
@enterprise_required
def attachment_upload(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_record_for_user(request.user, kind, pk)
    form = forms.AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            attachment = attachments.attachment_upload(
                actor=request.user,
                kind=kind,
                record_id=record.pk,
                upload=form.cleaned_data["file"],
                description=form.cleaned_data["description"],
                ip=_ip(request),
            )
        except ValidationError as exc:
            for message in exc.message_dict.get("file", exc.messages):
                form.add_error("file", message)
        else:
            messages.success(
                request, f"已上传附件“{attachment.original_name}”，随第{attachment.revision}轮一并提交审核。"
            )
            return redirect(_back(request, record))
    context = _record_context(request, record, upload_form=form)
    return render(request, "projects/record.html", context, status=400)


def _back(request, record: ReviewableRecord) -> str:
    """Where to return after an attachment action: the edit form it came from, or the record page."""
    if request.POST.get("back") == "edit" and services.can_edit(request.user, record):
        return reverse("projects:record-edit", args=[record.KIND, record.pk])
    return reverse("projects:record", args=[record.KIND, record.pk])


@require_POST
@enterprise_required
def attachment_delete(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = Attachment.objects.filter(pk=pk).first()
    record = _attachment_record(request.user, attachment)
    removed = attachments.attachment_delete(actor=request.user, attachment_id=attachment.pk, ip=_ip(request))
    messages.success(request, f"已删除附件“{removed.original_name}”。")
    return redirect(_back(request, record))


def _attachment_record(user, attachment: Attachment | None) -> ReviewableRecord:
    model = workflow.model_for(attachment.kind) if attachment is not None else None
    if model is None:
        raise Http404
    record = model.objects.select_related("project").filter(pk=attachment.record_id).first()
    if record is None or not can_view_record(user, record):
        raise Http404
    return record


@require_GET
@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    """A file to the parties of the project and its reviewers (projects.access.can_view_record); else 404."""
    attachment = Attachment.objects.filter(pk=pk).first()
    _attachment_record(request.user, attachment)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError as exc:
        raise Http404 from exc
    # ?inline=1: PDFs and images open in the browser (the reviewer reads the scan beside the form);
    # the type is the one sniffed from the content on upload, never the name's.
    inline = request.GET.get("inline") == "1"
    response = FileResponse(
        handle,
        as_attachment=not inline,
        filename=attachment.original_name,
        content_type=attachment.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@enterprise_required
def building_row(request: HttpRequest) -> HttpResponse:
    """One more empty building row for the formset (htmx); the page's "增加单体" button does the same without JS."""
    raw = request.GET.get(f"{forms.BUILDINGS_PREFIX}-TOTAL_FORMS", "0")
    index = min(int(raw), forms.MAX_BUILDINGS - 1) if raw.isdigit() else 0
    formset = forms.BuildingFormSet(prefix=forms.BUILDINGS_PREFIX)
    form = forms.BuildingForm(
        prefix=formset.add_prefix(index), empty_permitted=True, use_required_attribute=False
    )
    formset.add_fields(form, index)
    return render(
        request,
        "projects/_building_row.html",
        {"form": form, "number": index + 1, "total": index + 1, "prefix": forms.BUILDINGS_PREFIX},
    )
