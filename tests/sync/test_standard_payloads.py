"""Records the national platform accepts (docs/data-standard.md §2.10): for every record kind, what an
approved record sends passes every rule of the exchange, through the worker and the reference
receiver; an item missing a required field, or carrying a name where a code belongs, is refused with
that field named; and a record that would be refused is stopped at submission, on its form field."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from projects import services as ps
from projects.codes import Scope
from projects.models import ConstructionPermit, Origin, State
from sync import protocol
from sync.models import Outbox
from sync.receiver.validation import RULES, validate
from sync.worker import Worker
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db

BUILDING = {
    "name": "1号教学楼",
    "structure_type": "frame_shear",
    "floors_above": 18,
    "floors_below": 2,
    "height": Decimal("63.5"),
    "area_above": Decimal("21000"),
    "area_below": Decimal("4200"),
    "seismic_intensity": "8",
    "prefabricated": True,
}


@pytest.fixture
def every_kind(
    request,
    project,
    world,
    designer,
    institution_staff,
    division_staff,
    contractor,
    county_permit_reviewer,
    reviewer,
):
    """One record of every kind that reaches the platform, entered and approved through the services."""
    review = f.register_review(project, world["design"], world["institution"])
    ps.drawing_review_update(
        actor=designer,
        review_id=review.pk,
        data=f.review_completion(
            design_lead="王设计", design_lead_id=f.id_number(), design_lead_cert="一级注册建筑师"
        ),
        buildings=[BUILDING],
        submit=True,
    )
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.approve(permit, county_permit_reviewer)
    project.refresh_from_db()
    if "sync_settings" in request.fixturenames:
        Worker().run_until_idle()  # the first bundle through the reference receiver
    else:
        acknowledge_project_offline(project)
    for scope, actor_name in ((Scope.CONSTRUCTION, "contractor"), (Scope.DESIGN, "designer")):
        actor = contractor if actor_name == "contractor" else designer
        contract = ps.tender_contract_save(
            actor=actor,
            project_id=project.pk,
            data=f.tender_data(scope, contract_type="301" if scope == Scope.CONSTRUCTION else "200"),
            submit=True,
        )
        f.approve(contract, reviewer)
    completion = ps.completion_save(
        actor=contractor,
        project_id=project.pk,
        data=f.completion_data(structure_type="frame_shear"),
        submit=True,
    )
    f.approve(completion, reviewer)
    return {"review": review, "permit": permit, "completion": completion}


def test_every_item_an_approved_record_sends_passes_the_exchange_rules(every_kind):
    rows = list(Outbox.objects.order_by("id"))
    assert {r.table for r in rows} == set(protocol.TABLES)
    for row in rows:
        assert validate(row.table, row.payload, lambda prj_num: True, lambda number: True) == [], (
            row.table,
            row.payload,
        )
    by_table = {r.table: r.payload for r in rows}
    # Codes, never names or slugs.
    assert by_table[protocol.TB_TENDER]["TenderClassNum"] in ("002", "003")
    assert by_table[protocol.TB_FINISH]["PrjStructureTypeNum"] == "Y02"
    assert by_table[protocol.TB_FINISH]["PrjStructureTypeName"] == "框架－剪力墙结构"
    assert by_table[protocol.TB_UNIT]["PrjStructureTypeNum"] == "Y02"
    # The completion names its own permit; the permit its contract record; who approved each record.
    permit = ConstructionPermit.objects.get(pk=every_kind["permit"].pk)
    assert by_table[protocol.TB_FINISH]["BuilderLicenceNum"] == permit.permit_num
    assert by_table[protocol.TB_PERMIT]["RecordInnerNum"] == permit.contract_num
    assert by_table[protocol.TB_PERMIT]["CheckPersonName"] == "ken_qilin"
    assert by_table[protocol.TB_PERMIT]["ConstructorIDCard"] == permit.project_manager_id
    assert all(
        p["DataSource"] == "历史业绩补录" for t, p in by_table.items() if t in RULES and "DataSource" in p
    )
    contract = by_table[protocol.TB_CONTRACT]
    assert contract["RecordNum"].startswith(f"{permit.project.prj_num}-H")


def test_they_reach_the_reference_receiver_and_all_are_accepted(sync_settings, receiver, every_kind):
    result = Worker().run_until_idle()
    assert (result.failed, result.dead) == (0, 0)
    statuses = set(Outbox.objects.values_list("receipt_status", flat=True))
    assert statuses == {"accepted"}, list(
        Outbox.objects.exclude(receipt_status="accepted").values("table", "last_error")
    )
    assert {r["table"] for r in receiver.store.records()} == set(protocol.TABLES)


def test_each_required_field_missing_is_refused_by_the_receiver_with_that_field_named(every_kind):
    for row in Outbox.objects.all():
        for name in RULES[row.table].required:
            data = {**row.payload}
            data.pop(name, None)
            errors = validate(row.table, data, lambda prj_num: True, lambda number: True)
            assert name in {e["field"] for e in errors}, (row.table, name)


@pytest.mark.parametrize(
    ("table", "field", "name_instead_of_code"),
    [
        (protocol.TB_TENDER, "TenderClassNum", "施工"),
        (protocol.TB_TENDER, "TenderClassNum", "construction"),
        (protocol.TB_TENDER, "TenderTypeNum", "公开招标"),
        (protocol.TB_CONTRACT, "ContractTypeNum", "施工总包"),
        (protocol.TB_FINISH, "PrjStructureTypeNum", "框架－剪力墙结构"),
        (protocol.TB_PROJECT, "PrjPropertyNum", "新建"),
        (protocol.TB_PERMIT, "CIDCardTypeNum", "身份证"),
    ],
)
def test_a_name_where_a_code_belongs_is_refused(every_kind, table, field, name_instead_of_code):
    row = Outbox.objects.filter(table=table).first()
    data = {**row.payload, field: name_instead_of_code}
    assert field in {e["field"] for e in validate(table, data, lambda prj_num: True, lambda number: True)}


def test_a_record_the_platform_would_refuse_is_stopped_at_submission_on_its_field(
    project, world, contractor, institution_staff, division_staff, designer
):
    """A pre-existing drawing review approved before the survey unit was required has none: the
    permit that rests on it would carry no 勘察单位 to the platform."""
    review = f.register_review(project, world["design"], world["institution"], survey_org=None)
    review.survey_org = None
    review.save()
    review = f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    type(review).objects.filter(pk=review.pk).update(survey_org=None)
    with pytest.raises(ValidationError) as caught:
        ps.permit_save(
            actor=contractor, drawing_review_ids=[review.pk], data=f.permit_data(world["bureau_qlq"])
        )
    errors = caught.value.message_dict
    assert "drawing_reviews" in errors
    assert any("勘察单位" in m and "数据标准" in m for m in errors["drawing_reviews"])
    assert not ConstructionPermit.objects.exists()  # nothing saved: the draft and the submission roll back


def test_a_platform_record_is_not_checked_again_at_submission(world, designer, reviewer):
    project = f.make_project("530302", owner=world["owner"], origin=Origin.PLATFORM, actual_end=None)
    review = ps.drawing_review_create(
        actor=designer,
        project_id=project.pk,
        data={
            "censor_num": "PF-9",
            "censor_org": world["institution"],
            "censor_date": date(2020, 1, 1),
            **f.review_completion(),
        },
        submit=True,
    )
    assert review.state == State.IN_REVIEW


def test_a_direct_specialty_projects_basic_info_passes_the_exchange_rules(world, specialist, reviewer):
    info = ps.specialty_info_save(
        actor=specialist,
        prj_num=f.prj_num("530302"),
        project_data={
            "name": "曲靖市会展中心消防工程",
            "county": world["bureau_qlq"].division,
            "owner_org": world["owner"],
            "prj_type": "01",
            "prj_function": "300",
            **f.exchange_basics(),
        },
        buildings=[BUILDING],
        data={"specialty_scope": "消防设施工程"},
        submit=True,
    )
    f.approve(info, reviewer)
    rows = list(Outbox.objects.filter(project=info.project))
    assert {r.table for r in rows} == {protocol.TB_PROJECT, protocol.TB_UNIT}
    for row in rows:
        assert validate(row.table, row.payload, lambda prj_num: True) == [], row.payload
