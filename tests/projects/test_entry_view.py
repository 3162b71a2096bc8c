"""One entry view serves every record kind (projects.views.record_new / record_edit)."""

from __future__ import annotations

import pytest
from django.urls import resolve, reverse

from projects import views, workflow
from projects.models import ProjectParty


def test_every_entry_url_resolves_to_the_one_view(project):
    names = {
        "projects:review-new": [project.pk],
        "projects:tender-new": [project.pk],
        "projects:completion-new": [project.pk],
        "projects:addition-new": [],
        "projects:specialty-new": [],
        "projects:record-new": ["addition_request"],
        "projects:record-new-in-project": [project.pk, "tender_contract"],
    }
    for name, args in names.items():
        assert resolve(reverse(name, args=args)).func is views.record_new, name
    assert resolve(reverse("projects:record-edit", args=["permit", 1])).func is views.record_edit


@pytest.mark.parametrize("kind", list(workflow.KINDS))
def test_a_new_record_of_any_kind_by_its_key(client, designer, contractor, specialist, project, kind):
    """Kinds entered inside a project need one; the others refuse a project; unknown kinds are 404."""
    user = {"addition_request": designer, "specialty_info": specialist}.get(kind, contractor)
    ProjectParty.objects.create(
        project=project, organization=contractor.organization, role=ProjectParty.Role.GENERAL_CONTRACTOR
    )
    client.force_login(user)
    needs_project = kind not in ("addition_request", "specialty_info")
    without = client.get(reverse("projects:record-new", args=[kind]))
    inside = client.get(reverse("projects:record-new-in-project", args=[project.pk, kind]))
    if needs_project:
        assert without.status_code == 404
        assert inside.status_code in (200, 403)  # the kind's own rule decides (e.g. entry not open yet)
    else:
        assert without.status_code == 200
        assert inside.status_code == 404


def test_an_unknown_kind_is_404(client, contractor, project):
    client.force_login(contractor)
    assert client.get(reverse("projects:record-new", args=["no_such_kind"])).status_code == 404
    assert client.get(reverse("projects:record-new-in-project", args=[project.pk, "nope"])).status_code == 404


def test_other_roles_and_outsiders(client, reviewer, outsider):
    url = reverse("projects:record-new", args=["addition_request"])
    client.force_login(reviewer)
    assert client.get(url).status_code == 403  # wrong role
    client.force_login(outsider)
    assert client.get(url).status_code in (403, 404)
    client.logout()
    assert client.get(url).status_code == 302  # to the login page
