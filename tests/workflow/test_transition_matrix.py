"""For every record type: state × persona → allowed or refused, for every transition.

Personas: the enterer; another enterprise of the same kind; the performer of the current step;
reviewers of another division, of another stage; the review institution; another institution;
the design division; an outsider.
"""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from projects import services as ps
from projects import workflow
from projects.models import State
from review import jurisdiction
from review import services as rs
from review.services import Conflict
from yunjian.core.models import AuditEntry

KINDS = ["drawing_review", "addition_request", "permit", "tender_contract", "completion", "specialty_info"]
# (state, step): every state, and the second step of the two-step drawing review.
STATES = [
    (State.DRAFT, 0),
    (State.IN_REVIEW, 0),
    (State.RETURNED, 0),
    (State.APPROVED, 0),
]  # step: approvals done first
OTHERS = [
    "other_designer",
    "other_contractor",
    "honghe_reviewer",
    "completion_reviewer",
    "institution_staff",
    "other_institution_staff",
    "division_staff",
    "reviewer",
    "county_permit_reviewer",
    "outsider",
]


def cases():
    for kind in KINDS:
        for state, step in STATES:
            yield kind, state, step
    yield "drawing_review", State.IN_REVIEW, 1


def _attempt(action, actor, record):
    kwargs = {"actor": actor, "kind": record.KIND, "record_id": record.pk}
    if action == "submit":
        return ps.record_submit(**kwargs)
    return rs.record_decide(**kwargs, approve=action == "approve", lock_version=None, reason="理由")


@pytest.mark.parametrize(("kind", "state", "step"), list(cases()))
@pytest.mark.parametrize("action", ["submit", "approve", "return"])
def test_matrix(builder, kind, state, step, action):
    record, enterer_name = builder.build(kind, state, step)
    if action == "submit":
        allowed = {enterer_name} if state in (State.DRAFT, State.RETURNED) else set()
    else:
        allowed = builder.performers_for(record) if state == State.IN_REVIEW else set()
    model = workflow.KINDS[kind].model
    trail = AuditEntry.objects.filter(object_type=record.AUDIT_TYPE, object_id=str(record.pk))
    before = model.objects.get(pk=record.pk)
    audit_before = trail.count()
    for name in dict.fromkeys([enterer_name, *OTHERS]):
        if name in allowed:
            continue
        with pytest.raises((PermissionDenied, Conflict)):
            _attempt(action, builder.persona(name), record)
        after = model.objects.get(pk=record.pk)
        assert (after.state, after.step, after.revision) == (before.state, before.step, before.revision), name
        assert trail.count() == audit_before, name
    fresh = model.objects.get(pk=record.pk)
    check = workflow.can_submit if action == "submit" else jurisdiction.can_decide
    for name in sorted(allowed):
        assert check(builder.persona(name), fresh), name
    if allowed:
        # Only one of them can act: the first decision moves the record on.
        result = _attempt(action, builder.persona(sorted(allowed)[0]), record)
        assert (result.state, result.step) != (before.state, before.step)
        assert trail.count() == audit_before + 1
