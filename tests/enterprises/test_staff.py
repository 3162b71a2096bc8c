"""Issue 17 §1: the enterprise administrator adds, disables and re-enables its staff, resets their
passwords with a one-time link and sees who entered what; never another enterprise's accounts."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from enterprises import services
from tests import factories as f
from yunjian.core.models import AuditEntry, Organization, Role, User

pytestmark = pytest.mark.django_db

STAFF_PASSWORD = "Lr@Staff-2026qq"


@pytest.fixture
def boss(world):
    return f.make_user("builder_boss", world["builder"], Role.ENTERPRISE, Role.ENTERPRISE_ADMIN)


@pytest.fixture
def other_boss(world):
    return f.make_user("other_boss", world["builder_other"], Role.ENTERPRISE, Role.ENTERPRISE_ADMIN)


def _set_password(client, link: str, password: str = STAFF_PASSWORD):
    response = client.get(link)  # redirects to the token-free URL (Django's reset view)
    assert response.status_code == 302
    url = response["Location"]
    return client.post(url, {"new_password1": password, "new_password2": password})


def test_the_administrator_adds_a_colleague_who_sets_the_password_once(client, boss, world):
    user, link = services.staff_create(
        actor=boss, data={"username": "li_clerk", "full_name": "李录入"}, ip="1.2.3.4"
    )
    assert user.organization == world["builder"]
    assert user.role_list == [Role.ENTERPRISE]
    assert not user.has_usable_password()
    assert AuditEntry.objects.filter(actor=boss, action="create", object_id=str(user.pk)).exists()
    response = _set_password(client, link)
    assert response.status_code == 302
    assert response["Location"] == reverse("core:login")
    user.refresh_from_db()
    assert user.check_password(STAFF_PASSWORD)
    # One time only: the link no longer works.
    again = client.get(link, follow=True)
    assert "链接无效" in again.content.decode()


def test_disable_and_enable_and_reset(client, boss, world):
    user, _ = services.staff_create(actor=boss, data={"username": "li_clerk", "full_name": "李录入"})
    user.set_password(STAFF_PASSWORD)
    user.save()
    services.staff_set_active(actor=boss, user_id=user.pk, active=False)
    user.refresh_from_db()
    assert not user.is_active
    services.staff_set_active(actor=boss, user_id=user.pk, active=True)
    user.refresh_from_db()
    assert user.is_active
    _, link = services.staff_password_reset(actor=boss, user_id=user.pk)
    user.refresh_from_db()
    assert not user.check_password(STAFF_PASSWORD)  # the old password stops at once
    assert _set_password(client, link, "Nw@Staff-2027zz").status_code == 302
    reasons = list(
        AuditEntry.objects.filter(actor=boss, object_id=str(user.pk))
        .order_by("id")
        .values_list("reason", flat=True)
    )
    assert reasons[-3:] == [
        "企业管理员停用账号",
        "企业管理员重新启用账号",
        "企业管理员重置密码（一次性链接）",
    ]
    with pytest.raises(ValidationError):
        services.staff_set_active(actor=boss, user_id=boss.pk, active=False)


def test_another_enterprises_accounts_are_not_found_and_staff_cannot_manage(boss, other_boss, contractor):
    stranger, _ = services.staff_create(
        actor=other_boss, data={"username": "hh_clerk", "full_name": "红河录入"}
    )
    for call in (
        lambda: services.staff_set_active(actor=boss, user_id=stranger.pk, active=False),
        lambda: services.staff_password_reset(actor=boss, user_id=stranger.pk),
    ):
        with pytest.raises(Http404):
            call()
    # A plain staff account (the enterer) manages nothing.
    with pytest.raises(PermissionDenied):
        services.staff_create(actor=contractor, data={"username": "x_clerk", "full_name": "某人"})
    with pytest.raises(PermissionDenied):
        services.staff_set_active(actor=contractor, user_id=boss.pk, active=False)
    stranger.refresh_from_db()
    assert stranger.is_active


def test_the_pages_three_ways(client, boss, other_boss, contractor):
    stranger, _ = services.staff_create(
        actor=other_boss, data={"username": "hh_clerk", "full_name": "红河录入"}
    )
    # Allowed: the administrator.
    client.force_login(boss)
    assert client.get(reverse("enterprises:staff")).status_code == 200
    response = client.post(
        reverse("enterprises:staff-new"), {"username": "wang_clerk", "full_name": "王录入"}
    )
    assert response.status_code == 200
    assert "enterprises:set-password" not in response.content.decode()
    assert "/enterprises/set-password/" in response.content.decode()
    colleague = User.objects.get(username="wang_clerk")
    assert client.post(reverse("enterprises:staff-disable", args=[colleague.pk])).status_code == 302
    assert client.post(reverse("enterprises:staff-enable", args=[colleague.pk])).status_code == 302
    assert client.post(reverse("enterprises:staff-password", args=[colleague.pk])).status_code == 200
    # A bad username is refused on the form, nothing created.
    response = client.post(reverse("enterprises:staff-new"), {"username": "a b", "full_name": "某"})
    assert response.status_code == 400
    assert "用户名须为" in response.content.decode()
    # Another enterprise's account: not found.
    assert client.post(reverse("enterprises:staff-disable", args=[stranger.pk])).status_code == 404
    stranger.refresh_from_db()
    assert stranger.is_active
    # Wrong role: a staff account.
    client.force_login(contractor)
    assert client.get(reverse("enterprises:staff")).status_code == 403
    assert client.post(reverse("enterprises:staff-disable", args=[boss.pk])).status_code == 403
    # Outsider: not signed in.
    client.logout()
    assert client.get(reverse("enterprises:staff"))["Location"].startswith("/login/")


def test_who_entered_what_shows_the_organizations_entries_only(client, boss, other_boss, contractor):
    services.staff_create(actor=other_boss, data={"username": "hh_clerk", "full_name": "红河录入"})
    own, _ = services.staff_create(actor=boss, data={"username": "li_clerk", "full_name": "李录入"})
    client.force_login(boss)
    rows = client.get(reverse("enterprises:staff-audit")).context["page"].rows
    assert rows
    assert all(e.actor_org_id == boss.organization_id for e in rows)
    assert any(e.object_id == str(own.pk) for e in rows)


def test_staff_list_and_audit_cost_the_same_queries_for_more_rows(client, boss):
    client.force_login(boss)
    for name in ("enterprises:staff", "enterprises:staff-audit"):
        client.get(reverse(name))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("enterprises:staff"))
        client.get(reverse("enterprises:staff-audit"))
    for n in range(8):
        services.staff_create(actor=boss, data={"username": f"clerk_{n}", "full_name": f"录入{n}"})
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("enterprises:staff"))
        client.get(reverse("enterprises:staff-audit"))
    assert len(many) == len(few)


def test_enterprise_kinds_only_in_the_registration_form():
    from enterprises.forms import KIND_CHOICES

    assert {k for k, _ in KIND_CHOICES} == set(Organization.ENTERPRISE_KINDS)
