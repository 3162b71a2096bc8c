"""Check and apply a load, file by file, row batch by row batch.

Pass 1 (check) reads every file, checks every row and classifies it against the database as it is
(new / updated / unchanged / conflict / error) without writing any record; it keeps the counts,
the first rows of each status and every refused or conflicting row (LoadIssue). A file that cannot
be read, or lacks a column its table requires, refuses the whole load.

Pass 2 (apply) reads the files again and writes each batch in one transaction together with the
job's position, so a load stopped half-way is resumed where it stopped. Rows are written with
multi-row INSERTs (bulk_create) and UPDATEs (bulk_update), guardian grants and project parties in
bulk, and one audit entry for the whole load (yunjian.core.audit) with each file's SHA-256.

Ownership (notice 一(一)1, 2): a PMS drawing review belongs to its design unit, a PMS permit to
its general contractor (the explicit guardian grant that lets exactly that unit complete it).
Organisations are found by 统一社会信用代码 only; an unknown one is created unverified and listed.
Records: a newer export updates a record only while nobody has touched it since it was loaded
(LoadedRecord.stamp); otherwise a difference is a conflict with both values, never an overwrite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.db import connection, reset_queries, transaction
from django.db.models import Q
from django.utils import timezone

from loads import tables as T
from loads.models import LoadedRecord, LoadFile, LoadIssue, LoadJob
from projects.codes import SCOPE_CONTRACT_TYPE, Scope, TenderMethod
from projects.models import (
    Completion,
    ConstructionPermit,
    ConstructionPermitGroupObjectPermission,
    DrawingReview,
    DrawingReviewGroupObjectPermission,
    Origin,
    Project,
    ProjectParty,
    State,
    TenderContract,
)
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Division, Organization
from yunjian.core.spreadsheets import HEADER_SEARCH_ROWS, SpreadsheetError, iter_table

K = Organization.Kind
R = ProjectParty.Role
STATUSES = ("new", "updated", "unchanged", "conflict", "error")
STATUS_LABELS = {"new": "新增", "updated": "更新", "unchanged": "未变", "conflict": "冲突", "error": "错误"}
SAMPLES_PER_STATUS = 10

NO_HEADER = "未找到表头：前{limit}行中没有全国数据标准的列名（英文列名如 PrjNum，或中文列名如“项目编号”）"
UNKNOWN_TABLE = (
    "无法从表头识别数据表：应为 TBProjectInfo、TBProjectCensorInfo、TBBuilderLicenceManage 等全国数据标准的表"
)
UNKNOWN_COLUMNS = "无法识别的列：{names}（应为全国数据标准中{table}的列名，英文或中文）"
MISSING_COLUMN = "缺少“{label}”列（{name}），{table}必须包含该列"
DUPLICATE_COLUMN = "“{label}”列出现了两次"
NOT_THIS_TABLE = "表头与指定的数据表{table}不符：缺少“{label}”列（{name}）"
PLATFORM_ONLY = "{table}只能作为省一体化平台办理的数据导入（--origin platform）"
NO_ROWS = "表头下面没有数据行"


class LoadRefused(Exception):
    """A file of the load cannot be used at all; the message is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def max_rows() -> int:
    return settings.LOAD_MAX_ROWS


# --------------------------------------------------------------------------- reading a file


@dataclass
class Opened:
    table: str
    present: frozenset[str]  # standard column names the file carries
    rows: Iterator[tuple[int, dict[str, str]]]


def open_file(path: str | Path, name: str, table: str = "", origin: str = Origin.PMS) -> Opened:
    """Find the header, recognise the table, refuse unknown or missing columns; stream the rows."""
    source = iter_table(path, name, max_rows=settings.LOAD_MAX_ROWS, max_bytes=settings.LOAD_MAX_BYTES)
    first = next(source, None)
    if first is None:
        raise LoadRefused(NO_ROWS)
    header: list[str] | None = None
    if isinstance(first[1], dict):
        header = list(first[1].keys())
        mapping = _map_header(header)

        def generate() -> Iterator[tuple[int, dict[str, str]]]:
            for number, record in _chain_first(first, source):
                if not isinstance(record, dict):
                    raise SpreadsheetError(f"第{number}行不是JSON对象")
                yield number, {mapping.get(key, key): value for key, value in record.items()}

        rows = generate()
    else:
        candidate = first
        while True:
            number, cells = candidate
            if T.looks_like_header(cells):  # type: ignore[arg-type]
                header = cells  # type: ignore[assignment]
                break
            candidate = next(source, None)  # a title or a note above the header
            if candidate is None or candidate[0] > HEADER_SEARCH_ROWS:
                raise LoadRefused(NO_HEADER.format(limit=HEADER_SEARCH_ROWS))
        mapping = _map_header(header)
        names = [mapping.get(cell, "") for cell in header]

        def generate() -> Iterator[tuple[int, dict[str, str]]]:
            for number, cells in source:
                yield number, {name: value for name, value in zip(names, cells, strict=False) if name}  # type: ignore[arg-type]

        rows = generate()
    assert header is not None
    unknown = [cell for cell in header if cell and cell not in mapping]
    present = frozenset(mapping.values())
    seen: set[str] = set()
    for cell in header:  # the same column twice, by the same or another of its names
        std = mapping.get(cell)
        if std in seen:
            raise LoadRefused(DUPLICATE_COLUMN.format(label=cell))
        if std:
            seen.add(std)
    if table:
        if table not in T.TABLES:
            raise LoadRefused(f"未知的数据表“{table}”，可选：{'、'.join(T.TABLE_ORDER)}")
        key = T.KEY[table]
        if key not in present:
            raise LoadRefused(NOT_THIS_TABLE.format(table=table, label=T.COLUMNS[table][key].label, name=key))
    else:
        table = T.detect_table(set(present)) or ""
        if not table:
            raise LoadRefused(UNKNOWN_TABLE)
    known = T.COLUMNS[table]
    unknown += [
        cell
        for cell in header
        if cell in mapping and mapping[cell] not in known and mapping[cell] not in T.IGNORED
    ]
    if unknown:
        label = f"{table}（{T.TABLE_LABELS[table]}）"
        raise LoadRefused(
            UNKNOWN_COLUMNS.format(names="、".join(f"“{u}”" for u in unknown[:10]), table=label)
        )
    for column in T.TABLES[table]:
        if column.required and column.name not in present:
            raise LoadRefused(
                MISSING_COLUMN.format(
                    label=column.label, name=column.name, table=f"{table}（{T.TABLE_LABELS[table]}）"
                )
            )
    if origin != Origin.PLATFORM and table in T.PLATFORM_ONLY:
        raise LoadRefused(PLATFORM_ONLY.format(table=f"{table}（{T.TABLE_LABELS[table]}）"))
    return Opened(table=table, present=present, rows=rows)


def _chain_first(first, source):
    yield first
    yield from source


def _map_header(header: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for cell in header:
        if cell and (std := T.header_name(cell)):
            mapping[cell] = std
    return mapping


# --------------------------------------------------------------------------- context shared by batches


@dataclass
class Context:
    """What the batches of one pass share: divisions, bureaus, organisations and projects seen."""

    origin: str
    applying: bool
    counties: dict[str, str] = field(default_factory=dict)
    divisions: set[str] = field(default_factory=set)
    bureaus: dict[str, int] = field(default_factory=dict)  # division code → housing bureau org id
    bureau_divisions: dict[int, str] = field(default_factory=dict)  # housing bureau org id → division
    # Check pass only: what the same load will create before this file is applied.
    pending_projects: dict[str, str] = field(default_factory=dict)  # prj_num → county code
    pending_orgs: dict[str, str] = field(default_factory=dict)  # credit code → name
    pending_censors: set[str] = field(default_factory=set)
    pending_permits: set[str] = field(default_factory=set)
    new_orgs: list[dict] = field(default_factory=list)
    # credit code → (org id, group id, division) of every organisation met so far: one query per new code.
    orgs: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    permissions: dict[str, Permission] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=timezone.now)

    @classmethod
    def build(cls, origin: str, applying: bool) -> Context:
        context = cls(origin=origin, applying=applying)
        for code, level in Division.objects.values_list("code", "level"):
            context.divisions.add(code)
            if level == Division.Level.COUNTY:
                context.counties[code] = code
        bureaus = (
            Organization.objects.filter(kinds__contains=f"|{K.HOUSING_BUREAU}|")
            .order_by("-id")
            .values_list("division_id", "id")
        )
        context.bureau_divisions = {pk: division for division, pk in bureaus}
        context.bureaus = dict(bureaus)  # lowest id wins (ordered descending, later keys overwrite)
        return context


@dataclass
class Outcome:
    row: int
    number: str
    status: str
    errors: list[tuple[str, str]] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)


RowCallback = Callable[[LoadFile, str, Outcome], None]


# --------------------------------------------------------------------------- per-table handlers

# Model field ← standard column, per table (only columns the file carries are compared and written).
PROJECT_FIELDS = {
    "name": "PrjName",
    "prj_type": "PrjTypeNum",
    "prj_property": "PrjPropertyNum",
    "prj_function": "PrjFunctionNum",
    "approval_level": "PrjApprovalLevelNum",
    "approval_num": "PrjApprovalNum",
    "county_id": "CountyNum",
    "address": "ADDRESS",
    "owner_org_id": "BuildCorpCode",
    "land_plan_num": "BuldPlanNum",
    "project_plan_num": "ProjectPlanNum",
    "total_investment": "AllInvest",
    "total_area": "AllArea",
    "scale": "PrjSize",
    "planned_start": "BEGINDATE",
    "planned_end": "ENDDATE",
    "actual_start": "BDate",
    "actual_end": "EDate",
}
CENSOR_FIELDS = {
    "project_id": "PrjNum",
    "censor_org_id": "CensorCorpCode",
    "owner_org_id": "DesignCorpCode",
    "survey_org_id": "EconCorpCode",
    "censor_date": "CensorEDate",
    "one_pass": "OneCensorIsPass",
    "violations_count": "OneCensorWfqtCount",
    "violations_content": "OneCensorWfqtContent",
    "scale": "PrjSize",
    "fire_censor_num": "XFCensorNo",
    "civil_defense_censor_num": "RFCensorNo",
}
PERMIT_FIELDS = {
    "project_id": "PrjNum",
    "owner_org_id": "ConsCorpCode",
    "supervision_org_id": "SuperCorpCode",
    "issuing_org_id": "IssueOrgCode",
    "issuing_division_id": "IssueOrgCode",
    "issue_date": "IssueCertDate",
    "section_name": "SectionName",
    "contract_amount": "ContractMoney",
    "area": "Area",
    "length": "Length",
    "span": "Span",
    "safety_cert_num": "SafetyCerID",
    "project_manager": "ConstructorName",
    "chief_supervisor": "SupervisionName",
}
# Which organisation kind each credit-code column names (for organisations created unverified).
ORG_COLUMNS = {
    "BuildCorpCode": ("BuildCorpName", K.OWNER),
    "CensorCorpCode": ("CensorCorpName", K.REVIEW_INSTITUTION),
    "DesignCorpCode": ("DesignCorpName", K.DESIGN),
    "EconCorpCode": ("EconCorpName", K.SURVEY),
    "ConsCorpCode": ("ConsCorpName", K.GENERAL_CONTRACTOR),
    "SuperCorpCode": ("SuperCorpName", K.SUPERVISION),
    "IssueOrgCode": ("IssueOrgName", K.HOUSING_BUREAU),
    "TenderCorpCode": ("TenderCorpName", ""),
    "ContractorCorpCode": ("ContractorCorpName", ""),
}
COLUMN_LABEL = {
    name: column.label for columns in T.TABLES.values() for column in columns for name in [column.name]
}
TENDER_SCOPE = {
    "001": Scope.SURVEY,
    "002": Scope.DESIGN,
    "003": Scope.CONSTRUCTION,
    "004": Scope.SUPERVISION,
    "006": Scope.CONSTRUCTION,
}
CONTRACT_SCOPE = {
    "100": Scope.SURVEY,
    "200": Scope.DESIGN,
    "301": Scope.CONSTRUCTION,
    "302": Scope.SPECIALTY,
    "303": Scope.SPECIALTY,
    "400": Scope.SUPERVISION,
}
SCOPE_KIND = {
    Scope.SURVEY: K.SURVEY,
    Scope.DESIGN: K.DESIGN,
    Scope.CONSTRUCTION: K.GENERAL_CONTRACTOR,
    Scope.SUPERVISION: K.SUPERVISION,
    Scope.SPECIALTY: K.SPECIALTY_CONTRACTOR,
}
SCOPE_ROLE = {
    Scope.SURVEY: R.SURVEY,
    Scope.DESIGN: R.DESIGN,
    Scope.CONSTRUCTION: R.GENERAL_CONTRACTOR,
    Scope.SUPERVISION: R.SUPERVISION,
    Scope.SPECIALTY: R.SPECIALTY_CONTRACTOR,
}
CENSOR_SPLIT_RE = re.compile(r"[;；,，、\s]+")


def _plain(value: object) -> object:
    """A value as compared and shown: dates as text, decimals normalised."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


class Batch:
    """One batch of checked rows of one table: looks up what exists, classifies, and writes."""

    def __init__(self, context: Context, table: str, present: frozenset[str], job: LoadJob | None) -> None:
        self.context = context
        self.table = table
        self.present = present
        self.job = job
        self._project_counties: dict[str, str] = {}  # the batch's projects in the system → county

    # -- organisations -----------------------------------------------------------------------

    def _orgs(self, rows: list[T.CheckedRow]) -> dict[str, tuple[int, int]]:
        """credit code → (org id, group id) for every code in the batch; unknown ones are created
        unverified when applying (noted as pending when checking). Rows lacking a needed name get an error."""
        codes = {row.values[c] for row in rows for c in ORG_COLUMNS if row.values.get(c)}
        cache = self.context.orgs
        unseen = codes - cache.keys()
        if unseen:
            for code, pk, group, division in Organization.objects.filter(credit_code__in=unseen).values_list(
                "credit_code", "id", "group_id", "division_id"
            ):
                cache[code] = (pk, group, division)
        found = {code: cache[code][:2] for code in codes if code in cache}
        wanted: dict[str, tuple[str, str, str]] = {}  # code → (name, kind, division)
        for row in rows:
            for code_column, (name_column, kind) in ORG_COLUMNS.items():
                code = row.values.get(code_column)
                if not code or code in found:
                    continue
                name = str(row.values.get(name_column) or "") or self.context.pending_orgs.get(code, "")
                if not name and code not in wanted:
                    row.errors.append(
                        (
                            COLUMN_LABEL.get(name_column, name_column),
                            f"单位{code}尚未在本系统登记，须填写单位名称",
                        )
                    )
                    continue
                if code in wanted:
                    continue
                if code_column == "TenderCorpCode":
                    kind = SCOPE_KIND.get(TENDER_SCOPE.get(str(row.values.get("TenderClassNum")), ""), "")
                elif code_column == "ContractorCorpCode":
                    kind = SCOPE_KIND.get(CONTRACT_SCOPE.get(str(row.values.get("ContractTypeNum")), ""), "")
                wanted[code] = (name or code, kind, self._org_division(code, row))
        if not wanted:
            return found
        if not self.context.applying:
            for code, (name, kind, _division) in wanted.items():
                if code not in self.context.pending_orgs:
                    self.context.pending_orgs[code] = name
                    self.context.new_orgs.append({"credit_code": code, "name": name, "kind": kind})
            return found
        groups = Group.objects.bulk_create([Group(name=f"org:{code}") for code in wanted])
        orgs = Organization.objects.bulk_create(
            [
                Organization(
                    credit_code=code,
                    name=name[:200],
                    kinds=Organization.encode_kinds([kind] if kind else []),
                    division_id=division,
                    group=group,
                    is_verified=False,
                )
                for (code, (name, kind, division)), group in zip(wanted.items(), groups, strict=True)
            ]
        )
        for org in orgs:
            found[org.credit_code] = (org.pk, org.group_id)
            cache[org.credit_code] = (org.pk, org.group_id, org.division_id)
            name, kind, _division = wanted[org.credit_code]
            self.context.new_orgs.append({"credit_code": org.credit_code, "name": name, "kind": kind})
        return found

    def _org_division(self, code: str, row: T.CheckedRow) -> str:
        region = code[2:8]
        if region in self.context.divisions:
            return region
        county = row.values.get("CountyNum") or self._county_of(str(row.values.get("PrjNum") or ""))
        return county if county in self.context.divisions else "530000"

    def _county_of(self, prj_num: str) -> str:
        return self.context.pending_projects.get(prj_num, "") or self._project_counties.get(prj_num, "")

    # -- projects ------------------------------------------------------------------------------

    def _projects(self, rows: list[T.CheckedRow]) -> dict[str, tuple[int, str]]:
        """prj_num → (project id, county) for the rows' projects; a row whose project is neither in
        the system nor in the same load gets an error."""
        nums = {row.values["PrjNum"] for row in rows if row.values.get("PrjNum")}
        found = {
            num: (pk, county)
            for num, pk, county in Project.objects.filter(prj_num__in=nums).values_list(
                "prj_num", "id", "county_id"
            )
        }
        self._project_counties = {num: county for num, (_pk, county) in found.items()}
        for row in rows:
            num = row.values.get("PrjNum")
            if num and num not in found and num not in self.context.pending_projects:
                row.errors.append(
                    (
                        "项目编号",
                        f"项目编号{num}在系统中不存在，本次导入的工程项目基本信息（TBProjectInfo）中也没有该项目",
                    )
                )
        return found


def _lookup_loaded(table: str, numbers: set[str]) -> dict[str, LoadedRecord]:
    return {r.number: r for r in LoadedRecord.objects.filter(table=table, number__in=numbers)}


# --------------------------------------------------------------------------- the passes


@dataclass
class Pass:
    job: LoadJob
    context: Context
    on_row: RowCallback | None = None
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    samples: dict[str, list] = field(default_factory=lambda: {s: [] for s in STATUSES})
    # Check pass: the status each row was counted with, so that a duplicate found later can move it.
    row_status: dict[tuple[int, int], str] = field(default_factory=dict)
    # False: the check only reads and validates the rows (no lookups), for a load applied right after
    # it (the command line): the apply pass classifies each row against the database anyway.
    classify: bool = True


def ordered_files(job: LoadJob) -> list[LoadFile]:
    return list(job.files.order_by("position"))


def check_job(job: LoadJob, on_row: RowCallback | None = None, classify: bool = True) -> Pass:
    """Pass 1: read and check every file, classify every row; write only the job and its issues.

    Raises LoadRefused when a file cannot be used (the job is marked refused by the caller).
    """
    context = Context.build(job.origin, applying=False)
    state = Pass(job=job, context=context, on_row=on_row, classify=classify)
    LoadIssue.objects.filter(job=job).delete()
    opened = []
    for load_file in ordered_files(job):
        try:
            item = open_file(load_file.path, load_file.name, load_file.table, job.origin)
        except SpreadsheetError as exc:
            raise LoadRefused(f"{load_file.name}：{exc.message}") from exc
        except LoadRefused as exc:
            raise LoadRefused(f"{load_file.name}：{exc.message}") from exc
        except OSError as exc:
            raise LoadRefused(f"{load_file.name}：文件无法读取") from exc
        load_file.table = item.table
        opened.append((load_file, item))
    opened.sort(key=lambda pair: (T.TABLE_ORDER.index(pair[1].table), pair[0].position))
    for position, (load_file, _item) in enumerate(opened):  # two steps: position is unique per job
        LoadFile.objects.filter(pk=load_file.pk).update(position=1000 + position)
    for position, (load_file, _item) in enumerate(opened):
        load_file.position = position
        LoadFile.objects.filter(pk=load_file.pk).update(position=position, table=load_file.table)
    total = 0
    for load_file, item in opened:
        try:
            rows = _run_file(state, load_file, item, applying=False)
        except SpreadsheetError as exc:
            raise LoadRefused(f"{load_file.name}：{exc.message}") from exc
        if rows == 0:
            raise LoadRefused(f"{load_file.name}：{NO_ROWS}")
        load_file.rows = rows
        LoadFile.objects.filter(pk=load_file.pk).update(rows=rows)
        total += rows
    job.total_rows = total
    job.check_counts = state.counts
    job.samples = state.samples
    job.new_orgs = context.new_orgs[:5000]
    return state


def apply_job(
    job: LoadJob, on_row: RowCallback | None = None, heartbeat: Callable[[], None] | None = None
) -> Pass:
    """Pass 2: write the checked files batch by batch, resuming after the last committed batch."""
    context = Context.build(job.origin, applying=True)
    state = Pass(job=job, context=context, on_row=on_row)
    state.counts.update(job.apply_counts or {})
    context.new_orgs = list(job.new_orgs if job.apply_counts else [])
    for load_file in ordered_files(job):
        if load_file.applied:
            continue
        item = open_file(load_file.path, load_file.name, load_file.table, job.origin)
        _run_file(state, load_file, item, applying=True, heartbeat=heartbeat)
    return state


def _run_file(
    state: Pass,
    load_file: LoadFile,
    item: Opened,
    *,
    applying: bool,
    heartbeat: Callable[[], None] | None = None,
) -> int:
    batch_size = settings.LOAD_BATCH_SIZE
    table = item.table
    key = T.KEY[table]
    skip_to = load_file.next_row if applying else 0
    refused_rows: dict[int, list[tuple[str, str]]] = {}
    if applying:
        # Rows refused by the check stay refused (a duplicate, for one, cannot be seen again from here).
        for row, errors in LoadIssue.objects.filter(
            file=load_file, phase=LoadIssue.Phase.CHECK, status="error"
        ).values_list("row", "errors"):
            refused_rows[row] = [(e["column"], e["message"]) for e in errors]
    seen: dict[str, int] = {}
    pending: list[T.CheckedRow] = []
    count = 0
    for number, raw in item.rows:
        count += 1
        if number <= skip_to:
            continue
        checked = T.check_row(table, number, raw, state.context.counties)
        if applying and number in refused_rows:
            checked.errors = refused_rows[number]
        key_value = str(checked.values.get(key) or "")
        if not applying and key_value and table not in (T.PERMIT_STAFF, T.CENSOR_STAFF):
            first = seen.setdefault(key_value, number)
            if first != number:
                label = T.COLUMNS[table][key].label
                checked.errors.append(
                    (label, f"{label}{key_value}在本文件中出现了两次（第{first}行与第{number}行）")
                )
                _mark_duplicate_first(state, load_file, table, first, key_value, label, number)
        pending.append(checked)
        if len(pending) >= batch_size:
            _flush(
                state, load_file, table, item.present, pending, applying, last_row=number, heartbeat=heartbeat
            )
            pending = []
    if pending or applying:
        _flush(state, load_file, table, item.present, pending, applying, last_row=None, heartbeat=heartbeat)
    return count


def _mark_duplicate_first(
    state: Pass, load_file: LoadFile, table: str, first: int, number: str, label: str, again: int
) -> None:
    message = (label, f"{label}{number}在本文件中出现了两次（第{first}行与第{again}行）")
    issue = LoadIssue.objects.filter(
        job=state.job, file=load_file, phase=LoadIssue.Phase.CHECK, row=first
    ).first()
    if issue is None:
        # The first row was counted with its status already: move it to the errors.
        status = _status_of_row(state, load_file, first)
        if status:
            state.counts[status] -= 1
        state.counts["error"] += 1
        LoadIssue.objects.create(
            job=state.job,
            file=load_file,
            phase=LoadIssue.Phase.CHECK,
            row=first,
            table=table,
            number=number,
            status="error",
            errors=[{"column": message[0], "message": message[1]}],
        )
    else:
        if issue.status != "error":
            state.counts[issue.status] -= 1
            state.counts["error"] += 1
        issue.status = "error"
        issue.errors = [*issue.errors, {"column": message[0], "message": message[1]}]
        issue.save(update_fields=["status", "errors"])
    if table == T.PROJECT:
        state.context.pending_projects.pop(number, None)


def _status_of_row(state: Pass, load_file: LoadFile, row: int) -> str:
    return state.row_status.pop((load_file.pk, row), "")


def _flush(
    state: Pass,
    load_file: LoadFile,
    table: str,
    present: frozenset[str],
    rows: list[T.CheckedRow],
    applying: bool,
    last_row: int | None,
    heartbeat: Callable[[], None] | None,
) -> None:
    handler = HANDLERS[table]
    # Under DEBUG Django keeps the last 9,000 statements, each with a batch's worth of values:
    # forget them per batch, so that memory does not grow with the file.
    reset_queries()
    if not applying:
        if state.classify:
            outcomes = handler(state, table, present, rows, write=False)
        else:
            key = T.KEY[table]
            outcomes = [
                Outcome(r.row, str(r.values.get(key) or ""), "error", r.errors) for r in rows if r.errors
            ]
        _record(state, load_file, table, outcomes, LoadIssue.Phase.CHECK)
        state.job.done_rows += len(rows)
        LoadJob.objects.filter(pk=state.job.pk).update(
            done_rows=state.job.done_rows,
            lease_until=timezone.now() + dt.timedelta(seconds=settings.LOAD_LEASE_SECONDS),
        )
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Each batch commits with the job's position, so a batch lost to a server crash is simply
            # applied again on resume: no need to wait for the disk at every commit.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        outcomes = handler(state, table, present, rows, write=True)
        _record(state, load_file, table, outcomes, LoadIssue.Phase.APPLY)
        state.job.done_rows += len(rows)
        done = last_row is None
        LoadFile.objects.filter(pk=load_file.pk).update(
            next_row=last_row if last_row is not None else load_file.rows + 10**6, applied=done
        )
        if last_row is not None:
            load_file.next_row = last_row
        LoadJob.objects.filter(pk=state.job.pk).update(
            done_rows=state.job.done_rows,
            apply_counts=state.counts,
            new_orgs=state.context.new_orgs[:5000],
            lease_until=timezone.now() + dt.timedelta(seconds=settings.LOAD_LEASE_SECONDS),
        )
    if heartbeat is not None:
        heartbeat()


def _record(state: Pass, load_file: LoadFile, table: str, outcomes: list[Outcome], phase: str) -> None:
    issues = []
    for outcome in outcomes:
        state.counts[outcome.status] += 1
        if phase == LoadIssue.Phase.CHECK and outcome.status != "error":
            state.row_status[(load_file.pk, outcome.row)] = outcome.status
        if len(state.samples[outcome.status]) < SAMPLES_PER_STATUS:
            state.samples[outcome.status].append(
                {
                    "file": load_file.name,
                    "row": outcome.row,
                    "table": table,
                    "number": outcome.number,
                    "errors": [f"{c}：{m}" if c else m for c, m in outcome.errors],
                    "differences": outcome.differences,
                }
            )
        if outcome.status in ("error", "conflict"):
            issues.append(
                LoadIssue(
                    job=state.job,
                    file=load_file,
                    phase=phase,
                    row=outcome.row,
                    table=table,
                    number=outcome.number[:60],
                    status=outcome.status,
                    errors=[{"column": c, "message": m} for c, m in outcome.errors],
                    differences=outcome.differences,
                )
            )
        if state.on_row is not None:
            state.on_row(load_file, table, outcome)
    LoadIssue.objects.bulk_create(issues)


# --------------------------------------------------------------------------- classify and write


def _classify(
    state: Pass,
    table: str,
    rows: list[T.CheckedRow],
    targets: dict[int, dict[str, object]],
    existing: dict[str, dict],
    loaded: dict[str, LoadedRecord],
    key: str,
    draft_state: str,
) -> tuple[list[Outcome], list[T.CheckedRow], list[tuple[T.CheckedRow, dict, dict]]]:
    """Return (outcomes, rows to create, rows to update with (row, current, changed fields))."""
    outcomes: list[Outcome] = []
    to_create: list[T.CheckedRow] = []
    to_update: list[tuple[T.CheckedRow, dict, dict]] = []
    for row in rows:
        number = str(row.values.get(key) or "")
        if row.errors:
            outcomes.append(Outcome(row.row, number, "error", row.errors))
            continue
        current = existing.get(number)
        target = targets[row.row]
        if current is None:
            outcomes.append(Outcome(row.row, number, "new"))
            to_create.append(row)
            continue
        changed = {f: v for f, v in target.items() if _plain(current.get(f)) != _plain(v)}
        if not changed:
            outcomes.append(Outcome(row.row, number, "unchanged"))
            continue
        record = loaded.get(number)
        untouched = (
            record is not None
            and record.record_id == current["id"]
            and record.stamp == _stamp(current)
            and current.get("state", draft_state) == draft_state
        )
        if untouched:
            outcomes.append(Outcome(row.row, number, "updated"))
            to_update.append((row, current, changed))
        else:
            differences = [
                {"column": _field_label(table, f), "ours": _show(current.get(f)), "theirs": _show(v)}
                for f, v in changed.items()
            ]
            outcomes.append(
                Outcome(
                    row.row,
                    number,
                    "conflict",
                    [("", "该记录已由企业修改、提交或不是由导入生成，未覆盖：请核对两边的值")],
                    differences,
                )
            )
    return outcomes, to_create, to_update


def _stamp(current: dict) -> str:
    if "lock_version" in current:
        return str(current["lock_version"])
    return f"{current['updated_at'].timestamp():.6f}"


def _show(value: object) -> str:
    value = _plain(value)
    return "" if value is None else str(value)


FIELD_COLUMNS = {
    T.PROJECT: PROJECT_FIELDS,
    T.CENSOR: CENSOR_FIELDS,
    T.PERMIT: PERMIT_FIELDS,
}


def _field_label(table: str, name: str) -> str:
    column = FIELD_COLUMNS.get(table, {}).get(name, name)
    return COLUMN_LABEL.get(column, column)


def _insert(
    model, columns: tuple[str, ...], rows: list[tuple], conflict: str = "ON CONFLICT DO NOTHING"
) -> None:
    """Multi-row INSERTs (pages of 1,000 rows) into a plain link table; plain parameters, so the same
    statement runs on psycopg2, psycopg 3 and SQLite."""
    if not rows:
        return
    table = connection.ops.quote_name(model._meta.db_table)
    names = ", ".join(connection.ops.quote_name(c) for c in columns)
    sql = f"INSERT INTO {table} ({names}) VALUES %s {conflict}"  # noqa: S608 - quoted names from model meta
    row_marks = "(" + ", ".join(["%s"] * len(columns)) + ")"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), 1000):
            page = rows[start : start + 1000]
            cursor.execute(
                sql.replace("VALUES %s", "VALUES " + ", ".join([row_marks] * len(page))),
                [value for row in page for value in row],
            )


def _create(model, rows: list[dict]) -> list[SimpleNamespace]:
    """Insert new records in one multi-row INSERT … RETURNING id; return them as plain objects (the
    given values and `pk`). Fields not given take their model default, evaluated once per batch."""
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    names = [f.attname for f in fields]
    if connection.vendor != "postgresql":  # the SQLite demo database
        objects = model.objects.bulk_create([model(**row) for row in rows])
        return [SimpleNamespace(**{n: getattr(o, n) for n in names}, pk=o.pk) for o in objects]
    defaults = {f.attname: f.get_db_prep_save(f.get_default(), connection) for f in fields}
    values = [tuple(_db(row[n]) if n in row else defaults[n] for n in names) for row in rows]
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(n) for n in names)
    sql = f"INSERT INTO {table} ({columns}) VALUES %s RETURNING id"  # noqa: S608 - quoted names from model meta
    row_marks = "(" + ", ".join(["%s"] * len(names)) + ")"
    ids: list[tuple[int]] = []
    with connection.cursor() as cursor:
        for start in range(0, len(values), 1000):
            page = values[start : start + 1000]
            cursor.execute(
                sql.replace("VALUES %s", "VALUES " + ", ".join([row_marks] * len(page))),
                [value for row in page for value in row],
            )
            ids.extend(cursor.fetchall())
    return [
        SimpleNamespace(**{**dict.fromkeys(names), **row}, pk=pk)
        for (pk,), row in zip(ids, rows, strict=True)
    ]


def _db(value: object) -> object:
    return value.value if isinstance(value, Enum) else value


def _loaded_rows(
    state: Pass, table: str, created: list[tuple[str, int, str]], updated: list[tuple[str, int, str]]
) -> None:
    rows = [(table, n, pk, s, state.job.pk) for n, pk, s in [*created, *updated]]
    _insert(
        LoadedRecord,
        ("table", "number", "record_id", "stamp", "job_id"),
        rows,
        'ON CONFLICT ("table", "number") DO UPDATE SET record_id = EXCLUDED.record_id, '
        "stamp = EXCLUDED.stamp, job_id = EXCLUDED.job_id",
    )


def _parties(items: set[tuple[int, int, str]]) -> None:
    _insert(ProjectParty, ("project_id", "organization_id", "role"), sorted(items))


def handle_projects(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    context = state.context
    batch = Batch(context, table, present, state.job)
    orgs = batch._orgs(rows) if "BuildCorpCode" in present else {}
    fields = {f: c for f, c in PROJECT_FIELDS.items() if c in present}
    targets: dict[int, dict] = {}
    for row in rows:
        target = {}
        for f, c in fields.items():
            value = row.values.get(c)
            if f == "owner_org_id":
                value = orgs.get(value, (None,))[0] if value else None
            target[f] = value if value is not None else ("" if _is_text(Project, f) else None)
        targets[row.row] = target
    numbers = {str(row.values["PrjNum"]) for row in rows if row.values.get("PrjNum")}
    existing = {
        p["prj_num"]: p
        for p in Project.objects.filter(prj_num__in=numbers).values("id", "prj_num", "updated_at", *fields)
    }
    loaded = _lookup_loaded(table, numbers)
    outcomes, to_create, to_update = _classify(state, table, rows, targets, existing, loaded, "PrjNum", "")
    if not write:
        for row in rows:
            if not row.errors:
                context.pending_projects[str(row.values["PrjNum"])] = str(row.values.get("CountyNum") or "")
        return outcomes
    now = timezone.now()
    platform = context.origin == Origin.PLATFORM
    created = _create(
        Project,
        [
            dict(
                prj_num=row.values["PrjNum"],
                origin=context.origin,
                platform_synced_at=now if platform else None,
                created_at=now,
                updated_at=now,
                **dict(targets[row.row].items()),
            )
            for row in to_create
        ],
    )
    parties = {(p.pk, p.owner_org_id, R.OWNER) for p in created if p.owner_org_id}
    updates = []
    for row_, current, changed in to_update:
        project = Project(pk=current["id"], updated_at=now, **targets[row_.row])
        updates.append(project)
        if changed.get("owner_org_id"):
            parties.add((current["id"], changed["owner_org_id"], R.OWNER))
    if updates:
        Project.objects.bulk_update(updates, [*fields, "updated_at"])
    stamp = f"{now.timestamp():.6f}"
    _loaded_rows(
        state,
        table,
        [(p.prj_num, p.pk, stamp) for p in created],
        [(current["prj_num"], current["id"], stamp) for _row, current, _c in to_update],
    )
    _parties(parties)
    return outcomes


def _is_text(model, name: str) -> bool:
    field_ = model._meta.get_field(name.removesuffix("_id") if name.endswith("_id") else name)
    return field_.get_internal_type() in ("CharField", "TextField") and not field_.is_relation


def handle_censors(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    context = state.context
    batch = Batch(context, table, present, state.job)
    projects = batch._projects(rows)
    orgs = batch._orgs(rows)
    fields = {f: c for f, c in CENSOR_FIELDS.items() if c in present}
    targets = {}
    for row in rows:
        target = {}
        for f, c in fields.items():
            value = row.values.get(c)
            if f == "project_id":
                value = projects.get(value, (None,))[0] if value else None
            elif f.endswith("_org_id"):
                value = orgs.get(value, (None,))[0] if value else None
            target[f] = (
                value
                if value is not None
                else (
                    ""
                    if f in ("violations_content", "scale", "fire_censor_num", "civil_defense_censor_num")
                    else None
                )
            )
        targets[row.row] = target
    numbers = {str(row.values["CensorNum"]) for row in rows if row.values.get("CensorNum")}
    existing = {
        r["censor_num"]: r
        for r in DrawingReview.objects.filter(censor_num__in=numbers).values(
            "id", "censor_num", "lock_version", "state", *fields
        )
    }
    loaded = _lookup_loaded(table, numbers)
    platform = context.origin == Origin.PLATFORM
    expected_state = State.APPROVED if platform else State.DRAFT
    outcomes, to_create, to_update = _classify(
        state, table, rows, targets, existing, loaded, "CensorNum", expected_state
    )
    if not write:
        context.pending_censors.update(str(r.values["CensorNum"]) for r in to_create)
        return outcomes
    now = timezone.now()
    records = []
    for row in to_create:
        values = targets[row.row]
        records.append(
            dict(
                censor_num=row.values["CensorNum"],
                origin=context.origin,
                path=DrawingReview.Path.PLATFORM if platform else DrawingReview.Path.PMS,
                state=expected_state,
                approved_at=now if platform else None,
                lock_version=1,
                created_at=now,
                updated_at=now,
                **values,
            )
        )
    created = _create(DrawingReview, records)
    updates = []
    regrant = []
    for row_, current, changed in to_update:
        updates.append(
            DrawingReview(
                pk=current["id"],
                lock_version=current["lock_version"] + 1,
                updated_at=now,
                **targets[row_.row],
            )
        )
        if "owner_org_id" in changed:
            regrant.append(current["id"])
    if updates:
        DrawingReview.objects.bulk_update(updates, [*fields, "lock_version", "updated_at"])
    group_of = dict(orgs.values())
    if not platform:
        if regrant:
            DrawingReviewGroupObjectPermission.objects.filter(content_object_id__in=regrant).delete()
        perm = _permission(context, "change_drawingreview")
        grants = [(r.pk, r.owner_org_id) for r in created]
        grants += [(u.pk, u.owner_org_id) for u in updates if u.pk in regrant]
        _insert(
            DrawingReviewGroupObjectPermission,
            ("permission_id", "group_id", "content_object_id"),
            [(perm.pk, group_of[org], pk) for pk, org in grants],
        )
    parties = set()
    for record in created:
        parties.add((record.project_id, record.owner_org_id, R.DESIGN))
        parties.add((record.project_id, record.censor_org_id, R.REVIEW_INSTITUTION))
        if record.survey_org_id:
            parties.add((record.project_id, record.survey_org_id, R.SURVEY))
    for _row, current, changed in to_update:
        project = changed.get("project_id", current.get("project_id"))
        if project and changed.get("owner_org_id"):
            parties.add((project, changed["owner_org_id"], R.DESIGN))
    _parties({p for p in parties if p[0] and p[1]})
    _loaded_rows(
        state,
        table,
        [(r.censor_num, r.pk, "1") for r in created],
        [
            (current["censor_num"], current["id"], str(current["lock_version"] + 1))
            for _r, current, _c in to_update
        ],
    )
    return outcomes


def _permission(context: Context, codename: str) -> Permission:
    """The guardian permission granted to owners; looked up once per pass (never cached across
    passes: permission rows may be recreated, e.g. by a test database flush)."""
    if codename not in context.permissions:
        context.permissions[codename] = Permission.objects.get(
            content_type__app_label="projects", codename=codename
        )
    return context.permissions[codename]


def handle_permits(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    context = state.context
    batch = Batch(context, table, present, state.job)
    projects = batch._projects(rows)
    orgs = batch._orgs(rows)
    carried = set(present) | {"PrjNum", "ConsCorpCode"}
    fields = {
        f: c
        for f, c in PERMIT_FIELDS.items()
        if c in carried or f in ("issuing_org_id", "issuing_division_id")
    }
    if "IssueCertDate" not in present and "ReleaseDate" not in present:
        fields.pop("issue_date", None)
    bureau_division = {pk: division for pk, _group, division in context.orgs.values()}
    bureau_division.update(context.bureau_divisions)
    targets = {}
    for row in rows:
        target: dict[str, object] = {}
        prj = row.values.get("PrjNum")
        county = projects[prj][1] if prj in projects else context.pending_projects.get(str(prj), "")
        for f, c in fields.items():
            if f == "project_id":
                value = projects.get(prj, (None,))[0] if prj else None
            elif f == "issuing_org_id":
                code = row.values.get("IssueOrgCode")
                value = orgs.get(code, (None,))[0] if code else None
                if value is None and not code:
                    value = context.bureaus.get(county) or context.bureaus.get(
                        county[:4] + "00" if county else ""
                    )
                    if value is None and not row.errors:
                        row.errors.append(
                            (
                                "发证机关统一社会信用代码",
                                f"无法确定发证机关：项目所在地（{county or '未知'}）尚无住房城乡建设部门，请在文件中填写发证机关统一社会信用代码（IssueOrgCode）和名称",
                            )
                        )
            elif f == "issuing_division_id":
                continue
            elif f.endswith("_org_id"):
                value = orgs.get(row.values.get(c), (None,))[0] if row.values.get(c) else None
            elif f == "issue_date":
                value = row.values.get("IssueCertDate") or row.values.get("ReleaseDate")
            else:
                value = row.values.get(c)
            target[f] = value if value is not None else ("" if _is_text(ConstructionPermit, f) else None)
        issuing = target.get("issuing_org_id")
        if issuing:
            target["issuing_division_id"] = bureau_division.get(issuing)
        targets[row.row] = target
    numbers = {str(row.values["BuilderLicenceNum"]) for row in rows if row.values.get("BuilderLicenceNum")}
    compared = [f for f in fields if f in targets.get(rows[0].row, {})] if rows else []
    existing = {
        r["permit_num"]: r
        for r in ConstructionPermit.objects.filter(permit_num__in=numbers).values(
            "id", "permit_num", "lock_version", "state", *compared
        )
    }
    loaded = _lookup_loaded(table, numbers)
    platform = context.origin == Origin.PLATFORM
    expected_state = State.APPROVED if platform else State.DRAFT
    outcomes, to_create, to_update = _classify(
        state, table, rows, targets, existing, loaded, "BuilderLicenceNum", expected_state
    )
    if not write:
        context.pending_permits.update(o.number for o in outcomes if o.status != "error")
        return outcomes
    now = timezone.now()
    created = _create(
        ConstructionPermit,
        [
            dict(
                permit_num=row.values["BuilderLicenceNum"],
                origin=context.origin,
                state=expected_state,
                approved_at=now if platform else None,
                lock_version=1,
                created_at=now,
                updated_at=now,
                **targets[row.row],
            )
            for row in to_create
        ],
    )
    updates, regrant = [], []
    for row_, current, changed in to_update:
        updates.append(
            ConstructionPermit(
                pk=current["id"],
                lock_version=current["lock_version"] + 1,
                updated_at=now,
                **targets[row_.row],
            )
        )
        if "owner_org_id" in changed:
            regrant.append(current["id"])
    if updates:
        ConstructionPermit.objects.bulk_update(updates, [*compared, "lock_version", "updated_at"])
    group_of = dict(orgs.values())
    if not platform:
        if regrant:
            ConstructionPermitGroupObjectPermission.objects.filter(content_object_id__in=regrant).delete()
        perm = _permission(context, "change_constructionpermit")
        grants = [(r.pk, r.owner_org_id) for r in created] + [
            (u.pk, u.owner_org_id) for u in updates if u.pk in regrant
        ]
        _insert(
            ConstructionPermitGroupObjectPermission,
            ("permission_id", "group_id", "content_object_id"),
            [(perm.pk, group_of[org], pk) for pk, org in grants],
        )
    # Link the drawing reviews the export names (CensorNum), when they are in the system.
    if "CensorNum" in present:
        wanted = {}
        for record, row in zip(created, to_create, strict=True):
            for num in CENSOR_SPLIT_RE.split(str(row.values.get("CensorNum") or "")):
                if num:
                    wanted.setdefault(num, []).append(record)
        if wanted:
            through = ConstructionPermit.drawing_reviews.through
            reviews = DrawingReview.objects.filter(censor_num__in=wanted).values_list(
                "censor_num", "id", "project_id"
            )
            links = [
                (permit.pk, review_id)
                for num, review_id, project_id in reviews
                for permit in wanted[num]
                if permit.project_id == project_id
            ]
            _insert(through, ("constructionpermit_id", "drawingreview_id"), links)
    parties = set()
    for record in created:
        parties.add((record.project_id, record.owner_org_id, R.GENERAL_CONTRACTOR))
        if record.supervision_org_id:
            parties.add((record.project_id, record.supervision_org_id, R.SUPERVISION))
    for _row, current, changed in to_update:
        if changed.get("owner_org_id"):
            parties.add(
                (
                    changed.get("project_id") or current.get("project_id"),
                    changed["owner_org_id"],
                    R.GENERAL_CONTRACTOR,
                )
            )
    _parties({p for p in parties if p[0] and p[1]})
    _loaded_rows(
        state,
        table,
        [(r.permit_num, r.pk, "1") for r in created],
        [
            (current["permit_num"], current["id"], str(current["lock_version"] + 1))
            for _r, current, _c in to_update
        ],
    )
    return outcomes


def handle_permit_staff(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    """施工许可人员: the 项目负责人 (UserType 2) completes the permit's 项目经理 and certificate number;
    the permit must be in the system or in the same load. Other people have no place in the permit
    record and are checked only (reported unchanged)."""
    numbers = {str(row.values["BuilderLicenceNum"]) for row in rows if row.values.get("BuilderLicenceNum")}
    permits = {
        r["permit_num"]: r
        for r in ConstructionPermit.objects.filter(permit_num__in=numbers).values(
            "id", "permit_num", "lock_version", "state", "project_manager", "project_manager_cert"
        )
    }
    loaded = _lookup_loaded(T.PERMIT, numbers)
    outcomes = []
    for row in rows:
        number = str(row.values.get("BuilderLicenceNum") or "")
        current = permits.get(number)
        if not row.errors and current is None and number not in state.context.pending_permits:
            row.errors.append(("施工许可证编号", f"施工许可证{number}在系统中不存在，本次导入中也没有"))
        if row.errors:
            outcomes.append(Outcome(row.row, number, "error", row.errors))
            continue
        if current is None:  # check pass: the permit comes with the same load
            outcomes.append(
                Outcome(row.row, number, "updated" if row.values.get("UserType") == "2" else "unchanged")
            )
            continue
        if row.values.get("UserType") != "2":
            outcomes.append(Outcome(row.row, number, "unchanged"))
            continue
        wanted = {
            "project_manager": row.values.get("UserName") or "",
            "project_manager_cert": row.values.get("CertID") or "",
        }
        changed = {
            f: v
            for f, v in wanted.items()
            if current[f] != v and (f != "project_manager_cert" or "CertID" in present)
        }
        if not changed:
            outcomes.append(Outcome(row.row, number, "unchanged"))
            continue
        record = loaded.get(number)
        if (
            record
            and record.record_id == current["id"]
            and record.stamp == str(current["lock_version"])
            and current["state"] in (State.DRAFT, State.APPROVED)
        ):
            outcomes.append(Outcome(row.row, number, "updated"))
            if write:
                ConstructionPermit.objects.filter(pk=current["id"]).update(
                    lock_version=current["lock_version"] + 1, updated_at=timezone.now(), **changed
                )
                LoadedRecord.objects.filter(pk=record.pk).update(stamp=str(current["lock_version"] + 1))
                current.update(changed, lock_version=current["lock_version"] + 1)
                record.stamp = str(current["lock_version"])
        else:
            outcomes.append(
                Outcome(
                    row.row,
                    number,
                    "conflict",
                    [("", "该施工许可已由企业修改或提交，未覆盖")],
                    [{"column": "项目经理", "ours": current[f], "theirs": v} for f, v in changed.items()],
                )
            )
    return outcomes


def handle_censor_staff(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    """施工图审查勘察设计人员: checked against the drawing reviews; the drawing-review record has no
    place for them, so nothing is written (reported unchanged)."""
    numbers = {str(row.values["CensorNum"]) for row in rows if row.values.get("CensorNum")}
    known = set(DrawingReview.objects.filter(censor_num__in=numbers).values_list("censor_num", flat=True))
    known |= state.context.pending_censors
    outcomes = []
    for row in rows:
        number = str(row.values.get("CensorNum") or "")
        if not row.errors and number not in known:
            row.errors.append(
                ("施工图审查合格书编号", f"施工图审查合格书{number}在系统中不存在，本次导入中也没有")
            )
        outcomes.append(Outcome(row.row, number, "error" if row.errors else "unchanged", row.errors))
    return outcomes


def handle_platform(
    state: Pass, table: str, present: frozenset[str], rows: list[T.CheckedRow], write: bool
) -> list[Outcome]:
    """Platform-origin tenders, contracts and completion filings (notice 三): stored approved, never
    re-entered. Their volume is small, so they are written row by row inside the batch's transaction."""
    context = state.context
    batch = Batch(context, table, present, state.job)
    projects = batch._projects(rows)
    orgs = batch._orgs(rows)
    key = T.KEY[table]
    numbers = {str(row.values[key]) for row in rows if row.values.get(key)}
    loaded = _lookup_loaded(table, numbers)
    outcomes = []
    now = timezone.now()
    for row in rows:
        number = str(row.values.get(key) or "")
        if row.errors:
            outcomes.append(Outcome(row.row, number, "error", row.errors))
            continue
        project_id = projects.get(row.values["PrjNum"], (None,))[0]
        if table == T.TENDER:
            scope = TENDER_SCOPE[str(row.values["TenderClassNum"])]
            owner = orgs.get(row.values["TenderCorpCode"], (None,))[0]
            values = {
                "scope": scope,
                "tender_method": row.values["TenderTypeNum"],
                "tender_num": number,
                "tender_date": row.values.get("TenderResultDate"),
                "tender_amount": row.values.get("TenderMoney"),
                "area": row.values.get("Area"),
                "agency_name": row.values.get("AgencyCorpName") or "",
                "agency_code": row.values.get("AgencyCorpCode") or "",
                "project_leader": row.values.get("ConstructorName") or "",
                "scale": row.values.get("PrjSize") or "",
            }
            model, lookup = TenderContract, Q(tender_num=number)
        elif table == T.CONTRACT:
            scope = CONTRACT_SCOPE[str(row.values["ContractTypeNum"])]
            owner = orgs.get(row.values["ContractorCorpCode"], (None,))[0]
            values = {
                "scope": scope,
                "contract_num": row.values["ContractNum"],
                "contract_type": row.values["ContractTypeNum"],
                "contract_amount": row.values.get("ContractMoney"),
                "contract_date": row.values.get("ContractDate"),
                "client_name": row.values.get("PropietorCorpName") or "",
                "client_code": row.values.get("PropietorCorpCode") or "",
                "union_name": row.values.get("UnionCorpName") or "",
                "union_code": row.values.get("UnionCorpCode") or "",
                "project_leader": row.values.get("PrjHead") or "",
                "scale": row.values.get("PrjSize") or "",
            }
            model, lookup = TenderContract, Q(contract_num=row.values["ContractNum"])
        else:
            owner = orgs.get(row.values["ConsCorpCode"], (None,))[0]
            values = {
                "filing_num": number,
                "actual_start": row.values.get("BDate"),
                "acceptance_date": row.values.get("EDate"),
                "actual_cost": row.values.get("FactCost"),
                "actual_area": row.values.get("FactArea"),
                "actual_scale": row.values.get("FactSize") or "",
                "qc_org_name": row.values.get("QCCorpName") or "",
                "remark": row.values.get("Mark") or "",
            }
            model, lookup = Completion, Q(filing_num=number)
        values = {k: v for k, v in values.items() if k in ("scope",) or _column_of(table, k) in present}
        if project_id is None:  # the project comes from this same load (check pass)
            outcomes.append(Outcome(row.row, number, "new"))
            continue
        values.update(project_id=project_id, owner_org_id=owner)
        current = (
            model.objects.filter(lookup, project_id=project_id)
            .values("id", "lock_version", "state", *values)
            .first()
        )
        if current is None:
            outcomes.append(Outcome(row.row, number, "new"))
            if write:
                if table == T.TENDER:
                    values.setdefault("contract_type", SCOPE_CONTRACT_TYPE[scope])
                if table == T.CONTRACT:
                    values.setdefault("tender_method", TenderMethod.OTHER)
                record = model.objects.create(
                    state=State.APPROVED, origin=Origin.PLATFORM, approved_at=now, **values
                )
                _loaded_rows(state, table, [(number, record.pk, str(record.lock_version))], [])
                role = SCOPE_ROLE[values["scope"]] if "scope" in values else R.GENERAL_CONTRACTOR
                _parties({(project_id, owner, role)})
            continue
        changed = {f: v for f, v in values.items() if _plain(current.get(f)) != _plain(v)}
        if not changed:
            outcomes.append(Outcome(row.row, number, "unchanged"))
            continue
        record = loaded.get(number)
        if record and record.record_id == current["id"] and record.stamp == str(current["lock_version"]):
            outcomes.append(Outcome(row.row, number, "updated"))
            if write:
                model.objects.filter(pk=current["id"]).update(
                    lock_version=current["lock_version"] + 1, updated_at=now, **changed
                )
                _loaded_rows(state, table, [], [(number, current["id"], str(current["lock_version"] + 1))])
        else:
            outcomes.append(
                Outcome(
                    row.row,
                    number,
                    "conflict",
                    [("", "该记录已由企业录入或修改，未覆盖：请核对两边的值")],
                    [
                        {"column": f, "ours": _show(current.get(f)), "theirs": _show(v)}
                        for f, v in changed.items()
                    ],
                )
            )
    return outcomes


PLATFORM_COLUMN = {
    "tender_method": "TenderTypeNum",
    "tender_num": "TenderNum",
    "tender_date": "TenderResultDate",
    "tender_amount": "TenderMoney",
    "area": "Area",
    "agency_name": "AgencyCorpName",
    "agency_code": "AgencyCorpCode",
    "project_leader": "ConstructorName",
    "scale": "PrjSize",
    "contract_num": "ContractNum",
    "contract_type": "ContractTypeNum",
    "contract_amount": "ContractMoney",
    "contract_date": "ContractDate",
    "client_name": "PropietorCorpName",
    "client_code": "PropietorCorpCode",
    "union_name": "UnionCorpName",
    "union_code": "UnionCorpCode",
    "filing_num": "PrjFinishNum",
    "actual_start": "BDate",
    "acceptance_date": "EDate",
    "actual_cost": "FactCost",
    "actual_area": "FactArea",
    "actual_scale": "FactSize",
    "qc_org_name": "QCCorpName",
    "remark": "Mark",
}


def _column_of(table: str, name: str) -> str:
    if table == T.CONTRACT and name == "project_leader":
        return "PrjHead"
    return PLATFORM_COLUMN.get(name, name)


HANDLERS = {
    T.PROJECT: handle_projects,
    T.CENSOR: handle_censors,
    T.PERMIT: handle_permits,
    T.PERMIT_STAFF: handle_permit_staff,
    T.CENSOR_STAFF: handle_censor_staff,
    T.TENDER: handle_platform,
    T.CONTRACT: handle_platform,
    T.FINISH: handle_platform,
}


# --------------------------------------------------------------------------- audit


def audit_load(job: LoadJob, actor=None, ip: str | None = None) -> None:
    """One audit entry for the whole load, with every file's SHA-256 and the counts."""
    files = [
        {"name": f.name, "sha256": f.sha256, "table": f.table, "rows": f.rows, "size": f.size}
        for f in job.files.order_by("position")
    ]
    audit.record(
        action=AuditEntry.Action.IMPORT,
        actor=actor,
        object_type="load_job",
        object_id=job.pk,
        reason=f"导入存量数据（{'省一体化平台办理' if job.origin == Origin.PLATFORM else '省工程项目管理系统已有'}）："
        + "、".join(f"{f['name']}（SHA-256 {f['sha256'][:16]}…）" for f in files),
        data={
            "origin": job.origin,
            "source": job.source,
            "files": files,
            "counts": job.apply_counts,
            "new_organizations": len(job.new_orgs),
        },
        ip=ip,
    )


def store_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "loads"


def json_line(load_file: LoadFile, table: str, outcome: Outcome) -> str:
    return json.dumps(
        {
            "file": load_file.name,
            "row": outcome.row,
            "table": table,
            "number": outcome.number,
            "status": outcome.status,
            "errors": [{"column": c, "message": m} for c, m in outcome.errors],
            "differences": outcome.differences,
        },
        ensure_ascii=False,
    )


def worker_name() -> str:
    return f"{os.uname().nodename}:{os.getpid()}"
