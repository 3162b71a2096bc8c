"""Every enterprise page: anonymous users go to the login page, other roles get 403, and the
pages of a project that is not the organization's answer 404."""

from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.fixture
def urls(review, addition_request, project):
    return [
        reverse("projects:workspace"),
        reverse("projects:project-find"),
        reverse("projects:project", args=[project.pk]),
        reverse("projects:review-new", args=[project.pk]),
        reverse("projects:tender-new", args=[project.pk]),
        reverse("projects:completion-new", args=[project.pk]),
        reverse("projects:my-reviews"),
        reverse("projects:additions"),
        reverse("projects:addition-new"),
        reverse("projects:addition-print", args=[addition_request.pk]),
        reverse("projects:permit-new"),
        reverse("projects:review-picker"),
        reverse("projects:specialty-new"),
        reverse("projects:building-row"),
        reverse("projects:record", args=["drawing_review", review.pk]),
        reverse("projects:record-edit", args=["drawing_review", review.pk]),
    ]


def test_anonymous_users_are_sent_to_login(client, urls):
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("core:login")), url


@pytest.mark.parametrize("persona", ["reviewer", "institution_staff", "division_staff", "province_admin"])
def test_other_roles_get_403_with_a_chinese_message(as_user, request, urls, persona):
    client = as_user(request.getfixturevalue(persona))
    for url in urls:
        response = client.get(url)
        assert response.status_code == 403, url
        assert "企业填报人员" in response.content.decode(), url


def test_project_pages_of_another_organization_are_404(as_user, outsider, project, review):
    client = as_user(outsider)
    for url in (
        reverse("projects:project", args=[project.pk]),
        reverse("projects:review-new", args=[project.pk]),
        reverse("projects:tender-new", args=[project.pk]),
        reverse("projects:completion-new", args=[project.pk]),
        reverse("projects:project", args=[project.pk + 1000]),
    ):
        assert client.get(url).status_code == 404, url


def test_state_changes_are_post_only(as_user, designer, review):
    client = as_user(designer)
    assert (
        client.get(reverse("projects:attachment-upload", args=["drawing_review", review.pk])).status_code
        == 405
    )
    assert client.post(reverse("projects:workspace")).status_code == 405
