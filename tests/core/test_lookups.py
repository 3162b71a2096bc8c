"""`field__any=values` (yunjian.core.lookups) finds what `field__in=values` finds, with one parameter."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from projects.models import Project, ProjectParty
from tests import factories as f
from yunjian.core.models import Organization

pytestmark = pytest.mark.django_db


def test_any_matches_in_on_text_numbers_and_foreign_keys():
    owner = f.make_org("建设单位", Organization.Kind.OWNER)
    projects = [f.make_project(owner=owner) for _ in range(3)]
    other = f.make_project(county="530102", owner=owner)
    numbers = {p.prj_num for p in projects} | {"5303020000000000"}  # one number nobody has
    ids = [p.pk for p in projects]
    for project in projects[:2]:
        ProjectParty.objects.create(project=project, organization=owner, role=ProjectParty.Role.DESIGN)

    with CaptureQueriesContext(connection) as queries:
        found = set(Project.objects.filter(prj_num__any=numbers).values_list("pk", flat=True))
    assert found == set(ids) == set(Project.objects.filter(prj_num__in=numbers).values_list("pk", flat=True))
    assert "= ANY(" in queries[0]["sql"]
    assert other.pk not in found
    parties = set(ProjectParty.objects.filter(project_id__any=ids).values_list("project_id", flat=True))
    assert (
        parties
        == set(ids[:2])
        == set(ProjectParty.objects.filter(project_id__in=ids).values_list("project_id", flat=True))
    )
    assert set(ProjectParty.objects.filter(project__any=ids[1:]).values_list("project_id", flat=True)) == {
        ids[1]
    }
    assert set(Project.objects.filter(county__any=["530102"]).values_list("pk", flat=True)) == {other.pk}
    assert not Project.objects.filter(prj_num__any=[]).exists()
    assert not Project.objects.filter(pk__any=[]).exists()
