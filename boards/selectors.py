"""What the boards show, read from the aggregate tables only (never the record tables): a fixed
number of queries whatever the number of records or of rows (tests/boards: query counts and plans)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Count, Max, Q, Sum
from django.db.models.functions import Substr
from django.utils import timezone

from boards.aggregates import STATES
from boards.models import Figures, OrgCount, ReviewerFigures, Snapshot, StateCount
from projects.models import State
from projects.stages import REVIEW_STAGES, Stage
from yunjian.core.models import Campaign, Division, Organization

STAGE_LABELS = {
    Stage.DRAWING_REVIEW: "施工图审查",
    Stage.PERMIT: "施工许可",
    Stage.TENDER_CONTRACT: "招投标及合同",
    Stage.COMPLETION: "竣工验收及备案",
    Stage.SPECIALTY_BASIC: "专业承包基本信息",
}
FIGURE_FIELDS = (
    "overdue",
    "age_0_5",
    "age_6_10",
    "age_11_20",
    "age_over_20",
    "unroutable",
    "decided_4w",
    "returned_4w",
    "days_4w",
    "acknowledged",
    "entered_orgs",
    "verified_orgs",
    "blocked_orgs",
)
# The board's columns: (key, heading) in order; the xlsx and the print use the same.
COLUMNS = (
    ("draft", "草稿"),
    ("in_review", "审核中"),
    ("returned", "已退回"),
    ("approved", "已认定"),
    ("revoked", "已撤销认定"),
    ("acknowledged", "平台已接收"),
    ("overdue", "逾期"),
    ("age_0_5", "积压0–5个工作日"),
    ("age_6_10", "6–10"),
    ("age_11_20", "11–20"),
    ("age_over_20", ">20"),
    ("unroutable", "无人审核"),
    ("per_week", "近四周周均办结"),
    ("mean_days", "平均办理天数"),
    ("median_days", "办理天数中位数"),
    ("return_rate", "退回率"),
    ("entered_orgs", "已录入企业"),
    ("verified_orgs", "全部认定企业"),
    ("blocked_orgs", "有退回企业"),
)


@dataclass
class Row:
    key: str
    label: str
    link: str = ""  # the query string of the drill-down ("" for none)
    values: dict = field(default_factory=dict)

    def cell(self, key: str):
        return self.values.get(key, 0)

    @property
    def cells(self) -> list:
        return [self.cell(key) for key, _ in COLUMNS]

    @property
    def state_cells(self) -> list[int]:
        return [self.values.get(str(s), 0) for s in STATES]

    @property
    def pairs(self) -> list[tuple[str, object]]:
        return [(key, self.cell(key)) for key, _ in COLUMNS]

    def add(self, other: Row) -> None:
        for key, value in other.values.items():
            if isinstance(value, (int, float)) and key not in DERIVED:
                self.values[key] = self.values.get(key, 0) + value

    def derive(self) -> None:
        v = self.values
        decided = v.get("decided_4w", 0)
        v["per_week"] = round(decided / 4, 1)
        v["mean_days"] = round(v.get("days_4w", 0) / decided, 1) if decided else "—"
        v["return_rate"] = f"{100 * v.get('returned_4w', 0) / decided:.0f}%" if decided else "—"
        v["total"] = sum(v.get(s, 0) for s in STATES)
        # A median does not add up: shown for one county and stage only (a county's stage rows).
        v["median_days"] = v.get("median_days") if v.get("median_days") is not None else "—"


DERIVED = {"per_week", "mean_days", "return_rate", "total", "median_days"}


def _child_key(division: Division):
    """How the rows under `division` group the county codes: by prefecture (4 digits) or county."""
    return Substr("division_code", 1, 4) if division.level == Division.Level.PROVINCE else None


def _range_q(division: Division) -> Q:
    low, high = division.code_range
    return Q(division_code__gte=low, division_code__lt=high)


def _grouped(division: Division, stage: str, by: str) -> dict[str, dict]:
    """{group: {state or figure: value}} under `division`, grouped by child division or by stage."""
    where = _range_q(division) & (Q(stage=stage) if stage else Q())
    if by == "stage":
        key = "stage"
        counts = StateCount.objects.filter(where).values("stage", "state").annotate(v=Sum("n"))
        figures = (
            Figures.objects.filter(where)
            .values("stage")
            .annotate(
                **{f"f_{name}": Sum(name) for name in FIGURE_FIELDS},
                f_median=Max("median_days"),
                f_rows=Count("id"),
            )
        )
    else:
        expr = _child_key(division)
        group = {"g": expr} if expr is not None else {"g": Substr("division_code", 1, 6)}
        key = "g"
        counts = StateCount.objects.filter(where).values(**group).values("g", "state").annotate(v=Sum("n"))
        figures = (
            Figures.objects.filter(where)
            .values(**group)
            .values("g")
            .annotate(
                **{f"f_{name}": Sum(name) for name in FIGURE_FIELDS},
                f_median=Max("median_days"),
                f_rows=Count("id"),
            )
        )
    out: dict[str, dict] = {}
    for row in counts:
        out.setdefault(row[key], {})[row["state"]] = row["v"] or 0
    for row in figures:
        values = out.setdefault(row[key], {})
        for name in FIGURE_FIELDS:
            values[name] = row[f"f_{name}"] or 0
        if row["f_rows"] == 1:
            values["median_days"] = row["f_median"]
    return out


@dataclass
class Board:
    division: Division
    stage: str
    rows: list[Row]  # the child divisions (or, for a county, its stages)
    total: Row
    stage_rows: list[Row]  # this division's figures per stage
    rows_are_stages: bool
    breadcrumbs: list[Division]
    reviewers: list[ReviewerLine] = field(default_factory=list)

    @property
    def stage_label(self) -> str:
        return STAGE_LABELS.get(self.stage, "全部环节")


def board(division: Division, stage: str, scope: list[str]) -> Board:
    """The board of `division` (its child divisions as rows), for one stage or all."""
    children = []
    if division.level != Division.Level.COUNTY:
        children = list(Division.objects.filter(parent_id=division.code).order_by("code"))
    stage_values = _grouped(division, "", "stage")
    stage_rows = []
    for s in REVIEW_STAGES:
        row = Row(
            str(s), STAGE_LABELS[s], f"division={division.code}&stage={s}", stage_values.get(str(s), {})
        )
        row.derive()
        stage_rows.append(row)
    total = Row("total", f"{division.name}合计", values={})
    if children:
        values = _grouped(division, stage, "division")
        size = 4 if division.level == Division.Level.PROVINCE else 6
        rows = []
        for child in children:
            row = Row(
                child.code,
                child.name,
                f"division={child.code}&stage={stage}",
                values.get(child.code[:size], {}),
            )
            row.derive()
            rows.append(row)
            total.add(row)
        rows_are_stages = False
    else:
        rows = [r for r in stage_rows if not stage or r.key == stage]
        for row in rows:
            total.add(row)
        rows_are_stages = True
    total.derive()
    crumbs = breadcrumbs(division, scope)
    return Board(division, stage, rows, total, stage_rows, rows_are_stages, crumbs, reviewers(division))


def breadcrumbs(division: Division, scope: list[str]) -> list[Division]:
    """province → prefecture → county down to `division`, from the first the user may see (no query:
    the names come from the parent chain, one query for the chain)."""
    from boards.scope import covers

    codes = list(dict.fromkeys([division.code[:2] + "0000", division.code[:4] + "00", division.code]))
    codes = [c for c in codes if any(covers(outer, c) for outer in scope)]
    names = {d.code: d for d in Division.objects.filter(code__in=codes)}
    return [names[c] for c in codes if c in names]


@dataclass
class ReviewerLine:
    name: str
    organization: str
    per_week: float
    median_days: float | None
    return_rate: str


def reviewers(division: Division, limit: int = 50) -> list[ReviewerLine]:
    """The reviewers whose roster lines lie within `division`, by decisions of the last four weeks
    (most first): two queries, the roster and the reviewers' figures."""
    from review.models import ReviewerAssignment

    low, high = division.code_range
    people = {
        a["user_id"]: a
        for a in ReviewerAssignment.objects.filter(
            division_id__gte=low, division_id__lt=high, user__is_active=True
        )
        .values("user_id", "user__full_name", "user__username", "user__organization__name")
        .distinct()
    }
    figures = ReviewerFigures.objects.filter(user_id__in=list(people)).order_by("-decided_4w", "user_id")[
        :limit
    ]
    lines = []
    for f in figures:
        person = people[f.user_id]
        lines.append(
            ReviewerLine(
                person["user__full_name"] or person["user__username"],
                person["user__organization__name"] or "",
                round(f.decided_4w / 4, 1),
                f.median_days,
                f"{100 * f.returned_4w / f.decided_4w:.0f}%" if f.decided_4w else "—",
            )
        )
    return lines


# --- the design division's board ------------------------------------------------------------------------

ORG_ROLES = {"design": "设计单位", "institution": "施工图审查机构"}


def org_board(role: str, limit: int | None = 100) -> list[Row]:
    """Drawing reviews by design unit or institution and state, the most first."""
    states = [str(s) for s in STATES]
    grouped = (
        OrgCount.objects.filter(role=role)
        .values("org_id")
        .annotate(total=Sum("n"), **{s: Sum("n", filter=Q(state=s)) for s in states})
        .filter(total__gt=0)
        .order_by("-total", "org_id")
    )
    if limit:
        grouped = grouped[:limit]
    grouped = list(grouped)
    names = dict(Organization.objects.filter(pk__in=[g["org_id"] for g in grouped]).values_list("pk", "name"))
    rows = []
    for g in grouped:
        row = Row(
            str(g["org_id"]),
            names.get(g["org_id"], "（已删除的单位）"),
            values={s: g[s] or 0 for s in states},
        )
        row.derive()
        rows.append(row)
    return rows


# --- the trend ----------------------------------------------------------------------------------------


@dataclass
class Series:
    key: str
    label: str
    points: list[tuple[date, float]]  # (day, percent approved)
    approved: int = 0
    total: int = 0
    projected: date | None = None
    verdict: str = ""
    late: bool = False
    svg: str = ""


def campaign() -> Campaign | None:
    return Campaign.current()


def trend(division: Division, stage: str, days: int = 90) -> tuple[list[Series], Campaign | None]:
    """Per child division (prefectures of the province, counties of a prefecture; a county itself):
    the share approved over the daily snapshots, and when it reaches the campaign's target."""
    since = timezone.localdate() - timedelta(days=days)
    level = "prefecture" if division.level == Division.Level.PROVINCE else "county"
    rows = (
        Snapshot.objects.filter(_range_q(division), level=level, stage=stage, day__gte=since)
        .values("division_code", "day", "approved", "draft", "in_review", "returned", "revoked")
        .order_by("division_code", "day")
    )
    children = (
        list(Division.objects.filter(parent_id=division.code).order_by("code"))
        if division.level != Division.Level.COUNTY
        else [division]
    )
    by_key: dict[str, list] = {}
    for row in rows:
        by_key.setdefault(row["division_code"], []).append(row)
    current = campaign()
    series = []
    for child in children:
        points, approved, total = [], 0, 0
        for row in by_key.get(child.code, []):
            total = sum(row[s] or 0 for s in ("approved", "draft", "in_review", "returned", "revoked"))
            approved = row["approved"] or 0
            points.append((row["day"], 100.0 * approved / total if total else 0.0))
        s = Series(child.code, child.name, points, approved, total)
        project(s, current)
        series.append(s)
    return series, current


def project(series: Series, current: Campaign | None) -> None:
    """The date the series reaches the target at its rate over its last 14 days (or fewer)."""
    from boards.charts import line_chart

    target = current.target_percent if current else 100
    points = series.points
    if not points:
        series.verdict = "暂无快照"
    elif points[-1][1] >= target:
        series.verdict = "已达到目标"
    else:
        last_day, last = points[-1]
        window = [p for p in points if p[0] >= last_day - timedelta(days=14)]
        first_day, first = window[0]
        span = (last_day - first_day).days
        rate = (last - first) / span if span else 0.0
        if rate <= 0:
            series.verdict = "按当前进度无法达到目标"
            series.late = True
        else:
            series.projected = last_day + timedelta(days=math.ceil((target - last) / rate))
            series.late = bool(current and series.projected > current.deadline)
            series.verdict = f"预计 {series.projected:%Y-%m-%d} 达到目标"
    series.svg = line_chart(points, target, current.deadline if current else None, series.projected)


__all__ = ["COLUMNS", "STAGE_LABELS", "State", "board", "org_board", "trend"]
