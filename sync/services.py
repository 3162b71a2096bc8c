"""Writing to the outbox. Called inside the approval's transaction, so an approval and its
outbox rows commit or roll back together (the transactional outbox)."""

from __future__ import annotations

import uuid

from django.db.models import Max

from projects.models import (
    Completion,
    ConstructionPermit,
    DrawingReview,
    Project,
    ReviewableRecord,
    SpecialtyProjectInfo,
    State,
    TenderContract,
)
from sync import payloads
from sync.models import Outbox


def _next_version(record_key: str) -> int:
    current = Outbox.objects.filter(record_key=record_key).aggregate(v=Max("version"))["v"]
    return (current or 0) + 1


def _add(
    bundle: uuid.UUID,
    project: Project,
    table: str,
    record_key: str,
    payload: dict,
    version: int | None = None,
):
    version = version or _next_version(record_key)
    return Outbox.objects.create(
        bundle=bundle,
        project=project,
        table=table,
        record_key=record_key,
        version=version,
        idempotency_key=f"{record_key}:v{version}",
        payload=payload,
    )


def enqueue_for_approval(record: ReviewableRecord) -> list[Outbox]:
    """Write the outbox rows that the final approval of `record` makes due (DESIGN: integration boundary).

    A permit completes the first bundle: the project's basic info, its approved drawing reviews, the
    permit (notice 一(一)3). Later each tender+contract and each completion goes on its own.
    """
    # Lock the project row: versions of its records are numbered under this lock.
    project = Project.objects.select_for_update().get(pk=record.project_id)
    bundle = uuid.uuid4()
    rows: list[Outbox] = []
    project_key = f"project:{project.prj_num}"
    if isinstance(record, ConstructionPermit | SpecialtyProjectInfo):
        rows.append(_add(bundle, project, "TBProjectInfo", project_key, payloads.project_info(project)))
    if isinstance(record, ConstructionPermit):
        for review in record.drawing_reviews.filter(state=State.APPROVED).select_related(
            "censor_org", "owner_org", "survey_org", "project"
        ):
            key = f"drawing_review:{review.pk}"
            if not Outbox.objects.filter(record_key=key, version=review.revision).exists():
                rows.append(
                    _add(
                        bundle,
                        project,
                        "TBProjectCensorInfo",
                        key,
                        payloads.censor_info(review),
                        review.revision,
                    )
                )
        rows.append(
            _add(
                bundle,
                project,
                "TBBuilderLicenceManage",
                f"permit:{record.pk}",
                payloads.builder_licence(record),
                record.revision,
            )
        )
    elif isinstance(record, DrawingReview):
        if project.platform_synced_at is None and project.origin != "platform":
            return rows  # PMS path: it goes with the permit's bundle
        rows.append(
            _add(
                bundle,
                project,
                "TBProjectCensorInfo",
                f"drawing_review:{record.pk}",
                payloads.censor_info(record),
                record.revision,
            )
        )
    elif isinstance(record, TenderContract):
        rows.append(
            _add(
                bundle,
                project,
                "TBTenderInfo",
                f"tender:{record.pk}",
                payloads.tender_info(record),
                record.revision,
            )
        )
        rows.append(
            _add(
                bundle,
                project,
                "TBContractRecordManage",
                f"contract:{record.pk}",
                payloads.contract_record(record),
                record.revision,
            )
        )
    elif isinstance(record, Completion):
        rows.append(
            _add(
                bundle,
                project,
                "TBProjectFinishManage",
                f"completion:{record.pk}",
                payloads.finish_manage(record),
                record.revision,
            )
        )
    return rows


def acknowledge_project_for_demo(project: Project) -> None:
    """Mark a project's pending outbox rows delivered as if the platform had answered (demo data only)."""
    from django.utils import timezone

    now = timezone.now()
    Outbox.objects.filter(project=project, status=Outbox.Status.PENDING).update(
        status=Outbox.Status.DELIVERED, delivered_at=now
    )
    Project.objects.filter(pk=project.pk).update(platform_synced_at=now)
    project.platform_synced_at = now
