"""Fetch-and-check on the enterprise side (projects.access), service level: who sees a project and
a record as one of its parties."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from projects import access
from tests import factories as f
from yunjian.core.models import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def review(project, world):
    return f.register_review(project, world["design"], world["institution"])


def test_a_party_and_the_province_administrator_see_the_project(project, review, designer, province_admin):
    assert access.get_project_for_user(designer, project.pk) == project
    assert access.get_project_for_user(province_admin, project.pk) == project


@pytest.mark.parametrize("persona", ["outsider", "reviewer", "contractor"])
def test_anyone_else_gets_404_for_the_project(request, project, review, persona):
    with pytest.raises(Http404):
        access.get_project_for_user(request.getfixturevalue(persona), project.pk)


def test_a_member_of_a_party_without_the_enterprise_role_gets_404(project, review, world):
    clerk = f.make_user("nina_design_clerk", world["design"], Role.REVIEWER)
    with pytest.raises(Http404):
        access.get_project_for_user(clerk, project.pk)
    assert not access.can_view_as_party(clerk, review)


def test_a_missing_project_is_404(designer):
    with pytest.raises(Http404):
        access.get_project_for_user(designer, 10**9)


def test_the_project_page_loads_county_and_owner_with_the_project(
    project, review, designer, django_assert_num_queries
):
    with django_assert_num_queries(2):  # the project with its county, prefecture and owner; the party check
        found = access.get_project_for_user(designer, project.pk)
    with django_assert_num_queries(0):
        assert (found.county.name, found.county.parent.code, found.owner_org.name) == (
            "麒麟区",
            "530300",
            "建设单位",
        )


def test_parties_of_one_project_are_not_parties_of_another(
    project, review, designer, world, django_assert_num_queries
):
    other = f.make_project("530302", owner=world["owner"], name="另一项目")
    assert access.is_party(designer, project.pk)
    assert not access.is_party(designer, other.pk)
    orgless = f.make_user("olly_no_org", None, Role.ENTERPRISE)
    with django_assert_num_queries(0):  # nothing to look up without a project or an organization
        assert not access.is_party(designer, None)
        assert not access.is_party(orgless, project.pk)


def test_who_sees_a_record_as_a_party(project, review, designer, contractor, province_admin, world):
    from projects.models import ProjectParty
    from projects.services import ensure_party

    ensure_party(project, world["owner"], ProjectParty.Role.OWNER)
    owner_staff = f.make_user("owen_owner", world["owner"], Role.ENTERPRISE)  # a party of the project
    assert access.can_view_as_party(designer, review)  # the organization that entered it
    assert access.can_view_as_party(owner_staff, review)
    assert access.can_view_as_party(province_admin, review)
    assert not access.can_view_as_party(contractor, review)  # not a party of this project
    assert not access.can_view_as_party(AnonymousUser(), review)
    designer.is_active = False
    assert not access.can_view_as_party(designer, review)


def test_an_addition_request_without_a_project_is_seen_by_its_enterer_only(designer, other_designer, world):
    from datetime import date

    from projects import services as ps
    from yunjian.core.models import Division

    request = ps.addition_request_save(
        actor=designer,
        data={
            "prj_num": f.prj_num("530302"),
            "project_name": "历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "X-ACCESS-1",
            "censor_org": world["institution"],
            "censor_date": date(2019, 1, 1),
            "reason": "原系统未迁移",
            "contact_name": "李",
            "contact_phone": "13800138000",
        },
    )
    assert request.project_id is None
    assert access.can_view_as_party(designer, request)
    assert not access.can_view_as_party(other_designer, request)
    assert access.load_record("addition_request", request.pk) == request
    assert access.load_record("no_such_kind", request.pk) is None
    assert access.load_record("addition_request", 10**9) is None
