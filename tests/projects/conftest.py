"""Fixtures for the enterprise entry pages: records in each state, built through the real services."""

from __future__ import annotations

import io

import pytest

from projects import services as ps
from projects.codes import PrjFunction, PrjType, Scope
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.models import Division, Role

# The smallest files each signature check accepts (magic bytes, then some body).
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPG_BYTES = b"\xff\xd8\xff\xe0" + b"\x00" * 64
DOCX_BYTES = b"PK\x03\x04" + b"\x00" * 64  # a Word file (a zip) wearing a .pdf name in the tests


def upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content)


@pytest.fixture
def as_user(client):
    """Log the test client in as `user` and return it."""

    def login(user):
        client.force_login(user)
        return client

    return login


@pytest.fixture
def review(project, world):
    """A drawing review pre-existing in PMS, owned by the design unit, still a draft."""
    return f.register_review(
        project, world["design"], world["institution"], censor_num=f"{project.prj_num}-TX-101"
    )


@pytest.fixture
def second_approved_review(project, world, designer, institution_staff, division_staff):
    r = f.register_review(
        project, world["design"], world["institution"], censor_num=f"{project.prj_num}-TX-102"
    )
    f.complete_and_submit_review(r, designer)
    f.approve(r, institution_staff)
    return f.approve(r, division_staff)


@pytest.fixture
def permit_in_review(contractor, approved_review, world):
    return ps.permit_save(
        actor=contractor,
        drawing_review_ids=[approved_review.pk],
        data=f.permit_data(world["bureau_qlq"], issue_date=approved_review.censor_date),
        submit=True,
    )


@pytest.fixture
def returned_permit(permit_in_review, county_permit_reviewer):
    return f.send_back(
        permit_in_review,
        county_permit_reviewer,
        reason="发证日期与原件不一致",
        fields=["issue_date", "project.name"],
    )


@pytest.fixture
def open_project(project, permit_in_review, county_permit_reviewer):
    """A project whose permit is approved and acknowledged by the platform: 一(二) entry is open."""
    f.approve(permit_in_review, county_permit_reviewer)
    project.refresh_from_db()
    acknowledge_project_offline(project)
    project.refresh_from_db()
    return project


@pytest.fixture
def tender(open_project, contractor):
    return ps.tender_contract_save(
        actor=contractor, project_id=open_project.pk, data=f.tender_data(Scope.CONSTRUCTION)
    )


@pytest.fixture
def completion(open_project, contractor):
    return ps.completion_save(actor=contractor, project_id=open_project.pk, data=f.completion_data())


@pytest.fixture
def addition_request(designer, world):
    return ps.addition_request_save(
        actor=designer,
        data={
            "prj_num": f.prj_num("530302"),
            "project_name": "历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "5303022001019999-TX-001",
            "censor_org": world["institution"],
            "censor_date": "2019-01-15",
            "reason": "系统切换前办理",
            "contact_name": "张三",
            "contact_phone": "13800000000",
        },
    )


@pytest.fixture
def specialty_info(specialist, world):
    return ps.specialty_info_save(
        actor=specialist,
        prj_num=f.prj_num("530302"),
        project_data={
            "name": "会展中心消防工程",
            "county": Division.objects.get(pk="530302"),
            "owner_org": world["owner"],
            **f.exchange_basics(),
            "prj_type": PrjType.BUILDING,
            "prj_function": PrjFunction.PUBLIC,
        },
        data={"specialty_scope": "消防设施工程"},
    )


@pytest.fixture
def other_specialist(world):
    from yunjian.core.models import Organization

    org = f.make_org("另一专业承包公司", Organization.Kind.SPECIALTY_CONTRACTOR)
    return f.make_user("otto_specialty", org, Role.ENTERPRISE)


@pytest.fixture
def pdf_file():
    return io.BytesIO(PDF_BYTES)
