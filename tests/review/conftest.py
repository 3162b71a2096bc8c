"""Records in review for the review pages' tests, built through the real services.

Where they sit: 麒麟区 (530302, 曲靖) for most, 宣威市 (530381, 曲靖) for a second county, 个旧市
(532501, 红河) for "elsewhere".
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from projects import services as ps
from projects.codes import PrjFunction, PrjType
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.models import Division, Organization


def submit_permit(contractor, review, bureau: Organization, **overrides):
    """A permit entered by `contractor` on an approved drawing review; entry submits it (notice 一(一)2)."""
    data = f.permit_data(bureau, **overrides)
    data.setdefault("permit_num", f"{review.project.prj_num}-SX-{f.next_serial():03d}")
    return ps.permit_save(actor=contractor, drawing_review_ids=[review.pk], data=data, submit=True)


def approved_review_in(
    county: str, world, designer, institution_staff, division_staff, name: str = "测试项目"
):
    project = f.make_project(county, owner=world["owner"], name=name)
    review = f.register_review(project, world["design"], world["institution"])
    f.complete_and_submit_review(review, designer)
    f.approve(review, institution_staff)
    return f.approve(review, division_staff)


@pytest.fixture
def permit_in_review(approved_review, contractor, world):
    """A 麒麟区 permit at its issuing authority (麒麟区住建局): 曲靖 and 麒麟区 permit reviewers see it."""
    return submit_permit(
        contractor, approved_review, world["bureau_qlq"], permit_num="5303022001010001-SX-001"
    )


@pytest.fixture
def bureau_xuanwei(world):
    return f.make_org("宣威市住房和城乡建设局", Organization.Kind.HOUSING_BUREAU, division="530381")


@pytest.fixture
def xuanwei_permit(world, designer, institution_staff, division_staff, contractor, bureau_xuanwei):
    review = approved_review_in(
        "530381", world, designer, institution_staff, division_staff, name="宣威市体育馆"
    )
    return submit_permit(contractor, review, bureau_xuanwei, permit_num="5303812001010001-SX-001")


@pytest.fixture
def honghe_permit(world, designer, institution_staff, division_staff, other_contractor):
    """A 个旧市 permit issued by 红河州住建局: only 红河 permit reviewers see it."""
    review = approved_review_in(
        "532501", world, designer, institution_staff, division_staff, name="个旧市医院"
    )
    return submit_permit(other_contractor, review, world["bureau_hh"], permit_num="5325012001010001-SX-001")


@pytest.fixture
def review_at_institution(project, world, designer):
    """A drawing review the design unit completed and submitted: step 1, the institution confirms."""
    review = f.register_review(
        project, world["design"], world["institution"], censor_num="5303022001010001-TX-101"
    )
    return f.complete_and_submit_review(review, designer)


@pytest.fixture
def addition_request(designer):
    """A design unit's request for a drawing review missing from the system (附件1), at the design division."""
    return ps.addition_request_save(
        actor=designer,
        submit=True,
        data={
            "prj_num": "5303022001019999",
            "project_name": "麒麟区历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "5303022001019999-TX-001",
            "censor_org": Organization.objects.get(name="审图中心"),
            "censor_date": date(2019, 1, 15),
            "reason": "2019年系统切换前办理，原系统数据未迁移。",
            "contact_name": "李设计",
            "contact_phone": "0874-3120000",
        },
    )


@pytest.fixture
def completion_in_review(permit_in_review, reviewer, contractor):
    """The project's permit approved and synced, then the general contractor's completion submitted."""
    permit = f.approve(permit_in_review, reviewer)
    acknowledge_project_offline(permit.project)
    return ps.completion_save(
        actor=contractor, project_id=permit.project_id, data=f.completion_data(), submit=True
    )


@pytest.fixture
def specialty_in_review(specialist, world):
    """A specialty project the owner contracted directly (notice 二(二)): its basic info at 曲靖's reviewers."""
    return ps.specialty_info_save(
        actor=specialist,
        prj_num="5303022001029999",
        submit=True,
        project_data={
            "name": "麒麟区会展中心消防工程",
            "county": Division.objects.get(pk="530302"),
            "owner_org": world["owner"],
            **f.exchange_basics(),
            "prj_type": PrjType.BUILDING,
            "prj_function": PrjFunction.PUBLIC,
        },
        data={"specialty_scope": "消防设施工程"},
    )


@pytest.fixture
def many_permits(approved_review, contractor, world):
    """Make `n` more 麒麟区 permits in review on the same approved drawing review."""

    def make(n: int) -> list:
        return [
            submit_permit(
                contractor,
                approved_review,
                world["bureau_qlq"],
                permit_num=f"5303022001010001-SX-{f.next_serial():04d}",
                contract_amount=Decimal("1000") + i,
            )
            for i in range(n)
        ]

    return make
