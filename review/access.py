"""Who may see a record: its parties (projects.access) and the people who review it."""

from __future__ import annotations

from django.http import Http404

from projects.access import can_view_as_party, load_record
from projects.models import ReviewableRecord
from review import jurisdiction
from review.models import Task


def reviews_record(user, record: ReviewableRecord) -> bool:
    """Whether `user` performs (or performed) any step of the record's chain (never one of their own
    organization's records: review.jurisdiction refuses those, so they never decided one either)."""
    if any(jurisdiction.performs(user, record, step) for step in jurisdiction.steps_of(record)):
        return True
    return Task.objects.filter(kind=record.KIND, record_id=record.pk, decided_by=user).exists()


def can_view_record(user, record: ReviewableRecord) -> bool:
    if not (user.is_authenticated and user.is_active):
        return False
    return can_view_as_party(user, record) or reviews_record(user, record)


def get_record_for_user(user, kind: str, pk: int) -> ReviewableRecord:
    """Return the record if `user` may view it; raise Http404 otherwise (don't reveal that it exists)."""
    record = load_record(kind, pk)
    if record is None or not can_view_record(user, record):
        raise Http404
    return record
