"""The transactional outbox: an approval and its outbox rows commit or roll back together, and
every payload passes the platform's exchange validator as built."""

from __future__ import annotations

import pytest
from django.db import transaction

from projects import services as ps
from projects.codes import Scope
from projects.models import ConstructionPermit, State
from sync import protocol
from sync.models import Outbox
from sync.receiver.validation import validate
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_approving_the_permit_writes_the_bundle_in_the_same_transaction(approved_permit, project):
    rows = list(Outbox.objects.order_by("id"))
    assert [r.table for r in rows] == [
        protocol.TB_PROJECT,
        protocol.TB_CENSOR,
        protocol.TB_PERMIT,
        protocol.TB_BUILDER_STAFF,
    ]
    assert len({r.bundle for r in rows}) == 1
    assert all(
        r.status == Outbox.Status.PENDING and r.schema_version == protocol.SCHEMA_VERSION for r in rows
    )
    assert rows[0].idempotency_key == f"project:{project.prj_num}:v1"
    permit_row = rows[2]
    assert (permit_row.record_key, permit_row.version) == (
        f"permit:{approved_permit.pk}",
        approved_permit.revision,
    )
    assert permit_row.idempotency_key == f"permit:{approved_permit.pk}:v{approved_permit.revision}"


def test_an_approval_rolled_back_leaves_no_outbox_row(
    project, approved_review, contractor, world, county_permit_reviewer
):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    seen = []

    def approve_then_fail() -> None:
        with transaction.atomic():
            f.approve(permit, county_permit_reviewer)
            seen.append(Outbox.objects.count())  # written inside the approval's transaction…
            raise RuntimeError("the surrounding transaction fails")

    with pytest.raises(RuntimeError):
        approve_then_fail()
    assert seen == [4]
    assert not Outbox.objects.exists()  # …and gone with it
    assert ConstructionPermit.objects.get(pk=permit.pk).state == State.IN_REVIEW


def test_a_second_permit_sends_a_new_project_version_and_only_new_reviews(
    approved_permit,
    project,
    world,
    contractor,
    county_permit_reviewer,
    designer,
    institution_staff,
    division_staff,
):
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    review = f.approve(review, division_staff)
    # The project's first permit is approved: a drawing review approved later goes on its own.
    assert Outbox.objects.filter(record_key=f"drawing_review:{review.pk}").count() == 1
    second = ps.permit_save(
        actor=contractor,
        drawing_review_ids=[review.pk, approved_permit.drawing_reviews.get().pk],
        data=f.permit_data(world["bureau_qlq"]),
    )
    f.approve(second, county_permit_reviewer)
    bundle = Outbox.objects.filter(record_key=f"permit:{second.pk}").get().bundle
    keys = sorted(Outbox.objects.filter(bundle=bundle).values_list("idempotency_key", flat=True))
    assert keys == sorted(
        [f"project:{project.prj_num}:v2", f"permit:{second.pk}:v1", f"builder_staff:{second.pk}:v1"]
    )


def test_platform_entry_records_each_go_on_their_own(approved_permit, project, contractor, reviewer):
    from tests.synchelpers import acknowledge_project_offline

    acknowledge_project_offline(project)
    contract = ps.tender_contract_save(
        actor=contractor, project_id=project.pk, data=f.tender_data(Scope.CONSTRUCTION), submit=True
    )
    f.approve(contract, reviewer)
    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    tables = list(
        Outbox.objects.filter(status=Outbox.Status.PENDING).order_by("id").values_list("table", flat=True)
    )
    assert tables == [protocol.TB_TENDER, protocol.TB_CONTRACT, protocol.TB_FINISH]


def test_every_payload_passes_the_platforms_validator(approved_permit, project, contractor, reviewer, world):
    from tests.synchelpers import acknowledge_project_offline

    acknowledge_project_offline(project)
    contract = ps.tender_contract_save(
        actor=contractor,
        project_id=project.pk,
        data=f.tender_data(
            Scope.CONSTRUCTION, client_name=world["owner"].name, client_code=world["owner"].credit_code
        ),
        submit=True,
    )
    f.approve(contract, reviewer)
    completion = ps.completion_save(
        actor=contractor, project_id=project.pk, data=f.completion_data(), submit=True
    )
    f.approve(completion, reviewer)
    rows = list(Outbox.objects.order_by("id"))
    # Every table but the buildings' and the design staff's (none entered here: see test_standard_payloads).
    assert {r.table for r in rows} == set(protocol.TABLES) - {protocol.TB_UNIT, protocol.TB_DESIGN_STAFF}
    for row in rows:
        assert validate(row.table, row.payload, lambda prj_num: prj_num == project.prj_num) == [], row.table
        assert all(not isinstance(v, dict | list) for v in row.payload.values()), row.table
        assert row.payload["PrjNum"] == project.prj_num
    permit = next(r.payload for r in rows if r.table == protocol.TB_PERMIT)
    assert permit["ConsCorpCode"] == world["builder"].credit_code
    assert permit["IssueOrgCode"] == world["bureau_qlq"].credit_code
    assert permit["CensorNum"] == approved_permit.drawing_reviews.get().censor_num
    finish = next(r.payload for r in rows if r.table == protocol.TB_FINISH)
    assert finish["BuilderLicenceNum"] == approved_permit.permit_num


def test_a_returned_and_resubmitted_permit_is_sent_at_its_new_revision(
    project, approved_review, contractor, world, county_permit_reviewer
):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.send_back(permit, county_permit_reviewer)
    ps.record_submit(actor=contractor, kind=permit.KIND, record_id=permit.pk)
    permit = f.approve(permit, county_permit_reviewer)
    assert permit.revision == 2
    assert Outbox.objects.get(table=protocol.TB_PERMIT).version == 2
