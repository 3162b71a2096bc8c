"""Reads for the operators' pages and the project pages. Constant query counts, no full-table COUNT."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, QuerySet

from projects.models import Origin, Project
from sync.models import InboundRecord, Outbox, SyncConflict
from yunjian.core.pagination import Column, Page, Sorted, Sorting, keyset_page, sorted_page

Status = Outbox.Status
# Counts on the operators' page stop here ("1000+"): counting a backlog of millions is not worth a scan.
COUNT_CAP = 1000
OUTBOX_FILTERS = {
    "open": ("未同步（全部）", list(Outbox.OPEN)),
    Status.PENDING: ("待推送", [Status.PENDING]),
    Status.SENDING: ("推送中", [Status.SENDING]),
    Status.FAILED: ("失败待重试", [Status.FAILED]),
    Status.DEAD: ("需人工处理", [Status.DEAD]),
    Status.DELIVERED: ("已同步", [Status.DELIVERED]),
}


def outbox_rows(status: str) -> QuerySet[Outbox]:
    """Outbox rows of one filter (see OUTBOX_FILTERS), with what a list row shows; not the payload."""
    statuses = OUTBOX_FILTERS.get(status, OUTBOX_FILTERS["open"])[1]
    rows = Outbox.objects.select_related("project").defer("payload")
    if statuses == list(Outbox.OPEN):
        return rows.exclude(status=Status.DELIVERED)  # matches the partial index outbox_open_idx
    return rows.filter(status__in=statuses)


# The operators' list: newest first, or by table, or by attempts (the most retried first) across pages;
# outbox_status_attempts_idx serves the attempts order of one status.
OUTBOX_SORTING = Sorting(
    columns=(
        Column("id", ("id",), first_descending=True),
        Column("table", ("table",)),
        Column("attempts", ("attempts",), first_descending=True),
    ),
    default="-id",
)


def outbox_page(request, status: str) -> tuple[Page, Sorted]:
    return sorted_page(outbox_rows(status), request, OUTBOX_SORTING)


def capped_count(queryset: QuerySet) -> str:
    n = queryset[: COUNT_CAP + 1].count()
    return f"{COUNT_CAP}+" if n > COUNT_CAP else str(n)


def status_counts() -> dict[str, str]:
    """Undelivered rows per status, each count capped (one bounded query per status)."""
    counts = {s: capped_count(Outbox.objects.filter(status=s)) for s in Outbox.OPEN}
    counts["conflicts"] = capped_count(SyncConflict.objects.filter(status=SyncConflict.Status.OPEN))
    return counts


def conflict_page(request, status: str) -> Page:
    rows = SyncConflict.objects.select_related("project", "resolved_by")
    rows = rows.filter(status=status if status in SyncConflict.Status.values else SyncConflict.Status.OPEN)
    return keyset_page(rows, request, key="id", descending=True)


def project_outbox(project: Project, limit: int = 200) -> list[Outbox]:
    """Every version of the project's records sent or waiting, oldest first (bounded)."""
    return list(Outbox.objects.filter(project=project).defer("payload").order_by("id")[:limit])


def project_inbound(project: Project, limit: int = 200) -> list[InboundRecord]:
    return list(InboundRecord.objects.filter(project=project).order_by("id")[:limit])


def project_conflicts(project: Project, limit: int = 50) -> list[SyncConflict]:
    return list(SyncConflict.objects.filter(project=project).order_by("-id")[:limit])


# --- The project pages' status line (templates/sync/_project_status.html) ---------------------


@dataclass(frozen=True)
class SyncStatus:
    """A project's standing on the platform, in the words of templates/sync/_project_status.html.

    state: "platform" (came from the platform), "synced", "syncing", "problem" or "not_yet".
    """

    state: str
    synced_at: datetime | None = None
    waiting: int = 0  # rows not yet delivered (later records included)
    problems: int = 0  # rows failed or dead-lettered

    @property
    def css(self) -> str:
        return {
            "platform": "state-platform",
            "synced": "state-synced",
            "syncing": "state-pending",
            "problem": "state-failed",
        }.get(self.state, "state-draft")


def _status(project: Project, counts: dict[str, int]) -> SyncStatus:
    problems = counts.get(Status.FAILED, 0) + counts.get(Status.DEAD, 0)
    waiting = sum(counts.values())
    if project.origin == Origin.PLATFORM:
        return SyncStatus("platform", project.platform_synced_at, waiting, problems)
    if problems:
        return SyncStatus("problem", project.platform_synced_at, waiting, problems)
    if project.platform_synced_at is not None:
        return SyncStatus("synced", project.platform_synced_at, waiting, 0)
    if waiting:
        return SyncStatus("syncing", None, waiting, 0)
    return SyncStatus("not_yet")


def project_sync_status(project: Project) -> SyncStatus:
    """The status line of one project page: one query (undelivered rows of the project, by status)."""
    counts = dict(
        Outbox.objects.filter(project=project)
        .exclude(status=Status.DELIVERED)
        .values_list("status")
        .annotate(n=Count("id"))
        .values_list("status", "n")
    )
    return _status(project, counts)


def project_sync_statuses(projects: list[Project]) -> dict[int, SyncStatus]:
    """The status of each project of a list page: one query whatever the number of projects."""
    counts: dict[int, dict[str, int]] = {p.pk: {} for p in projects}
    rows = (
        Outbox.objects.filter(project__in=[p.pk for p in projects])
        .exclude(status=Status.DELIVERED)
        .values_list("project_id", "status")
        .annotate(n=Count("id"))
        .values_list("project_id", "status", "n")
    )
    for project_id, status, n in rows:
        counts[project_id][status] = n
    return {p.pk: _status(p, counts[p.pk]) for p in projects}
