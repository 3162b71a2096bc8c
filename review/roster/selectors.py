"""Reads of the roster: the province overview, one prefecture's lines, the summary export.

Each reads in a constant number of queries, whatever the number of lines.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Case, CharField, Count, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce

from projects.stages import REVIEW_STAGES, Stage
from review.models import ReviewerAssignment
from review.roster.activation import pending_accounts
from review.roster.apply import STAGE_ORDER, place_label
from review.roster.excel import SummaryPerson
from review.roster.parse import STAGE_TEXT, BureauResolver
from yunjian.core import crypto
from yunjian.core.models import Division, Organization, User, Zone

EXPORT_LIMIT = 100_000
# Column heads of the overview: the full stage names do not fit a 1366-pixel screen side by side.
SHORT_STAGE = {
    Stage.DRAWING_REVIEW: "施工图审查",
    Stage.PERMIT: "施工许可",
    Stage.TENDER_CONTRACT: "招投标及合同",
    Stage.COMPLETION: "竣工验收及备案",
    Stage.SPECIALTY_BASIC: "直接发包专业承包",
}


@dataclass(frozen=True)
class Roster:
    """A prefecture (or zone) whose bureau reports a roster."""

    key: str
    label: str


def rosters() -> list[Roster]:
    """The 16 prefectures in code order, then the zones."""
    prefectures = Division.objects.filter(level=Division.Level.PREFECTURE).order_by("code")
    return [Roster(code, name) for code, name in prefectures.values_list("code", "name")] + [
        Roster(slug, name) for slug, name in Zone.objects.order_by("name").values_list("slug", "name")
    ]


def roster_for_key(key: str) -> Roster | None:
    if key.isdigit():
        name = (
            Division.objects.filter(code=key, level=Division.Level.PREFECTURE)
            .values_list("name", flat=True)
            .first()
        )
    else:
        name = Zone.objects.filter(slug=key).values_list("name", flat=True).first()
    return Roster(key, name) if name else None


def liaison_keys(user: User) -> list[str]:
    """The rosters `user` is the liaison (州（市）联络员) of."""
    return sorted(
        set(
            ReviewerAssignment.objects.filter(user=user, stage=Stage.LIAISON).values_list(
                "roster_key", flat=True
            )
        )
    )


def overview() -> dict:
    """Per prefecture: its liaison(s) and the number of people per stage. Five queries."""
    counts: dict[str, dict[str, int]] = defaultdict(dict)
    for key, stage, number in (
        ReviewerAssignment.objects.order_by().values_list("roster_key", "stage").annotate(n=Count("id"))
    ):
        counts[key][stage] = number
    liaisons: dict[str, list[str]] = defaultdict(list)
    for key, name, phone in (
        ReviewerAssignment.objects.filter(stage=Stage.LIAISON)
        .order_by("roster_key", "id")
        .values_list("roster_key", "user__full_name", "user__phone")
    ):
        liaisons[key].append(f"{name}（{phone}）" if phone else name)
    lines = []
    for roster in rosters():
        per_stage = counts.get(roster.key, {})
        lines.append(
            {
                "key": roster.key,
                "label": roster.label,
                "liaisons": "、".join(liaisons.get(roster.key, [])),
                "stage_counts": [per_stage.get(stage.value, 0) for stage in REVIEW_STAGES],
                "total": sum(per_stage.values()),
            }
        )
    return {
        "lines": lines,
        "stages": [(SHORT_STAGE[stage], STAGE_TEXT[stage]) for stage in REVIEW_STAGES],
        "total": sum(line["total"] for line in lines),
        "reported": sum(1 for line in lines if line["total"]),
        "pending": pending_accounts().count(),
    }


def _ordered(queryset: QuerySet[ReviewerAssignment]) -> QuerySet[ReviewerAssignment]:
    """Place (the prefecture before its counties), then the stages in 附件2's order."""
    return queryset.annotate(
        place=Coalesce("division_id", "zone__slug", output_field=CharField()),
        stage_order=Case(
            *[When(stage=stage, then=Value(order)) for stage, order in STAGE_ORDER.items()],
            output_field=IntegerField(),
        ),
    ).select_related("user", "user__organization", "division__parent", "zone")


def roster_lines(key: str) -> QuerySet[ReviewerAssignment]:
    """One roster's lines, for keyset pages on (place, stage_order, id)."""
    return _ordered(ReviewerAssignment.objects.filter(roster_key=key))


def display_line(assignment: ReviewerAssignment, *, full_id: bool) -> dict:
    user = assignment.user
    liaison = assignment.stage == Stage.LIAISON
    id_number = user.id_number if user.id_number_encrypted else ""
    return {
        "place": place_label(assignment),
        "name": user.full_name,
        "username": user.username,
        "user_id": user.pk,
        "department": user.department,
        "title": user.title,
        "has_ca": None if liaison else user.has_ca_certificate,
        "id_number": id_number if full_id else crypto.mask_id_number(id_number),
        "stage": STAGE_TEXT.get(Stage(assignment.stage), assignment.stage),
        "phone": user.phone,
        "active": user.has_usable_password(),
        "is_liaison": liaison,
    }


def summary_groups(*, key: str | None, full_id: bool) -> list[tuple[str, list[SummaryPerson]]]:
    """The lines of one roster (or all) in 附件2's columns, grouped by prefecture.

    ID numbers are masked unless `full_id` (only for province admins who asked, and audited by
    the caller). The bureau column names the bureau of the line's place, so the export reads
    back in as a roster.
    """
    queryset = (
        ReviewerAssignment.objects.all() if key is None else ReviewerAssignment.objects.filter(roster_key=key)
    )
    lines = list(_ordered(queryset).order_by("roster_key", "place", "stage_order", "id")[:EXPORT_LIMIT])
    labels = {roster.key: roster.label for roster in rosters()}
    bureau_names = _bureau_names()
    groups: dict[str, list[SummaryPerson]] = {}
    for assignment in lines:
        line = display_line(assignment, full_id=full_id)
        groups.setdefault(assignment.roster_key, []).append(
            SummaryPerson(
                bureau=_bureau_name(assignment, bureau_names),
                name=line["name"],
                department=line["department"],
                title=line["title"],
                has_ca=line["has_ca"],
                id_number="" if line["is_liaison"] else line["id_number"],
                stage_label=line["stage"],
                phone=line["phone"],
            )
        )
    order = {roster_key: position for position, roster_key in enumerate(labels)}
    return [
        (labels.get(roster_key, roster_key), people)
        for roster_key, people in sorted(groups.items(), key=lambda item: order.get(item[0], len(order)))
    ]


def _bureau_names() -> dict[str, str]:
    """Division code (or zone:slug) → the name of its housing bureau, where that name reads back."""
    resolver = BureauResolver.default()
    names: dict[str, str] = {}
    for name, division_id, zone_slug in (
        Organization.objects.filter(kinds__contains=f"|{Organization.Kind.HOUSING_BUREAU}|")
        .order_by("pk")
        .values_list("name", "division_id", "zone__slug")
    ):
        key = f"zone:{zone_slug}" if zone_slug else division_id
        jurisdiction = resolver.resolve(name)
        if key in names or jurisdiction is None:
            continue
        if (jurisdiction.zone_slug and f"zone:{jurisdiction.zone_slug}" == key) or (
            jurisdiction.division_code == division_id and not zone_slug
        ):
            names[key] = name
    return names


def _bureau_name(assignment: ReviewerAssignment, names: dict[str, str]) -> str:
    if assignment.zone_id:
        return names.get(f"zone:{assignment.zone.slug}", f"{assignment.zone.name}规划建设管理部")
    return names.get(assignment.division_id, f"{place_label(assignment)}住房和城乡建设局")


def all_pending() -> QuerySet[User]:
    return pending_accounts().select_related("organization")
