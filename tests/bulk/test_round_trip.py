"""Template → fill → upload → preview → apply → submit, for each kind bulk entry offers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from bulk.models import BulkUpload
from projects.models import Completion, State, TenderContract
from tests.bulk.conftest import completion_row, tender_row

pytestmark = pytest.mark.django_db


def test_tender_round_trip(as_user, contractor, open_project, bulk_upload):
    client = as_user(contractor)
    response = bulk_upload(
        client, "tender_contract", [tender_row(open_project.prj_num, 1), tender_row(open_project.prj_num, 2)]
    )
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    page = client.get(response["Location"]).content.decode()
    assert page.count("将新建") >= 2, page
    assert [r["status"] for r in upload.plan] == ["create", "create"], upload.plan
    assert client.post(reverse("bulk:apply", args=[upload.pk])).status_code == 302
    contracts = TenderContract.objects.filter(owner_org=contractor.organization).order_by("tender_num")
    assert [c.state for c in contracts] == [State.DRAFT, State.DRAFT]
    assert contracts[0].scope == "construction"
    assert contracts[0].contract_type == "301"
    assert client.post(reverse("bulk:submit", args=[upload.pk])).status_code == 302
    upload.refresh_from_db()
    assert [r.get("submitted") for r in upload.plan] == [True, True], upload.plan
    assert {c.state for c in TenderContract.objects.all()} == {State.IN_REVIEW}


def test_completion_round_trip(as_user, contractor, open_project, bulk_upload):
    client = as_user(contractor)
    response = bulk_upload(client, "completion", [completion_row(open_project.prj_num, 1)])
    assert response.status_code == 302, response.content.decode()
    upload = BulkUpload.objects.get()
    assert [r["status"] for r in upload.plan] == ["create"], upload.plan
    client.post(reverse("bulk:apply", args=[upload.pk]))
    completion = Completion.objects.get()
    assert completion.state == State.DRAFT
    assert completion.permit is not None  # the project's one approved permit
    assert completion.filing_org.name == "麒麟区住房和城乡建设局"
    client.post(reverse("bulk:submit", args=[upload.pk]))
    upload.refresh_from_db()
    assert upload.plan[0].get("submitted") is True, upload.plan
