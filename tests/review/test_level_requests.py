"""提级 (issue 18): an enterprise asks for a higher 数据等级 for approved records; the authority one level
up (the prefecture for C → B, the province for B → A) verifies — a checklist of the documents seen, an
optional on-site check, scans — and raises or refuses with a reason; a raised level reaches the platform
as the record's next version. Nobody else decides, and nobody but the enterer asks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects import services as ps
from projects.codes import Scope
from projects.models import Attachment, ConstructionPermit, DataLevel, State, TenderContract
from projects.stages import Stage
from review import services as rs
from review.models import LevelRequest
from sync.models import Outbox
from tests import factories as f
from tests.projects.conftest import DOCX_BYTES, PDF_BYTES, upload
from tests.synchelpers import acknowledge_project_offline

pytestmark = pytest.mark.django_db

SEEN = ["施工许可证原件", "合同原件（含备案合同）"]


@pytest.fixture
def permit_c(project, approved_review, contractor, world, county_permit_reviewer):
    """A permit approved by 麒麟区 (a county): level C."""
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    permit = f.approve(permit, county_permit_reviewer)
    assert permit.data_level == DataLevel.C
    return permit


@pytest.fixture
def province_reviewer(world):
    return f.make_reviewer("paula_province", "530000", Stage.PERMIT, Stage.TENDER_CONTRACT)


def ask(actor, *records, purpose="申请施工总承包一级资质"):
    return rs.level_request_submit(
        actor=actor, kind=records[0].KIND, record_ids=[r.pk for r in records], purpose=purpose
    )


def decide(request, actor, raise_level=True, **kwargs):
    kwargs.setdefault("checklist", SEEN if raise_level else [])
    return rs.level_request_decide(actor=actor, request_id=request.pk, raise_level=raise_level, **kwargs)


def test_the_prefecture_verifies_and_raises_c_to_b_and_the_platform_gets_the_next_version(
    permit_c, contractor, reviewer
):
    request = ask(contractor, permit_c)
    assert (request.from_level, request.to_level, request.division_code, request.stage) == (
        "C",
        "B",
        "530300",
        "permit",
    )
    decide(
        request,
        reviewer,
        onsite_date=date.today() - timedelta(days=1),
        onsite_findings="现场核对施工许可证原件与工程实体一致",
        files=[upload("核实报告.pdf", PDF_BYTES)],
        reason="经核对原件属实",
    )
    permit = ConstructionPermit.objects.get(pk=permit_c.pk)
    assert permit.data_level == DataLevel.B
    request = LevelRequest.objects.get(pk=request.pk)
    assert (request.status, request.checklist, request.decided_by) == ("raised", SEEN, reviewer)
    assert (
        Attachment.objects.filter(kind="permit", record_id=permit.pk, description="提级核实材料").count() == 1
    )
    rows = list(
        Outbox.objects.filter(record_key__in=[f"permit:{permit.pk}", f"builder_staff:{permit.pk}"]).order_by(
            "id"
        )
    )
    assert [(r.record_key.split(":")[0], r.version, r.payload.get("DataLevel")) for r in rows] == [
        ("permit", 1, "C"),
        ("builder_staff", 1, None),
        ("permit", 2, "B"),
        ("builder_staff", 2, None),
    ]


def test_the_province_raises_b_to_a(synced_project, contractor, reviewer, province_reviewer):
    contract = ps.tender_contract_save(
        actor=contractor, project_id=synced_project.pk, data=f.tender_data(Scope.CONSTRUCTION), submit=True
    )
    contract = f.approve(contract, reviewer)
    assert contract.data_level == DataLevel.B
    request = ask(contractor, contract)
    assert (request.to_level, request.division_code) == ("A", "530000")
    with pytest.raises(PermissionDenied):  # the prefecture approved it at B: it does not raise it to A
        decide(request, reviewer)
    decide(request, province_reviewer)
    assert TenderContract.objects.get(pk=contract.pk).data_level == DataLevel.A


@pytest.fixture
def synced_project(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.approve(permit, county_permit_reviewer)
    project.refresh_from_db()
    acknowledge_project_offline(project)
    return project


def test_refused_with_a_reason_the_level_stays(permit_c, contractor, reviewer):
    request = ask(contractor, permit_c)
    before = Outbox.objects.count()
    with pytest.raises(ValidationError) as error:
        decide(request, reviewer, raise_level=False)
    assert "reason" in error.value.message_dict
    decide(request, reviewer, raise_level=False, reason="合同原件与录入金额不一致，不予提级")
    assert ConstructionPermit.objects.get(pk=permit_c.pk).data_level == DataLevel.C
    assert LevelRequest.objects.get(pk=request.pk).status == "refused"
    assert Outbox.objects.count() == before
    with pytest.raises(rs.Conflict):  # decided once
        decide(request, reviewer)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"checklist": []}, "checklist"),
        ({"onsite_date": date(2024, 5, 1)}, "onsite_findings"),
        ({"onsite_findings": "现场一致"}, "onsite_date"),
        ({"onsite_date": date.today() + timedelta(days=3), "onsite_findings": "现场一致"}, "onsite_date"),
        ({"files": [upload("核实报告.pdf", DOCX_BYTES)]}, "files"),
    ],
)
def test_a_verification_that_does_not_hold_changes_nothing(permit_c, contractor, reviewer, kwargs, field):
    request = ask(contractor, permit_c)
    files_before = Attachment.objects.count()
    with pytest.raises(ValidationError) as error:
        decide(request, reviewer, **kwargs)
    assert field in error.value.message_dict
    assert ConstructionPermit.objects.get(pk=permit_c.pk).data_level == DataLevel.C
    assert LevelRequest.objects.get(pk=request.pk).status == "submitted"
    assert Attachment.objects.count() == files_before


@pytest.mark.parametrize(
    "who", ["county_permit_reviewer", "honghe_reviewer", "contractor", "completion_reviewer"]
)
def test_only_the_authority_one_level_up_decides(request, permit_c, contractor, who):
    level_request = ask(contractor, permit_c)
    with pytest.raises(PermissionDenied):
        decide(level_request, request.getfixturevalue(who))
    assert ConstructionPermit.objects.get(pk=permit_c.pk).data_level == DataLevel.C


@pytest.mark.parametrize("who", ["reviewer", "outsider", "supervisor"])
def test_only_the_enterer_asks(request, permit_c, who):
    with pytest.raises(PermissionDenied):
        ask(request.getfixturevalue(who), permit_c)
    assert not LevelRequest.objects.exists()


def test_what_cannot_be_asked(permit_c, contractor, approved_review, designer):
    with pytest.raises(ValidationError):  # approved by the design division: A already
        ask(designer, approved_review)
    with pytest.raises(ValidationError) as error:
        ask(contractor, permit_c, purpose=" ")
    assert "purpose" in error.value.message_dict
    ask(contractor, permit_c)
    with pytest.raises(ValidationError) as error:  # already waiting
        ask(contractor, permit_c)
    assert "已有待核实的提级申请" in error.value.message_dict["records"][0]


def test_a_record_revoked_meanwhile_is_not_raised(permit_c, contractor, reviewer, county_permit_reviewer):
    request = ask(contractor, permit_c)
    f.revoke(permit_c, county_permit_reviewer)
    with pytest.raises(ValidationError):
        decide(request, reviewer)
    decide(request, reviewer, raise_level=False, reason="该记录已撤销认定")
    assert ConstructionPermit.objects.get(pk=permit_c.pk).state == State.REVOKED


# --- pages -------------------------------------------------------------------------------------------


def test_the_pages_three_ways(
    client, permit_c, contractor, reviewer, county_permit_reviewer, outsider, honghe_reviewer
):
    new = reverse("review:level-new", args=["permit"])
    record_page = reverse("projects:record", args=["permit", permit_c.pk])
    client.force_login(contractor)
    assert 'id="level-request-link"' in client.get(record_page).content.decode()
    form = client.get(new, {"record": permit_c.pk})
    assert form.status_code == 200
    assert permit_c.permit_num in form.content.decode()
    bad = client.post(new, {"records": [permit_c.pk], "purpose": ""})
    assert bad.status_code == 400
    assert "请填写申请用途" in bad.content.decode()
    assert client.post(new, {"records": [permit_c.pk], "purpose": "资质申请"}).status_code == 302
    level_request = LevelRequest.objects.get()
    assert "资质申请" in client.get(reverse("review:level-mine")).content.decode()
    # Another enterprise does not see the record among its choices.
    client.force_login(outsider)
    assert client.post(new, {"records": [permit_c.pk], "purpose": "x"}).status_code == 400
    # The prefecture verifies; a county reviewer and another prefecture do not see the request.
    page = reverse("review:level-request", args=[level_request.pk])
    for stranger in (county_permit_reviewer, honghe_reviewer):
        client.force_login(stranger)
        assert client.get(page).status_code == 404
        assert "资质申请" not in client.get(reverse("review:level-requests")).content.decode()
    client.force_login(contractor)
    assert client.get(page).status_code == 403  # not a reviewer
    client.force_login(reviewer)
    assert "资质申请" in client.get(reverse("review:level-requests")).content.decode()
    assert 'id="level-decision"' in client.get(page).content.decode()
    refused = client.post(page, {"lock_version": level_request.lock_version, "decision": "raise"})
    assert refused.status_code == 400
    assert "请勾选已核验的材料" in refused.content.decode()
    done = client.post(
        page,
        {
            "lock_version": level_request.lock_version,
            "decision": "raise",
            "checklist": SEEN,
            "files": [upload("核实报告.pdf", PDF_BYTES)],
        },
    )
    assert done.status_code == 302
    assert ConstructionPermit.objects.get(pk=permit_c.pk).data_level == DataLevel.B
    client.force_login(contractor)
    assert "数据等级 B" in client.get(record_page).content.decode()


@pytest.mark.parametrize("page", ["review:level-mine", "review:level-requests"])
def test_the_lists_take_the_same_queries_for_more_rows(
    client, world, contractor, reviewer, county_permit_reviewer, page
):
    def add(n):
        for _ in range(n):
            project = f.make_project("530302", owner=world["owner"])
            review = f.register_review(project, world["design"], world["institution"])
            f.complete_and_submit_review(
                review, f.make_user(f"d{f.next_serial()}", world["design"], "enterprise")
            )
            f.approve(review, f.make_user(f"i{f.next_serial()}", world["institution"], "institution"))
            f.approve(review, f.make_user(f"v{f.next_serial()}", world["division"], "design_division"))
            permit = ps.permit_save(
                actor=contractor, drawing_review_ids=[review.pk], data=f.permit_data(world["bureau_qlq"])
            )
            ask(contractor, f.approve(permit, county_permit_reviewer))

    client.force_login(contractor if page == "review:level-mine" else reviewer)
    url = reverse(page)
    add(1)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    add(3)
    with CaptureQueriesContext(connection) as four:
        assert client.get(url).status_code == 200
    assert len(four) == len(one)
