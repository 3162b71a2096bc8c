"""What a workbook would do, row by row: create a draft, update the enterprise's draft, skip a
record already submitted, or refuse the row with its reasons in Chinese.

Each row goes through the kind's real entry form (projects.forms: its fields, labels, Chinese
messages, date and number checks) and the same rules the entry services apply (projects.rules: the
scope the organisation may win, the project's general contractor for completions, entry open on the
platform, document numbers held by another record). What the services look up per record, a plan
looks up once per workbook — one query per kind of lookup, whatever the number of rows — so that
5,000 rows are checked in seconds (bench/bulk_bench.py). The services check everything again when
the rows are applied (bulk.services), and submission runs the exchange's pre-flight
(projects.hooks.submission_check).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import multiprocessing
import os
import re
import threading
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from bulk.sheets import KEY_NUMBERS, PROJECT_PREFIX, Column, columns
from projects import rules, selectors, workflow
from projects.codes import Scope
from projects.forms import CompletionForm, PermitForm, ProjectInfoForm, SpecialtyInfoForm, TenderContractForm
from projects.models import (
    Completion,
    ConstructionPermit,
    DrawingReview,
    Origin,
    Project,
    ProjectParty,
    RecordKind,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from yunjian.core.models import NEW_AREA_ZONE, Organization, covering_codes
from yunjian.core.validators import normalize_code, normalize_text

CREATE, UPDATE, SKIP, ERROR = "create", "update", "skip", "error"
STATUS_LABELS = {CREATE: "将新建", UPDATE: "将更新草稿", SKIP: "已提交，跳过", ERROR: "错误"}
EDITABLE = (State.DRAFT, State.RETURNED)


@dataclass
class Row:
    row: int
    status: str = CREATE
    errors: list[tuple[str, str]] = field(default_factory=list)  # (column header, message)
    warnings: list[str] = field(default_factory=list)
    record_id: int | None = None
    project_id: int | None = None
    data: dict = field(default_factory=dict)  # the cleaned values, for the entry service

    def refuse(self, where: str, message: str) -> None:
        self.status = ERROR
        self.errors.append((where, str(message)))

    def as_json(self) -> dict:
        return {
            "row": self.row,
            "status": self.status,
            "errors": [list(e) for e in self.errors],
            "warnings": self.warnings,
            "record_id": self.record_id,
            "project_id": self.project_id,
        }


class Lookups:
    """Everything the rows refer to, fetched once for the whole workbook (the thousands of numbers
    of a workbook are sent as one array each: `__any`, yunjian.core.lookups)."""

    def __init__(self, actor, kind: str, rows: list[dict]):
        self.actor = actor
        self.org: Organization = actor.organization
        org = self.org
        model = workflow.KINDS[kind].model
        # A new record of each row is a copy of this one: cheaper than building each (its state machine).
        self.blank = model()
        self.dates = _date_fields(model, model.SNAPSHOT_FIELDS)
        self.project_dates = _date_fields(Project, Project.BASIC_INFO_FIELDS)
        if kind == RecordKind.TENDER_CONTRACT:
            self.forms = FormPool(lambda data, instance: TenderContractForm(data, instance=instance, org=org))
        elif kind == RecordKind.COMPLETION:
            self.forms = FormPool(_completion_form)
        elif kind == RecordKind.SPECIALTY_INFO:
            self.forms = FormPool(lambda data, instance: SpecialtyInfoForm(data, instance=instance, new=True))
            self.project_forms = FormPool(lambda data, instance: ProjectInfoForm(data, instance=instance))
        numbers = {normalize_code(r["cells"].get("prj_num", "")) for r in rows} - {""}
        self.projects = {
            p.prj_num: p
            for p in Project.objects.filter(prj_num__any=numbers).select_related(
                "specialty_info", "owner_org"
            )
        }
        ids = [p.pk for p in self.projects.values()]
        self.parties = set(
            ProjectParty.objects.filter(project_id__any=ids, organization_id=self.org.pk).values_list(
                "project_id", flat=True
            )
        )
        self.holders: dict[tuple[str, str], list] = defaultdict(list)
        self.own_specialty: dict[tuple[str, str], SpecialtyProjectInfo] = {}
        if kind == RecordKind.SPECIALTY_INFO:
            names = {normalize_text(r["cells"].get(PROJECT_PREFIX + "name", "")) for r in rows} - {""}
            for info in SpecialtyProjectInfo.objects.filter(
                Q(project__prj_num__any=numbers) | Q(project__name__any=names), owner_org=self.org
            ).select_related("project"):
                self.own_specialty[("prj_num", info.project.prj_num)] = info
                self.own_specialty[("name", f"{info.project.county_id}|{info.project.name}")] = info
        else:
            names = KEY_NUMBERS[kind]
            wanted = {normalize_text(r["cells"].get(n, "")) for r in rows for n in names} - {""}
            query = Q()
            for name in names:
                query |= Q(**{f"{name}__any": wanted})
            for record in model.objects.filter(query).select_related("project", "owner_org").order_by("id"):
                for name in names:
                    if getattr(record, name) in wanted:
                        self.holders[(name, getattr(record, name))].append(record)
        self.specialty_contracts: dict[tuple[int, str], TenderContract] = {}
        self.with_specialty: set[int] = set()
        self.general_contractor: set[int] = set()
        self.permits: dict[tuple[int, str], ConstructionPermit] = {}
        self.approved_permits: dict[int, list[ConstructionPermit]] = defaultdict(list)
        self.bureaus: dict[str, list[Organization]] = defaultdict(list)
        if kind == RecordKind.COMPLETION:
            for contract in TenderContract.objects.filter(
                project_id__any=ids, owner_org=self.org, scope=Scope.SPECIALTY
            ).select_related("project"):
                self.with_specialty.add(contract.project_id)
                for number in (contract.contract_num, contract.tender_num):
                    if number:
                        self.specialty_contracts.setdefault((contract.project_id, number), contract)
            # rules.is_general_contractor, for every project at once.
            mine = {"project_id__any": ids, "owner_org": self.org, "state": State.APPROVED}
            self.general_contractor = set(
                ConstructionPermit.objects.filter(**mine).values_list("project_id", flat=True)
            ) | set(
                TenderContract.objects.filter(scope=Scope.CONSTRUCTION, **mine).values_list(
                    "project_id", flat=True
                )
            )
            for permit in ConstructionPermit.objects.filter(project_id__any=ids, state=State.APPROVED):
                self.permits[(permit.project_id, permit.permit_num)] = permit
                self.approved_permits[permit.project_id].append(permit)
        if kind in (RecordKind.COMPLETION, RecordKind.PERMIT):
            for bureau in Organization.objects.filter(
                kinds__contains=f"|{Organization.Kind.HOUSING_BUREAU}|"
            ).select_related("zone"):
                self.bureaus[bureau.name].append(bureau)
                self.bureaus[bureau.credit_code].append(bureau)
        self.reviews: dict[str, DrawingReview] = {}
        self.candidates: dict[int, list[DrawingReview]] = defaultdict(list)
        self.supervisors: dict[str, list[Organization]] = defaultdict(list)
        if kind == RecordKind.PERMIT:
            named = {n for r in rows for n in review_numbers(r["cells"].get("review_ids", ""))}
            for review in DrawingReview.objects.filter(censor_num__any=named).select_related("project"):
                self.reviews[review.censor_num] = review
            # The approved reviews of each project named: the form's choices (and its date check).
            for review in DrawingReview.objects.filter(
                project_id__any=ids, state=State.APPROVED
            ).select_related("censor_org"):
                self.candidates[review.project_id].append(review)
            texts = {normalize_text(r["cells"].get("supervision_org", "")) for r in rows} - {""}
            for org in Organization.objects.filter(
                Q(name__any=texts) | Q(credit_code__any={normalize_code(t) for t in texts}),
                kinds__contains=f"|{Organization.Kind.SUPERVISION}|",
            ):
                self.supervisors[org.name].append(org)
                self.supervisors[org.credit_code].append(org)


def _date_fields(model, names) -> frozenset[str]:
    return frozenset(
        f.name for f in model._meta.fields if isinstance(f, models.DateField) and f.name in names
    )


def _remembered(clean):
    """A form field's `clean`, remembering its answer for each value it has seen in this workbook.

    A field's cleaning depends on the value alone (and, for a unit or a county, on the database,
    which does not change while a workbook is checked); a year of records repeats the same dates,
    amounts, codes and names on many rows. The form's own checks across fields (dates in order,
    soft warnings) and the model's validation still run for every row."""
    answers: dict = {}

    def remembered(value):
        try:
            answer = answers.get(value)
        except TypeError:  # an unhashable value (a list of choices): not remembered
            return clean(value)
        if answer is None:
            try:
                answer = (True, clean(value))
            except ValidationError as exc:
                answer = (False, exc)
            answers[value] = answer
        if answer[0]:
            return answer[1]
        raise ValidationError(answer[1].error_list)

    return remembered


class FormPool:
    """One entry form per workbook, bound to each row in turn.

    Building a form deep-copies its fields and writes its Chinese messages (milliseconds), which for
    5,000 rows would be most of the check's time; the fields do not depend on the row. Binding a row
    resets everything the form keeps of the previous one (data, instance, errors, bound fields)."""

    def __init__(self, build):
        self.build = build
        self.form = None

    def bind(self, data: dict, instance):
        if self.form is None:
            self.form = self.build(data, instance)
            for form_field in self.form.fields.values():
                form_field.clean = _remembered(form_field.clean)
            return self.form
        form = self.form
        form.data, form.instance, form.is_bound = data, instance, True
        form._errors = None
        form._bound_fields_cache = {}
        form.warnings = []
        if hasattr(form, "cleaned_data"):
            del form.cleaned_data
        return form


COMPLETION_REFERENCES = ("specialty_contract", "permit", "filing_org")


def _completion_form(data, instance):
    form = CompletionForm(data, instance=instance, specialty_contracts=None)
    for name in COMPLETION_REFERENCES:
        form.fields.pop(name, None)  # named by their numbers, from one query each (Lookups)
    return form


def _typed(cells: dict, dates: frozenset[str]) -> dict:
    """The row's cells as the form receives them; a date stored as 2020-02-01 is handed over as a
    date (the form takes either; parsing 5,000 rows' dates by the input formats is slow)."""
    data = dict(cells)
    for name in dates & data.keys():
        with contextlib.suppress(ValueError):  # else as typed: the form says what is wrong with it
            data[name] = dt.date.fromisoformat(data[name])
    return data


def _row_keys(kind: str, cells: dict) -> list[tuple[str, str]]:
    """What identifies a row's record in the workbook (bulk.sheets.KEY_NUMBERS)."""
    if kind == RecordKind.SPECIALTY_INFO:
        number = normalize_code(cells.get("prj_num", ""))
        name = normalize_text(cells.get(PROJECT_PREFIX + "name", ""))
        if number:
            return [("prj_num", number)]
        return [("name", f"{cells.get(PROJECT_PREFIX + 'county', '')}|{name}")] if name else []
    return [(n, normalize_text(cells.get(n, ""))) for n in KEY_NUMBERS[kind] if cells.get(n)]


def _first_rows(kind: str, rows: list[dict]) -> dict[tuple[str, str], int]:
    """The first sheet row of each key: a later row with the same number is the same record twice."""
    first: dict[tuple[str, str], int] = {}
    for row in rows:
        for key in _row_keys(kind, row["cells"]):
            first.setdefault(key, row["row"])
    return first


CHECKS = {}  # kind → the row check, filled below
# Checking is CPU-bound (the entry form on every row); the rows of a large workbook are checked in
# as many processes as the machine has cores (forked: they share the lookups already fetched), for
# the kinds whose row checks ask the database nothing (tests/bulk: constant queries).
PARALLEL_KINDS = (RecordKind.TENDER_CONTRACT, RecordKind.COMPLETION)
PARALLEL_MIN_ROWS = 1000
_forked: tuple | None = None  # what a forked checker works on: (lookups, cols, check, rows, first)


def plan_rows(actor, kind: str, rows: list[dict], *, workers: int | None = None) -> list[Row]:
    lookups = Lookups(actor, kind, rows)
    cols = {c.name: c for c in columns(kind, actor.organization)}
    first = _first_rows(kind, rows)
    check = CHECKS[kind]
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if len(rows) >= PARALLEL_MIN_ROWS else 1
    # Forking a process that runs other threads could copy a lock one of them holds: only from a
    # single-threaded one (gunicorn's sync workers, the management commands).
    forkable = "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1
    if workers > 1 and kind in PARALLEL_KINDS and forkable:
        return _plan_forked(lookups, cols, check, rows, first, workers)
    return [check(lookups, cols, row, first) for row in rows]


def _plan_forked(lookups, cols, check, rows, first, workers: int) -> list[Row]:
    global _forked
    size = -(-len(rows) // workers)
    _forked = (lookups, cols, check, rows, first)
    try:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, initializer=_no_queries) as pool:
            parts = pool.map(_check_part, [(i, i + size) for i in range(0, len(rows), size)])
            pool.close()
            pool.join()
    finally:
        _forked = None
    return [row for part in parts for row in part]


def _no_queries() -> None:
    """In a forked checker: the parent's database connection is not ours to use. A query would
    share its socket, so any attempt fails loudly instead (and its connection object is kept alive,
    so that nothing closes the parent's session when the checker exits)."""
    from django.db import connections

    def refuse(*args, **kwargs):
        raise RuntimeError("bulk.plan: a forked row checker may not query the database")

    for connection in connections.all(initialized_only=True):
        connection.execute_wrappers.append(refuse)


def _check_part(bounds: tuple[int, int]) -> list[Row]:
    lookups, cols, check, rows, first = _forked
    return [check(lookups, cols, row, first) for row in rows[bounds[0] : bounds[1]]]


def where(cols: dict[str, Column], name: str) -> str:
    col = cols.get(name)
    if col is not None:
        return col.header
    return "项目基本信息" if name.startswith(PROJECT_PREFIX) else ""


def _project(lookups: Lookups, cols, cells: dict, result: Row) -> Project | None:
    number = normalize_code(cells.get("prj_num", ""))
    if not number:
        result.refuse(cols["prj_num"].header, "请填写“项目编号”。")
        return None
    project = lookups.projects.get(number)
    if project is None:
        result.refuse(
            cols["prj_num"].header,
            f"系统中没有项目编号为 {number} 的工程项目：请核对；项目须先由设计单位随图审信息录入或从省一体化平台同步。",
        )
        return None
    result.project_id = project.pk
    return project


def _key(lookups: Lookups, cols, kind: str, cells: dict, project: Project, result: Row, seen: dict):
    """The record the row is about (by its number): the enterprise's own draft of it is updated, its
    record already submitted is skipped, another's number is refused."""
    names = KEY_NUMBERS[kind]
    model = workflow.KINDS[kind].model
    numbers = {n: normalize_text(cells.get(n, "")) for n in names}
    if not any(numbers.values()):
        labels = "或".join(f"“{cols[n].header}”" for n in names)
        result.refuse("", f"请填写{labels}：批量录入以编号识别同一条记录，避免重复录入。")
        return None
    own = None
    for name, number in numbers.items():
        if not number:
            continue
        earlier = seen.get((name, number), result.row)
        if earlier != result.row:
            result.refuse(
                cols[name].header, f"与第{earlier}行的“{cols[name].header}”相同：同一编号只能录入一次。"
            )
            continue
        for holder in lookups.holders.get((name, number), ()):
            mine = holder.owner_org_id == lookups.org.pk and holder.project_id == project.pk
            if mine and (own is None or own.pk == holder.pk):
                own = holder
            elif name in rules.UNIQUE_NUMBERS.get(model, ()):
                result.refuse(cols[name].header, rules.duplicate_number_message(model, name, number, holder))
            elif model is ConstructionPermit:  # PermitForm.clean_permit_num's refusal
                result.refuse(
                    cols[name].header,
                    f"系统中已有施工许可证编号为 {number} 的施工许可信息，请核对编号；同一许可证只录入一次。",
                )
    if own is not None and result.status != ERROR:
        if own.state in EDITABLE:
            result.status, result.record_id = UPDATE, own.pk
        else:
            result.status, result.record_id = SKIP, own.pk
    return own


def _form_errors(form, cols, result: Row) -> None:
    for name, errors in form.errors.items():
        for message in errors:
            result.refuse(where(cols, name) if name != "__all__" else "", message)


def _check_tender(lookups: Lookups, cols, row: dict, seen: dict) -> Row:
    cells, actor = row["cells"], lookups.actor
    result = Row(row["row"])
    project = _project(lookups, cols, cells, result)
    if project is None:
        return result
    # TenderContractForm.project_for_new: a project of the organisation, or one open on the platform.
    if project.pk not in lookups.parties and not (
        project.kind == Project.Kind.GENERAL and rules.platform_entry_closed(project) == ""
    ):
        result.refuse(
            cols["prj_num"].header,
            "本单位不是该项目的参建单位，且该项目尚未在省一体化平台开放录入，不能在该项目录入招投标及合同信息。",
        )
        return result
    closed = rules.platform_entry_closed(project) or (
        rules.direct_specialty_problem(actor, project)
        if project.kind == Project.Kind.DIRECT_SPECIALTY
        else ""
    )
    if closed:
        result.refuse(cols["prj_num"].header, closed)
        return result
    own = _key(lookups, cols, RecordKind.TENDER_CONTRACT, cells, project, result, seen)
    if result.status in (ERROR, SKIP):
        return result
    instance = copy.copy(own if own is not None else lookups.blank)
    instance.project = project
    data = _typed({k: v for k, v in cells.items() if k in TenderContract.SNAPSHOT_FIELDS}, lookups.dates)
    form = lookups.forms.bind(data, instance)
    valid = form.is_valid()
    _form_errors(form, cols, result)
    if valid:
        problem = rules.tender_scope_problem(actor, form.cleaned_data["scope"]) or rules.entry_refusal(
            actor, RecordKind.TENDER_CONTRACT
        )
        if problem:
            result.refuse(cols["scope"].header, problem)
        result.warnings = list(form.warnings)
        result.data = form.record_data()
    return result


def _check_completion(lookups: Lookups, cols, row: dict, seen: dict) -> Row:
    cells, actor = row["cells"], lookups.actor
    result = Row(row["row"])
    project = _project(lookups, cols, cells, result)
    if project is None:
        return result
    # CompletionForm.project_for_new: a project of the organisation, or one with its specialty contract.
    if project.pk not in lookups.parties and project.pk not in lookups.with_specialty:
        result.refuse(cols["prj_num"].header, "本单位不是该项目的参建单位，不能录入该项目的竣工验收信息。")
        return result
    closed = rules.platform_entry_closed(project)
    if closed:
        result.refuse(cols["prj_num"].header, closed)
        return result
    refs: dict = {}
    contract_number = normalize_text(cells.get("specialty_contract", ""))
    if contract_number:
        contract = lookups.specialty_contracts.get((project.pk, contract_number))
        if contract is None:
            result.refuse(
                cols["specialty_contract"].header,
                f"本单位在该项目没有合同编号（或中标通知书编号）为 {contract_number} 的专业承包合同：请先录入该范围的招投标及合同信息。",
            )
        refs["specialty_contract"] = contract
    else:
        refs["specialty_contract"] = None
        # CompletionForm.build and completion_save: the general contractor, or a specialty contractor
        # naming its own subcontract (notice 一(二)2, 二(一)).
        if project.kind == Project.Kind.DIRECT_SPECIALTY:
            problem = rules.completion_entry_problem(actor, project, None)
        elif project.pk in lookups.general_contractor:
            problem = ""
        elif project.pk in lookups.with_specialty:
            problem = "请填写本单位的专业承包合同编号：专业承包单位只录入本单位专业分包范围的竣工验收信息。"
        else:
            problem = "竣工验收信息及竣工验收备案信息统一由该项目的施工总承包单位录入，其他单位不用录入。"
        if problem:
            result.refuse(
                cols["specialty_contract"].header if "专业" in problem[:12] else cols["prj_num"].header,
                problem,
            )
    permit_number = normalize_text(cells.get("permit", ""))
    refs["permit"] = None
    if permit_number:
        refs["permit"] = lookups.permits.get((project.pk, permit_number))
        if refs["permit"] is None:
            result.refuse(
                cols["permit"].header,
                f"该项目没有已审核认定的施工许可证 {permit_number}：只能选择本项目已审核认定的施工许可。",
            )
    elif len(lookups.approved_permits[project.pk]) == 1:
        # As completion_save: a project with one approved permit, the completion belongs to it.
        refs["permit"] = lookups.approved_permits[project.pk][0]
    org_text = normalize_text(cells.get("filing_org", ""))
    refs["filing_org"] = None
    if org_text:
        found = lookups.bureaus.get(org_text) or lookups.bureaus.get(normalize_code(org_text)) or []
        if len(found) == 1:
            refs["filing_org"] = found[0]
        elif found:
            result.refuse(
                cols["filing_org"].header,
                f"系统中有多个名为“{org_text}”的住房城乡建设部门，请填写其统一社会信用代码。",
            )
        else:
            result.refuse(
                cols["filing_org"].header,
                f"“{org_text}”不是系统中的住房城乡建设部门：备案机关应为住房城乡建设部门，请填写全称或统一社会信用代码。",
            )
    if result.status == ERROR:
        return result
    own = _key(lookups, cols, RecordKind.COMPLETION, cells, project, result, seen)
    if result.status in (ERROR, SKIP):
        return result
    instance = copy.copy(own if own is not None else lookups.blank)
    instance.project = project
    for name, value in refs.items():
        setattr(instance, name, value)
    data = {k: v for k, v in cells.items() if k in Completion.SNAPSHOT_FIELDS and k not in refs}
    form = lookups.forms.bind(_typed(data, lookups.dates), instance)
    valid = form.is_valid()
    _form_errors(form, cols, result)
    if valid:
        result.data = {**form.record_data(), **refs}
    return result


def _check_specialty(lookups: Lookups, cols, row: dict, seen: dict) -> Row:
    """A directly contracted specialty project's basic info (notice 二(二)): the project is created
    with it, under its 项目编号 or, without one, a provisional number (projects.services)."""
    cells = row["cells"]
    result = Row(row["row"])
    number = normalize_code(cells.get("prj_num", ""))
    name = normalize_text(cells.get(PROJECT_PREFIX + "name", ""))
    county = cells.get(PROJECT_PREFIX + "county", "")
    key = ("prj_num", number) if number else ("name", f"{county}|{name}")
    earlier = seen.get(key, result.row)
    if earlier != result.row:
        result.refuse(cols["prj_num"].header, f"与第{earlier}行是同一个项目：每个项目只填一行。")
        return result
    own = lookups.own_specialty.get(key)
    if own is None and number in lookups.projects:
        project = lookups.projects[number]
        result.refuse(
            cols["prj_num"].header,
            f"系统中已有项目编号为 {number} 的工程项目（{project.name}）：这里只录入系统中还没有的、建设单位直接发包的"
            "专业承包项目；已有项目的招投标、合同和竣工验收信息请用相应模板录入。",
        )
        return result
    if own is not None:
        result.project_id = own.project_id
        if own.state not in EDITABLE:
            result.status, result.record_id = SKIP, own.pk
            return result
        result.status, result.record_id = UPDATE, own.pk
    info_data = {k: v for k, v in cells.items() if k in ("prj_num", "specialty_scope")}
    info_form = lookups.forms.bind(info_data, copy.copy(own) if own is not None else SpecialtyProjectInfo())
    project_data = {
        k.removeprefix(PROJECT_PREFIX): v for k, v in cells.items() if k.startswith(PROJECT_PREFIX)
    }
    project = copy.copy(own.project) if own is not None else Project(kind=Project.Kind.DIRECT_SPECIALTY)
    project_form = lookups.project_forms.bind(_typed(project_data, lookups.project_dates), project)
    valid = info_form.is_valid()
    valid = project_form.is_valid() and valid
    _form_errors(info_form, cols, result)
    for field_name, errors in project_form.errors.items():
        for message in errors:
            result.refuse(
                where(cols, PROJECT_PREFIX + field_name) if field_name != "__all__" else "", message
            )
    if valid:
        result.data = {
            "prj_num": info_form.cleaned_data.get("prj_num", ""),
            "data": info_form.record_data(),
            "project_data": project_form.project_data(),
        }
    return result


REVIEW_SEPARATORS = re.compile(r"[;；,，、\s]+")


def review_numbers(text: str) -> list[str]:
    """The certificate numbers of a cell, in order, each once (separated by ；, ， or spaces)."""
    return list(dict.fromkeys(n for n in REVIEW_SEPARATORS.split(normalize_text(text or "")) if n))


def _competent(bureau: Organization, project: Project) -> bool:
    """selectors.competent_bureaus, for one bureau already loaded."""
    if bureau.zone_id is None and bureau.division_id in covering_codes(project.county_id):
        return True
    return project.in_new_area and bureau.zone_id is not None and bureau.zone.slug == NEW_AREA_ZONE


def _one_org(found: list[Organization], text: str, what: str, col: str, result: Row) -> Organization | None:
    if len(found) == 1:
        return found[0]
    if found:
        result.refuse(col, f"系统中有多个名为“{text}”的{what}，请填写其统一社会信用代码。")
    else:
        result.refuse(
            col, f"系统中没有名称或统一社会信用代码为“{text}”的{what}，请填写全称或统一社会信用代码。"
        )
    return None


def _check_permit(lookups: Lookups, cols, row: dict, seen: dict) -> Row:
    """A permit on approved drawing reviews named by their certificate numbers (notice 一(一)2), as
    the permit picker offers them (selectors.offered_reviews: found by the exact number) and
    projects.services.permit_save checks them."""
    cells, actor = row["cells"], lookups.actor
    result = Row(row["row"])
    project = _project(lookups, cols, cells, result)
    if project is None:
        return result
    where = cols["review_ids"].header
    numbers = review_numbers(cells.get("review_ids", ""))
    if not numbers:
        result.refuse(where, "请填写所依据的施工图审查合格书编号（已审核认定的，多个用分号分隔）。")
    reviews = []
    for number in numbers:
        review = lookups.reviews.get(number)
        if review is None or review.state != State.APPROVED:
            result.refuse(where, f"系统中没有合格书编号为 {number} 的已审核认定的施工图审查信息。")
        elif review.project_id != project.pk:
            result.refuse(
                where,
                f"合格书 {number} 属于项目 {review.project.prj_num}（{review.project.name}），不是本行的项目："
                "所选施工图审查信息须属于同一个工程项目。",
            )
        else:
            reviews.append(review)
    if project.kind not in selectors.permit_project_kinds(lookups.org) or project.origin == Origin.PLATFORM:
        result.refuse(
            cols["prj_num"].header,
            rules.entry_refusal(actor, RecordKind.PERMIT, PermitForm.needed_kind(project))
            or "该项目的施工许可信息在省一体化平台办理，不在本系统录入。",
        )
        return result
    problem = rules.entry_refusal(actor, RecordKind.PERMIT, PermitForm.needed_kind(project))
    if not problem and project.kind == Project.Kind.DIRECT_SPECIALTY:
        problem = rules.direct_specialty_problem(actor, project)
    if problem:
        result.refuse(cols["prj_num"].header, problem)
        return result
    refs = {"issuing_org": None, "supervision_org": None}
    text = normalize_text(cells.get("issuing_org", ""))
    if not text:
        result.refuse(cols["issuing_org"].header, "请填写发证机关。")
    else:
        found = lookups.bureaus.get(text) or lookups.bureaus.get(normalize_code(text)) or []
        bureau = _one_org(found, text, "住房城乡建设部门", cols["issuing_org"].header, result)
        if bureau is not None and not _competent(bureau, project):
            result.refuse(
                cols["issuing_org"].header,
                f"“{bureau.name}”不是该项目所在地的住房城乡建设部门：发证机关应为项目所在县（市、区）、州（市）"
                "或省住房城乡建设部门；位于滇中新区的项目，也可以是滇中新区规划建设管理部。",
            )
        refs["issuing_org"] = bureau
    text = normalize_text(cells.get("supervision_org", ""))
    if text:
        found = lookups.supervisors.get(text) or lookups.supervisors.get(normalize_code(text)) or []
        refs["supervision_org"] = _one_org(found, text, "监理单位", cols["supervision_org"].header, result)
    if result.status == ERROR:
        return result
    own = _key(lookups, cols, RecordKind.PERMIT, cells, project, result, seen)
    if result.status in (ERROR, SKIP):
        return result
    instance = copy.copy(own) if own is not None else ConstructionPermit(project=project)
    for name, value in refs.items():
        setattr(instance, name, value)
    data = {k: v for k, v in cells.items() if k in ConstructionPermit.SNAPSHOT_FIELDS and k not in refs}
    data = _typed(data, lookups.dates)
    data["review_ids"] = [str(r.pk) for r in reviews]
    form = PermitForm(data, instance=instance, candidates=lookups.candidates[project.pk])
    for name in refs:
        form.fields.pop(name, None)  # named by name or code above, from one query each
    valid = form.is_valid()
    _form_errors(form, cols, result)
    if valid:
        result.warnings = list(form.warnings)
        result.data = {"review_ids": [r.pk for r in reviews], "data": {**form.record_data(), **refs}}
    return result


CHECKS.update(
    {
        RecordKind.TENDER_CONTRACT: _check_tender,
        RecordKind.COMPLETION: _check_completion,
        RecordKind.SPECIALTY_INFO: _check_specialty,
        RecordKind.PERMIT: _check_permit,
    }
)
