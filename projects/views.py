"""Enterprise entry pages (历史业绩录入): the workspace, project and record pages, one entry form per
record type, attachments.

Views stay thin: method, auth, fetch through `projects.access`, form, call the service, redirect
with a message. Every state change goes through the services; PermissionDenied from a service
becomes the 403 page with its message, ValidationError the form again with errors (status 400).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from projects import access, attachments, forms, presenters, rules, selectors, services, workflow, workspace
from projects.codes import SCOPE_ORG_KIND
from projects.models import (
    Attachment,
    Completion,
    ConstructionPermit,
    DrawingReview,
    DrawingReviewAdditionRequest,
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from projects.snapshots import display_value, field_labels
from review.access import can_view_record, get_record_for_user
from sync import selectors as sync_selectors
from yunjian.core import audit
from yunjian.core.models import Organization
from yunjian.core.pagination import keyset_page
from yunjian.core.validators import normalize_code, prj_num_problem

WORKSPACE_PAGE_SIZE = 20


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
    page = keyset_page(
        selectors.workspace_projects(org.pk, q=q, state=state, kind=kind),
        request,
        key="id",
        descending=True,
        size=WORKSPACE_PAGE_SIZE,
    )
    records = selectors.records_of_projects(page.rows)
    roles = selectors.roles_of_org(org.pk, [p.pk for p in page.rows])
    rows = workspace.project_rows(page.rows, records, roles, org.pk)
    context = {
        "page": page,
        "rows": rows,
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
            for n in ("prj_num", "kind", "origin", *Project.BASIC_INFO_FIELDS)
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


def _project_for_joining(request, pk: int) -> Project:
    """The project a unit may enter its own scope's tender for: its own, or one already open on the
    platform (notice 一(二)1: each unit enters, in the synced project, the scope it won)."""
    project = Project.objects.select_related("county", "owner_org").filter(pk=pk).first()
    if project is None:
        raise Http404
    if access.is_party(request.user, project.pk):
        return project
    if project.kind == Project.Kind.GENERAL and rules.platform_entry_closed(project) == "":
        return project
    raise Http404


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


def _success_message(request, record: ReviewableRecord, submitted: bool) -> None:
    label = RecordKind(record.KIND).label
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


def _entry(
    request,
    *,
    bundle: forms.EntryBundle,
    save: Callable[[bool], ReviewableRecord],
    context: dict,
) -> HttpResponse:
    """Run one entry page: validate, confirm soft warnings, call the service, redirect to the record."""
    status = 200
    action = request.POST.get("action", "draft") if request.method == "POST" else ""
    if request.method == "POST" and not bundle.quiet:
        if not bundle.is_valid():
            status = 400
        elif not bundle.needs_confirmation:
            submit = action == "submit"
            record = _attempt(bundle, lambda: save(submit))
            if record is not None:
                _success_message(request, record, submit)
                return redirect("projects:record", record.KIND, record.pk)
            status = 400
    record = context.get("record")
    project = context.get("project")
    full = {
        "bundle": bundle,
        "quiet": bundle.quiet,
        "flagged_labels": _flagged_labels(record),
        # The records that carry the basic info (notice 一(一)3) show it read-only once it is settled.
        "project_rows": _project_rows(project)
        if context.get("carries_project") and project is not None and bundle.project_form is None
        else [],
        "draft_label": "保存草稿",
        "mine": True,
        **context,
    }
    if record is not None and record.pk:
        full.setdefault("files", presenters.attachments(record))
        full.setdefault("upload_form", forms.AttachmentForm())
        full.setdefault("current_round", record.revision + 1)
    return render(request, "projects/entry_form.html", full, status=status)


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


def _project_parts(request, project: Project | None, record: ReviewableRecord | None):
    """The project's basic-info form and buildings formset, unless that info is settled."""
    return_fields = record.return_fields if record is not None else ()
    project_form = forms.project_form_for(
        copy.copy(project) if project is not None else None, _post(request), return_fields=return_fields
    )
    if project_form is None:
        return None, None
    buildings = forms.building_formset(_post(request), project=project, add_row=_is_add_row(request))
    return project_form, buildings


def _cancel_url(record: ReviewableRecord | None, new_url: str) -> str:
    """Where "取消" leads: back to the record being edited, or to `new_url` for a new one."""
    return new_url if record is None else reverse("projects:record", args=[record.KIND, record.pk])


def _submit_label(record: ReviewableRecord | None) -> str:
    if record is not None and record.state == State.RETURNED:
        return "重新提交审核"
    return "提交审核"


# --- 施工图审查信息 ---------------------------------------------------------------------------------


@require_GET
@enterprise_required
def my_reviews(request: HttpRequest) -> HttpResponse:
    """The drawing reviews the design unit owns (pre-existing in PMS or created on approval of a request)."""
    org = _org(request)
    q = selectors.clean_query(request.GET.get("q", ""))
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    page = keyset_page(
        selectors.drawing_reviews_of_org(org.pk, q=q, state=state), request, key="id", descending=True
    )
    rows = [(r, workspace.status_text(r)) for r in page.rows]
    return render(
        request,
        "projects/my_reviews.html",
        {
            "page": page,
            "rows": rows,
            "q": q,
            "state": state,
            "states": State.choices,
            "is_design": org.has_kind(Organization.Kind.DESIGN),
        },
    )


def _drawing_review_page(request, record: DrawingReview) -> HttpResponse:
    project = record.project
    project_form, buildings = _project_parts(request, project, record)
    form = forms.DrawingReviewForm(
        _post(request),
        instance=copy.copy(record),
        number_editable=record.origin != Origin.PMS,
        flagged=record.return_fields,
    )
    bundle = forms.EntryBundle(
        form, project_form, buildings, return_fields=record.return_fields, quiet=_is_add_row(request)
    )

    def save(submit: bool) -> ReviewableRecord:
        return services.drawing_review_update(
            actor=request.user,
            review_id=record.pk,
            data=form.record_data(DrawingReview.SNAPSHOT_FIELDS),
            project_data=bundle.project_data(),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=_ip(request),
        )

    first_step = workflow.chain_for(record)[0].label
    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": "完善施工图审查信息",
            "carries_project": True,
            "subtitle": f"{project.name} · 合格书编号 {record.censor_num}",
            "next_step": f"核对并补全工程项目基本信息、施工图审查信息和单体技术指标，然后点击“{_submit_label(record)}”，"
            f"由“{first_step}”，再由省厅勘察设计处复核。暂时填不完可先保存草稿。"
            if record.path == DrawingReview.Path.PMS
            else f"补全施工图审查信息后点击“{_submit_label(record)}”，由“{first_step}”。",
            "record": record,
            "project": project,
            "submit_label": _submit_label(record),
            "cancel_url": reverse("projects:record", args=[record.KIND, record.pk]),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def review_new(request: HttpRequest, pk: int) -> HttpResponse:
    """Create a drawing review on the platform path (notice 三, 二(二)); PMS projects use 新增申请."""
    project = Project.objects.select_related("county", "owner_org").filter(pk=pk).first()
    if project is None:
        raise Http404
    joining = project.origin == Origin.PLATFORM and rules.org_has_kind(request.user, Organization.Kind.DESIGN)
    if not (access.is_party(request.user, project.pk) or joining):
        raise Http404
    if project.origin != Origin.PLATFORM and project.kind != Project.Kind.DIRECT_SPECIALTY:
        raise PermissionDenied(
            "设计单位不能自行增加图审信息；系统中没有的，请提交“图审信息新增申请”，由省住房城乡建设厅勘察设计处审批。"
        )
    form = forms.DrawingReviewForm(_post(request), instance=DrawingReview(project=project))
    bundle = forms.EntryBundle(form)

    def save(submit: bool) -> ReviewableRecord:
        return services.drawing_review_create(
            actor=request.user,
            project_id=project.pk,
            data=form.record_data(DrawingReview.SNAPSHOT_FIELDS),
            submit=submit,
            ip=_ip(request),
        )

    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": "录入施工图审查信息",
            "carries_project": True,
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": "填写施工图审查合格书上的信息后提交，由项目所在地住房城乡建设部门审核认定。",
            "project": project,
            "submit_label": "提交审核",
            "cancel_url": reverse("projects:project", args=[project.pk]),
        },
    )


# --- 图审信息新增申请（附件1） -----------------------------------------------------------------------


@require_GET
@enterprise_required
def additions(request: HttpRequest) -> HttpResponse:
    org = _org(request)
    state = request.GET.get("state", "")
    state = state if state in State.values else ""
    page = keyset_page(
        selectors.addition_requests_of_org(org.pk, state=state), request, key="id", descending=True
    )
    rows = [(r, workspace.status_text(r)) for r in page.rows]
    return render(
        request,
        "projects/additions.html",
        {
            "page": page,
            "rows": rows,
            "state": state,
            "states": State.choices,
            "is_design": org.has_kind(Organization.Kind.DESIGN),
        },
    )


def _addition_page(request, record: DrawingReviewAdditionRequest | None) -> HttpResponse:
    if record is None and not rules.org_has_kind(request.user, Organization.Kind.DESIGN):
        raise PermissionDenied("只有设计单位可以申请新增图审信息。")
    instance = copy.copy(record) if record is not None else DrawingReviewAdditionRequest()
    initial = (
        {}
        if record is not None
        else {"contact_name": request.user.full_name, "contact_phone": request.user.phone}
    )
    form = forms.AdditionRequestForm(
        _post(request), instance=instance, initial=initial, flagged=record.return_fields if record else ()
    )
    bundle = forms.EntryBundle(form, return_fields=record.return_fields if record else ())

    def save(submit: bool) -> ReviewableRecord:
        return services.addition_request_save(
            actor=request.user,
            request_id=record.pk if record is not None else None,
            data=form.record_data(DrawingReviewAdditionRequest.SNAPSHOT_FIELDS),
            submit=submit,
            ip=_ip(request),
        )

    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": "图审信息新增申请（附件1）",
            "subtitle": "系统中没有本单位设计项目的施工图审查信息时，向省住房城乡建设厅勘察设计处申请新增",
            "next_step": f"如实填写后点击“{_submit_label(record)}”，由省厅勘察设计处审批；同意后系统生成该图审信息，"
            "归本单位完善后提交。提交后可打印申请表，盖章签字后留存或按要求报送。",
            "record": record,
            "submit_label": _submit_label(record),
            "cancel_url": _cancel_url(record, reverse("projects:additions")),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def addition_new(request: HttpRequest) -> HttpResponse:
    return _addition_page(request, None)


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
            "results": selectors.drawing_review_search(request.GET.get("q", "")),
            "chosen": chosen,
            "q": selectors.clean_query(request.GET.get("q", "")),
        },
    )


def _permit_needed_kind(project: Project) -> str:
    if project.kind == Project.Kind.DIRECT_SPECIALTY:
        return Organization.Kind.SPECIALTY_CONTRACTOR
    return Organization.Kind.GENERAL_CONTRACTOR


@require_http_methods(["GET", "POST"])
@enterprise_required
def permit_new(request: HttpRequest) -> HttpResponse:
    """New permit: first pick approved drawing reviews of one project, then enter the permit (一(一)2)."""
    user = request.user
    if not (
        rules.org_has_kind(user, Organization.Kind.GENERAL_CONTRACTOR)
        or rules.org_has_kind(user, Organization.Kind.SPECIALTY_CONTRACTOR)
    ):
        raise PermissionDenied("施工许可信息由施工总承包单位录入。")
    if request.method == "POST":
        project = (
            Project.objects.select_related("county", "owner_org")
            .filter(
                pk=request.POST.get("project") if str(request.POST.get("project", "")).isdigit() else None
            )
            .first()
        )
        if project is None:
            raise Http404
        return _permit_page(request, None, project, [])
    ids = _int_list(request.GET.getlist("review"))
    q = request.GET.get("q", "")
    problem = ""
    if "next" in request.GET:
        picked = list(DrawingReview.objects.filter(pk__in=ids).select_related("project", "project__county"))
        if not picked:
            problem = "请至少勾选一条已审核认定的施工图审查信息，再点击“下一步”。"
        elif any(r.state != State.APPROVED for r in picked):
            problem = "只能选择已审核认定的施工图审查信息。"
        elif len({r.project_id for r in picked}) != 1:
            problem = "所选施工图审查信息须属于同一个工程项目，请只勾选一个项目下的图审信息。"
        else:
            return _permit_page(request, None, picked[0].project, ids)
    return render(
        request,
        "projects/permit_pick.html",
        {
            "q": selectors.clean_query(q),
            "results": selectors.drawing_review_search(q),
            "chosen": set(ids),
            "problem": problem,
        },
        status=400 if problem else 200,
    )


def _permit_page(
    request, record: ConstructionPermit | None, project: Project, picked: list[int]
) -> HttpResponse:
    needed = _permit_needed_kind(project)
    if record is None and not rules.org_has_kind(request.user, needed):
        raise PermissionDenied("施工许可信息由" + Organization.Kind(needed).label + "录入。")
    candidates = selectors.approved_reviews_of_project(project.pk)
    if record is not None:
        linked = list(record.drawing_reviews.select_related("censor_org"))
        known = {r.pk for r in candidates}
        candidates += [r for r in linked if r.pk not in known]
        picked = [r.pk for r in linked]
    project_form, buildings = _project_parts(request, project, record)
    form = forms.PermitForm(
        _post(request),
        instance=copy.copy(record) if record is not None else ConstructionPermit(project=project),
        candidates=candidates,
        initial={"review_ids": picked},
        flagged=[
            *(record.return_fields if record else ()),
            *(["review_ids"] if record and "drawing_reviews" in record.return_fields else []),
        ],
    )
    bundle = forms.EntryBundle(
        form,
        project_form,
        buildings,
        return_fields=record.return_fields if record else (),
        quiet=_is_add_row(request),
    )

    def save(submit: bool) -> ReviewableRecord:
        return services.permit_save(
            actor=request.user,
            drawing_review_ids=form.cleaned_data["review_ids"],
            data=form.record_data(ConstructionPermit.SNAPSHOT_FIELDS),
            permit_id=record.pk if record is not None else None,
            project_data=bundle.project_data(),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=_ip(request),
        )

    returned = record is not None and record.state == State.RETURNED
    submit_label = "重新提交发证机关审核" if returned else "完成录入并提交发证机关审核"
    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": "录入施工许可信息" if record is None else "完善施工许可信息",
            "carries_project": True,
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": "核对所依据的施工图审查信息和工程项目基本信息，填写施工许可证上的信息和单体技术指标。"
            f"点击“{submit_label}”即提交至发证机关审核认定；暂时填不完可先保存草稿。",
            "record": record,
            "project": project,
            "show_reviews": True,
            "hidden_project": project.pk,
            "submit_label": submit_label,
            "cancel_url": _cancel_url(record, reverse("projects:permit-new")),
        },
    )


# --- 招投标信息及合同登记信息、竣工验收信息及竣工验收备案信息 ----------------------------------------------


def _closed_page(request, title: str, project: Project, closed: str) -> HttpResponse:
    return render(
        request,
        "projects/entry_closed.html",
        {"title": title, "project": project, "closed": closed},
    )


def _tender_page(request, record: TenderContract | None, project: Project) -> HttpResponse:
    title = "录入招投标信息及合同登记信息" if record is None else "完善招投标信息及合同登记信息"
    closed = rules.platform_entry_closed(project)
    if closed:
        if request.method == "POST":
            raise PermissionDenied(closed)
        return _closed_page(request, title, project, closed)
    instance = copy.copy(record) if record is not None else TenderContract(project=project)
    initial = {"scope": request.GET.get("scope", "")} if record is None else {}
    form = forms.TenderContractForm(
        _post(request),
        instance=instance,
        initial=initial,
        org=_org(request),
        flagged=record.return_fields if record else (),
    )
    bundle = forms.EntryBundle(form, return_fields=record.return_fields if record else ())

    def save(submit: bool) -> ReviewableRecord:
        return services.tender_contract_save(
            actor=request.user,
            project_id=project.pk,
            contract_id=record.pk if record is not None else None,
            data=form.record_data(TenderContract.SNAPSHOT_FIELDS),
            submit=submit,
            ip=_ip(request),
        )

    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": title,
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": "按中标通知书和合同填写本单位承包范围的招投标及合同信息，提交后由项目所在地住房城乡建设部门审核认定。",
            "record": record,
            "project": project,
            "submit_label": _submit_label(record),
            "cancel_url": _cancel_url(record, reverse("projects:project", args=[project.pk])),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def tender_new(request: HttpRequest, pk: int) -> HttpResponse:
    return _tender_page(request, None, _project_for_joining(request, pk))


def _completion_page(request, record: Completion | None, project: Project) -> HttpResponse:
    title = "录入竣工验收信息及竣工验收备案信息" if record is None else "完善竣工验收信息及竣工验收备案信息"
    closed = rules.platform_entry_closed(project)
    if closed:
        if request.method == "POST":
            raise PermissionDenied(closed)
        return _closed_page(request, title, project, closed)
    org = _org(request)
    is_gc = ProjectParty.objects.filter(
        project=project, organization=org, role=ProjectParty.Role.GENERAL_CONTRACTOR
    ).exists()
    specialty = None
    if record is not None and record.specialty_contract_id:
        specialty = selectors.specialty_contracts_of(org.pk, project.pk)
    elif record is None and project.kind == Project.Kind.GENERAL and not is_gc:
        # Notice 二(一): besides the general contractor, only a specialty contractor, for its own scope.
        if not rules.org_has_kind(request.user, Organization.Kind.SPECIALTY_CONTRACTOR):
            raise PermissionDenied(rules.completion_entry_problem(request.user, project, None))
        specialty = selectors.specialty_contracts_of(org.pk, project.pk)
        if not specialty.exists():
            raise PermissionDenied(
                "请先录入本单位专业承包范围的招投标及合同信息，再录入该范围的竣工验收信息。"
            )
    instance = copy.copy(record) if record is not None else Completion(project=project)
    initial = {}
    if record is None and str(request.GET.get("contract", "")).isdigit():
        initial["specialty_contract"] = int(request.GET["contract"])
    form = forms.CompletionForm(
        _post(request),
        instance=instance,
        initial=initial,
        specialty_contracts=specialty,
        flagged=record.return_fields if record else (),
    )
    bundle = forms.EntryBundle(form, return_fields=record.return_fields if record else ())

    def save(submit: bool) -> ReviewableRecord:
        return services.completion_save(
            actor=request.user,
            project_id=project.pk,
            completion_id=record.pk if record is not None else None,
            data=form.record_data(Completion.SNAPSHOT_FIELDS),
            submit=submit,
            ip=_ip(request),
        )

    who = "本单位专业承包范围的" if specialty is not None else ""
    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": title,
            "subtitle": f"{project.name}（{project.prj_num}）",
            "next_step": f"按竣工验收报告和备案表填写{who}竣工验收及备案信息，提交后由项目所在地住房城乡建设部门审核认定。",
            "record": record,
            "project": project,
            "submit_label": _submit_label(record),
            "cancel_url": _cancel_url(record, reverse("projects:project", args=[project.pk])),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def completion_new(request: HttpRequest, pk: int) -> HttpResponse:
    project = access.get_project_for_user(request.user, pk)
    return _completion_page(request, None, project)


# --- 建设单位直接发包的专业承包项目 ---------------------------------------------------------------------


def _specialty_page(request, record: SpecialtyProjectInfo | None) -> HttpResponse:
    if record is None and not rules.org_has_kind(request.user, Organization.Kind.SPECIALTY_CONTRACTOR):
        raise PermissionDenied("只有专业承包单位可以录入建设单位直接发包的专业承包项目。")
    project = record.project if record is not None else None
    project_form, buildings = _project_parts(request, project, record)
    form = forms.SpecialtyInfoForm(
        _post(request),
        instance=copy.copy(record) if record is not None else SpecialtyProjectInfo(),
        new=record is None,
        flagged=record.return_fields if record else (),
    )
    bundle = forms.EntryBundle(
        form,
        project_form,
        buildings,
        return_fields=record.return_fields if record else (),
        quiet=_is_add_row(request),
    )

    def save(submit: bool) -> ReviewableRecord:
        return services.specialty_info_save(
            actor=request.user,
            prj_num=form.cleaned_data.get("prj_num", ""),
            info_id=record.pk if record is not None else None,
            project_data=bundle.project_data() or {},
            data=form.record_data(SpecialtyProjectInfo.SNAPSHOT_FIELDS),
            buildings=bundle.building_rows(),
            submit=submit,
            ip=_ip(request),
        )

    return _entry(
        request,
        bundle=bundle,
        save=save,
        context={
            "title": "建设单位直接发包的专业承包项目：基本信息",
            "carries_project": True,
            "subtitle": project.name if project else "先录入工程项目基本信息，审核认定后再录入其他信息",
            "next_step": "填写项目编号、工程项目基本信息和专业承包内容后提交，由项目所在地住房城乡建设部门审核认定；"
            "认定后再录入招投标及合同、施工图审查、施工许可和竣工验收信息。",
            "record": record,
            "project": project,
            "submit_label": _submit_label(record),
            "cancel_url": _cancel_url(record, reverse("projects:workspace")),
        },
    )


@require_http_methods(["GET", "POST"])
@enterprise_required
def specialty_new(request: HttpRequest) -> HttpResponse:
    return _specialty_page(request, None)


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
    if record.KIND == RecordKind.ADDITION_REQUEST:
        return "省厅勘察设计处已同意新增，系统已生成图审信息，请到“我的图审信息”中完善后提交审核。"
    if record.KIND == RecordKind.DRAWING_REVIEW:
        return "已审核认定。施工总承包单位录入施工许可时可以选择此图审信息。"
    if record.KIND == RecordKind.PERMIT:
        return "已审核认定。项目数据将同步至省一体化平台，同步完成后可录入招投标、合同及竣工验收信息。"
    if record.KIND == RecordKind.SPECIALTY_INFO:
        return "基本信息已审核认定，请在项目页录入招投标及合同、施工图审查、施工许可和竣工验收信息。"
    return "已审核认定，无需再操作。"


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
        "linked_reviews": list(record.drawing_reviews.select_related("censor_org"))
        if record.KIND == RecordKind.PERMIT
        else [],
        "files": presenters.attachments(record),
        "entries": presenters.timeline(record),
        "can_edit": editable,
        "mine": mine,
        "upload_form": (upload_form or forms.AttachmentForm()) if editable else None,
        "current_round": record.revision + 1,
        "flagged_labels": _flagged_labels(record),
        "next_step": _next_step(record, mine),
        "edit_label": "按退回意见修改" if record.state == State.RETURNED else "继续填写",
    }


@require_GET
@enterprise_required
def record_detail(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_record_for_user(request.user, kind, pk)
    return render(request, "projects/record.html", _record_context(request, record))


EDIT_PAGES = {
    RecordKind.DRAWING_REVIEW: lambda request, r: _drawing_review_page(request, r),
    RecordKind.ADDITION_REQUEST: lambda request, r: _addition_page(request, r),
    RecordKind.PERMIT: lambda request, r: _permit_page(request, r, r.project, []),
    RecordKind.TENDER_CONTRACT: lambda request, r: _tender_page(request, r, r.project),
    RecordKind.COMPLETION: lambda request, r: _completion_page(request, r, r.project),
    RecordKind.SPECIALTY_INFO: lambda request, r: _specialty_page(request, r),
}


def _edit_refusal(user, record: ReviewableRecord) -> str:
    if workflow.is_enterer(user, record) and not record.is_editable:
        return "该记录正在审核或已审核认定，不能修改。"
    return "只有录入单位可以修改该记录。"


@require_http_methods(["GET", "POST"])
@enterprise_required
def record_edit(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    record = get_record_for_user(request.user, kind, pk)
    if not services.can_edit(request.user, record):
        raise PermissionDenied(_edit_refusal(request.user, record))
    return EDIT_PAGES[kind](request, record)


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
    return FileResponse(
        handle, as_attachment=True, filename=attachment.original_name, content_type=attachment.content_type
    )


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
