"""数据等级 and 数据来源 on every record (docs/data-standard.md §2.11): the level follows from who gave the
final approval — the provincial department A, a prefecture B, a county C — and is D before; the source
is 历史业绩补录 for what is entered here and 业务办理 for what the platform handled. Both are on the
record, its pages and lists, the done list and its export, and in what the platform receives."""

from __future__ import annotations

from importlib import import_module
from io import BytesIO

import pytest
from django.apps import apps
from django.urls import reverse
from openpyxl import load_workbook

from projects import workflow
from projects.models import ConstructionPermit, DataLevel, Origin, State
from projects.stages import Stage
from review.models import Task
from sync import payloads, protocol
from sync.receiver.validation import validate
from tests import factories as f
from yunjian.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def _approve_to_the_end(builder, request, record, last_approver: str):
    """Approve every step; the chain's last one by `last_approver`."""
    while record.state == State.IN_REVIEW:
        last = workflow.next_step_key(record) == ""
        record = f.approve(
            record, request.getfixturevalue(last_approver if last else builder.performer_for(record))
        )
    record.refresh_from_db()
    return record


@pytest.mark.parametrize(
    ("kind", "approver", "level"),
    [
        ("drawing_review", "division_staff", DataLevel.A),  # 省厅勘察设计处复核
        ("addition_request", "division_staff", DataLevel.A),
        ("permit", "county_permit_reviewer", DataLevel.C),  # 麒麟区 (county) issuing authority
        ("permit", "reviewer", DataLevel.B),  # 曲靖市 (prefecture)
        ("tender_contract", "reviewer", DataLevel.B),
        ("completion", "completion_reviewer", DataLevel.B),
        ("specialty_info", "reviewer", DataLevel.B),
        ("tender_contract", "province_tender_reviewer", DataLevel.A),  # 云南省 (the province's roster)
        ("completion", "county_completion_reviewer", DataLevel.C),
    ],
)
def test_the_final_approval_sets_the_level_of_the_approving_authority(
    builder, request, kind, approver, level
):
    record, _ = builder.build(kind, State.IN_REVIEW)
    assert record.data_level == DataLevel.D  # entered, not yet reviewed
    record = _approve_to_the_end(builder, request, record, approver)
    assert (record.state, record.data_level, record.data_source) == (State.APPROVED, level, "历史业绩补录")
    task = Task.objects.filter(kind=kind, record_id=record.pk, outcome=Task.Outcome.APPROVED).latest("id")
    assert task.data_level == level
    entry = AuditEntry.objects.filter(
        object_id=str(record.pk), action=AuditEntry.Action.APPROVE, to_state=State.APPROVED
    ).latest("id")
    assert entry.data["data_level"] == level


@pytest.fixture
def province_tender_reviewer(world):
    return f.make_reviewer("paul_province", "530000", Stage.TENDER_CONTRACT)


@pytest.fixture
def county_completion_reviewer(world):
    return f.make_reviewer("cora_qilin", "530302", Stage.COMPLETION, org=world["bureau_qlq"])


def test_an_intermediate_step_and_a_return_leave_the_level_at_d(builder, request):
    record, _ = builder.build("drawing_review", State.IN_REVIEW)
    record = f.approve(
        record, request.getfixturevalue("institution_staff")
    )  # 审图机构确认: not the last step
    assert (record.state, record.data_level) == (State.IN_REVIEW, DataLevel.D)
    record = f.send_back(record, request.getfixturevalue("division_staff"))
    assert (record.state, record.data_level) == (State.RETURNED, DataLevel.D)


def test_the_data_source_follows_the_origin():
    assert ConstructionPermit(origin=Origin.PLATFORM).data_source == "业务办理"
    assert ConstructionPermit(origin=Origin.ENTERED).data_source == "历史业绩补录"
    assert ConstructionPermit(origin=Origin.PMS).data_source == "历史业绩补录"


def test_the_platform_receives_the_level_and_source_and_accepts_them(builder, request):
    permit, _ = builder.build("permit", State.IN_REVIEW)
    permit = _approve_to_the_end(builder, request, permit, "county_permit_reviewer")
    row = payloads.builder_licence(ConstructionPermit.objects.get(pk=permit.pk))
    assert (row["DataLevel"], row["DataSource"]) == ("C", "历史业绩补录")
    assert validate(protocol.TB_PERMIT, row, lambda n: True) == []
    # The receiver refuses a level or a source outside §2.11.
    errors = validate(protocol.TB_PERMIT, {**row, "DataLevel": "E", "DataSource": "补录"}, lambda n: True)
    assert {e["field"] for e in errors} == {"DataLevel", "DataSource"}


def test_the_data_migration_computes_the_level_of_records_approved_before(builder, request):
    permit, _ = builder.build("permit", State.IN_REVIEW)
    permit = _approve_to_the_end(builder, request, permit, "reviewer")
    review = permit.drawing_reviews.get()
    ConstructionPermit.objects.filter(pk=permit.pk).update(data_level=DataLevel.D)
    type(review).objects.filter(pk=review.pk).update(data_level=DataLevel.D)
    migration = import_module("review.migrations.0006_data_levels")
    migration.forwards(apps, None)
    permit.refresh_from_db()
    review.refresh_from_db()
    assert (permit.data_level, review.data_level) == (DataLevel.B, DataLevel.A)


# --- pages, lists, filters, export ----------------------------------------------------------------


def test_record_pages_show_level_and_source(client, builder, request, designer):
    review, _ = builder.build("drawing_review", State.APPROVED)
    client.force_login(designer)
    page = client.get(reverse("projects:record", args=["drawing_review", review.pk])).content.decode()
    assert "数据等级 A" in page
    assert "历史业绩补录" in page
    listing = client.get(reverse("projects:my-reviews")).content.decode()
    assert "A级" in listing


def test_my_reviews_filter_by_level_and_source(client, builder, designer):
    approved, _ = builder.build("drawing_review", State.APPROVED)
    draft, _ = builder.build("drawing_review", State.DRAFT)
    client.force_login(designer)
    url = reverse("projects:my-reviews")
    a = client.get(url, {"level": "A"}).content.decode()
    d = client.get(url, {"level": "D"}).content.decode()
    assert approved.censor_num in a
    assert draft.censor_num not in a
    assert draft.censor_num in d
    assert approved.censor_num not in d
    assert approved.censor_num not in client.get(url, {"source": "business"}).content.decode()
    both = client.get(url, {"source": "campaign", "level": "bogus"}).content.decode()
    assert approved.censor_num in both
    assert draft.censor_num in both


def test_done_list_filters_and_exports_the_level(client, builder, request, reviewer):
    contract, _ = builder.build("tender_contract", State.IN_REVIEW)
    contract = _approve_to_the_end(builder, request, contract, "reviewer")
    client.force_login(reviewer)
    assert contract.contract_num in client.get(reverse("review:done"), {"data_level": "B"}).content.decode()
    assert (
        contract.contract_num not in client.get(reverse("review:done"), {"data_level": "A"}).content.decode()
    )
    response = client.get(reverse("review:done-export"), {"data_level": "B"})
    rows = list(load_workbook(BytesIO(response.content)).active.iter_rows(values_only=True))
    header, line = rows[0], rows[1]
    assert line[header.index("认定数据等级")] == "B"
    assert line[header.index("数据来源")] == "历史业绩补录"
