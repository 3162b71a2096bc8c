"""The progress boards (进度看板): thin views over boards.selectors; every board exports to .xlsx
(`?as=xlsx`) and prints (its 打印 button, static/css/print.css)."""

from __future__ import annotations

import itertools

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from boards import scope as boards_scope
from boards import selectors
from boards.aggregates import STAGE_KIND, STAGE_MODELS, STATES
from projects.models import DataLevel, State
from projects.stages import REVIEW_STAGES
from yunjian.core import spreadsheets
from yunjian.core.pagination import keyset_page

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
STATE_LABELS = {str(s): str(State(s).label) for s in STATES}


def _stage(request: HttpRequest) -> str:
    stage = request.GET.get("stage", "")
    return stage if stage in REVIEW_STAGES else ""


def _xlsx(title: str, rows, filename: str) -> HttpResponse:
    response = HttpResponse(
        spreadsheets.write_xlsx(title, rows, bold_rows=(1, 2), frozen_rows=2), content_type=XLSX
    )
    response["Content-Disposition"] = content_disposition_header(
        as_attachment=True, filename=f"{filename}-{timezone.localdate():%Y%m%d}.xlsx"
    )
    return response


@require_GET
@login_required
def board(request: HttpRequest) -> HttpResponse:
    """A division's board: its prefectures or counties (or, for a county, its stages) by state,
    backlog, throughput and enterprises; a row opens the division below it."""
    division, scope = boards_scope.division_in_scope(request.user, request.GET.get("division"))
    stage = _stage(request)
    data = selectors.board(division, stage, scope)
    heading = [label for _key, label in selectors.COLUMNS]
    if request.GET.get("as") == "xlsx":
        title = f"{division.name} {data.stage_label} 进度（{timezone.localdate():%Y-%m-%d}）"
        first = "环节" if data.rows_are_stages else "地区"
        body = ([row.label, *row.cells] for row in [*data.rows, data.total])
        return _xlsx(
            "进度看板", itertools.chain([[title], [first, *heading]], body), f"进度看板-{division.name}"
        )
    context = {
        "data": data,
        "columns": selectors.COLUMNS,
        "stages": [(str(s), selectors.STAGE_LABELS[s]) for s in REVIEW_STAGES],
        "stage": stage,
        "state_keys": [str(s) for s in STATES],
        "today": timezone.localdate(),
        "wide": len(scope) > 1 or scope[0] != division.code,
    }
    return render(request, "boards/board.html", context)


@require_GET
@login_required
def records(request: HttpRequest) -> HttpResponse:
    """The records behind a figure of a county's board: one stage, one state, keyset-paged; each opens
    its record page (where the user may see it)."""
    division, _scope = boards_scope.division_in_scope(request.user, request.GET.get("division"))
    stage = _stage(request) or str(REVIEW_STAGES[0])
    state = request.GET.get("state", "")
    if state not in STATE_LABELS:
        state = str(State.IN_REVIEW)
    level = request.GET.get("level", "")
    if level not in DataLevel.values:
        level = ""
    low, high = division.code_range
    queryset = (
        STAGE_MODELS[stage]
        .objects.filter(project__county_id__gte=low, project__county_id__lt=high, state=state)
        .select_related("project", "project__county", "owner_org")
    )
    if level:
        queryset = queryset.filter(data_level=level)
    page = keyset_page(queryset, request, key="id")
    context = {
        "division": division,
        "stage": stage,
        "stage_label": selectors.STAGE_LABELS[stage],
        "kind": STAGE_KIND[stage],
        "state": state,
        "state_label": STATE_LABELS[state],
        "states": list(STATE_LABELS.items()),
        "level": level,
        "levels": DataLevel.choices,
        "page": page,
    }
    return render(request, "boards/records.html", context)


@require_GET
@login_required
def design(request: HttpRequest) -> HttpResponse:
    """The design division's board: drawing reviews by design unit or by institution and state."""
    boards_scope.design_board_allowed(request.user)
    role = request.GET.get("role", "design")
    if role not in selectors.ORG_ROLES:
        role = "design"
    label = selectors.ORG_ROLES[role]
    heading = ["单位", *STATE_LABELS.values(), "合计"]
    if request.GET.get("as") == "xlsx":
        rows = selectors.org_board(role, limit=None)
        body = ([r.label, *(r.cell(s) for s in STATE_LABELS), r.cell("total")] for r in rows)
        title = f"施工图审查信息（按{label}，{timezone.localdate():%Y-%m-%d}）"
        return _xlsx("图审看板", itertools.chain([[title], heading], body), f"图审看板-{label}")
    context = {
        "rows": selectors.org_board(role),
        "role": role,
        "role_label": label,
        "roles": list(selectors.ORG_ROLES.items()),
        "state_keys": list(STATE_LABELS),
        "heading": heading,
        "today": timezone.localdate(),
    }
    return render(request, "boards/design.html", context)


@require_GET
@login_required
def trend(request: HttpRequest) -> HttpResponse:
    """The share approved over the daily snapshots, per prefecture (or county), with the date each
    reaches the campaign's target at its current rate."""
    division, scope = boards_scope.division_in_scope(request.user, request.GET.get("division"))
    stage = _stage(request)
    series, campaign = selectors.trend(division, stage)
    stage_label = selectors.STAGE_LABELS.get(stage, "全部环节")
    if request.GET.get("as") == "xlsx":
        days = sorted({day for s in series for day, _p in s.points})
        heading = ["地区", "已认定", "记录总数", "预计达到目标", *(f"{d:%m-%d}" for d in days)]
        body = []
        for s in series:
            percent = dict(s.points)
            body.append(
                [
                    s.label,
                    s.approved,
                    s.total,
                    s.verdict,
                    *(round(percent[d], 1) if d in percent else None for d in days),
                ]
            )
        title = f"{division.name} {stage_label} 已认定占比趋势（%）"
        return _xlsx("进度趋势", itertools.chain([[title], heading], body), f"进度趋势-{division.name}")
    context = {
        "division": division,
        "series": series,
        "campaign": campaign,
        "stage": stage,
        "stage_label": stage_label,
        "stages": [(str(s), selectors.STAGE_LABELS[s]) for s in REVIEW_STAGES],
        "today": timezone.localdate(),
        "breadcrumbs": selectors.breadcrumbs(division, scope),
    }
    return render(request, "boards/trend.html", context)
