"""Test helper: a project acknowledged by the platform without a network."""

from __future__ import annotations

from django.utils import timezone

from projects.models import Project
from sync import protocol
from sync.services import outbox_claim, outbox_record_receipts


def acknowledge_project_offline(project: Project) -> None:
    """Acknowledge the project's outbox rows as if the platform had accepted them.

    For tests that need a synced project and no receiver: the rows are claimed and settled
    through the real path (claim → "accepted" receipts → delivered → platform_synced_at, audited).
    """
    while True:
        claim = outbox_claim(project_ids=[project.pk])
        if not claim.rows:
            break
        receipts = [
            protocol.make_receipt(
                protocol.make_item(r.idempotency_key, r.table, r.record_key, r.version, r.payload),
                protocol.ACCEPTED,
                timezone.now().isoformat(),
            )
            for r in claim.rows
        ]
        outbox_record_receipts(claim=claim, receipts=receipts)
    project.platform_synced_at = Project.objects.values_list("platform_synced_at", flat=True).get(
        pk=project.pk
    )
