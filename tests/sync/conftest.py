"""Sync fixtures: a live reference receiver on port 0 and the settings that point the worker at it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from projects import services as ps
from sync.models import Outbox
from sync.receiver import Receiver
from tests import factories as f

SYNC_SECRET = "sync-test-secret-不要外传"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    instance = Receiver(secret=SYNC_SECRET)
    instance.start()
    yield instance
    instance.stop()


@pytest.fixture
def sync_settings(settings, receiver):
    """Point the worker at the live receiver, with short timeouts and backoff for the tests."""
    settings.SYNC_ENDPOINT = receiver.base_url
    settings.SYNC_SECRET = SYNC_SECRET
    settings.SYNC_INBOUND_SECRET = SYNC_SECRET
    settings.SYNC_BATCH_SIZE = 50
    settings.SYNC_TIMEOUT_SECONDS = 2
    settings.SYNC_LEASE_SECONDS = 10
    settings.SYNC_RETRY_BASE_SECONDS = 1
    settings.SYNC_RETRY_MAX_SECONDS = 3600
    settings.SYNC_MAX_ATTEMPTS = 4
    return settings


@pytest.fixture
def approved_permit(project, approved_review, contractor, world, county_permit_reviewer):
    """A permit approved by the issuing authority: the first bundle waits in the outbox."""
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    return f.approve(permit, county_permit_reviewer)


def make_due() -> None:
    """Bring every waiting retry forward to now (the tests do not sleep through the backoff)."""
    from django.utils import timezone

    Outbox.objects.filter(status=Outbox.Status.FAILED).update(next_attempt_at=timezone.now())


def project_rows(project, n: int, start: int = 1) -> list[Outbox]:
    """`n` outbox rows of distinct platform projects, inserted directly (as the bench does)."""
    import uuid

    from sync import payloads, protocol

    base = payloads.project_info(project)
    rows = []
    for i in range(start, start + n):
        prj_num = f"5303022001{(i % 28) + 1:02d}{i:04d}"
        key = f"project:{prj_num}"
        rows.append(
            Outbox(
                bundle=uuid.uuid4(),
                project=project,
                table=protocol.TB_PROJECT,
                record_key=key,
                version=1,
                idempotency_key=f"{key}:v1",
                payload={**base, "PrjNum": prj_num, "PrjName": f"批量项目{i}"},
            )
        )
    return Outbox.objects.bulk_create(rows)


def worker_env(receiver, **overrides: str) -> dict[str, str]:
    """Environment of a `manage.py sync_worker` subprocess on the test database and the live receiver."""
    import os

    from django.db import connection

    db = connection.settings_dict
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    drop = {"DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(
        {
            "DEBUG": "true",
            "DATABASE_URL": url,
            "SYNC_ENDPOINT": receiver.base_url,
            "SYNC_SECRET": SYNC_SECRET,
            "SYNC_BATCH_SIZE": "10",
            "SYNC_TIMEOUT_SECONDS": "5",
            "SYNC_LEASE_SECONDS": "6",
            "SYNC_POLL_SECONDS": "1",
            "LOG_LEVEL": "WARNING",
        }
    )
    env.update(overrides)
    return env
