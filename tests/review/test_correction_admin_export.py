"""更正 where the system administrator and the reviewer look for it: the admin site lists corrections
read-only (the system administrator only), and the inbox and done .xlsx exports mark correction rows."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from projects.models import Correction
from review import exports
from tests import factories as f
from tests.review.test_corrections import ask, decide, permit_c  # noqa: F401
from tests.review.test_export import sheet_rows

pytestmark = pytest.mark.django_db


def test_the_system_administrator_reads_corrections_in_the_admin_and_cannot_change_them(
    client,
    province_admin,
    contractor,
    permit_c,  # noqa: F811
):
    correction = ask(contractor, permit_c)
    client.force_login(province_admin)

    listing = client.get(reverse("admin:projects_correction_changelist"))
    assert listing.status_code == 200
    assert str(correction) in listing.content.decode()
    page = client.get(reverse("admin:projects_correction_change", args=[correction.pk]))
    assert page.status_code == 200
    body = page.content.decode()
    assert "合同金额录入有误" in body
    assert 'name="_save"' not in body  # view only

    assert client.get(reverse("admin:projects_correction_add")).status_code == 403
    refused = client.post(
        reverse("admin:projects_correction_change", args=[correction.pk]),
        {"reason": "改了", "status": "approved"},
    )
    assert refused.status_code == 403
    assert (
        client.post(
            reverse("admin:projects_correction_delete", args=[correction.pk]), {"post": "yes"}
        ).status_code
        == 403
    )
    correction = Correction.objects.get(pk=correction.pk)
    assert (correction.status, correction.reason) == ("in_review", "合同金额录入有误，以合同原件第3页为准")


def test_other_roles_do_not_reach_the_corrections_admin(client, county_permit_reviewer, contractor, world):
    url = reverse("admin:projects_correction_changelist")
    security = f.make_user("sec", world["division"], "security_admin")
    for user in (county_permit_reviewer, contractor, security):
        client.force_login(user)
        assert client.get(url).status_code in (302, 403), user
    client.logout()
    assert client.get(url).status_code == 302


def test_the_corrections_changelist_queries_do_not_grow_with_rows(client, province_admin, contractor, world):
    def make(n):
        Correction.objects.bulk_create(
            Correction(
                kind="permit",
                record_id=10_000 + Correction.objects.count() + i,
                owner_org=world["builder"] if i % 2 else world["design"],
                version=2,
                reason=f"更正{i}",
                created_by=contractor,
            )
            for i in range(n)
        )

    client.force_login(province_admin)
    url = reverse("admin:projects_correction_changelist")
    make(2)
    client.get(url)
    with CaptureQueriesContext(connection) as few:
        assert client.get(url).status_code == 200
    make(20)
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many) == len(few)


def test_the_inbox_export_marks_correction_rows(
    client,
    contractor,
    county_permit_reviewer,
    permit_c,  # noqa: F811
    permit_in_review,
):
    ask(contractor, permit_c)
    client.force_login(county_permit_reviewer)

    rows = sheet_rows(client.get(reverse("review:inbox-export"), {"kind": "permit"}))

    assert rows[0] == exports.INBOX_COLUMNS
    marks = {r[3]: dict(zip(exports.INBOX_COLUMNS, r, strict=True))["是否更正"] for r in rows[1:]}
    assert marks == {permit_c.permit_num: "是", permit_in_review.permit_num: "否"}


def test_the_done_export_marks_correction_rows(
    client,
    contractor,
    county_permit_reviewer,
    permit_c,  # noqa: F811
):
    decide(ask(contractor, permit_c), county_permit_reviewer)
    client.force_login(county_permit_reviewer)

    rows = sheet_rows(client.get(reverse("review:done-export")))

    lines = [dict(zip(exports.DONE_COLUMNS, r, strict=True)) for r in rows[1:]]
    # The permit's own approval and its correction's approval, newest first.
    assert [(line["证书/许可/合同编号"], line["是否更正"]) for line in lines] == [
        (permit_c.permit_num, "是"),
        (permit_c.permit_num, "否"),
    ]
