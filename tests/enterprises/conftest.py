from __future__ import annotations

import pytest

from tests import factories as f
from tests.projects.conftest import PDF_BYTES, upload
from yunjian.core.models import Division, Organization
from yunjian.core.validators import complete_credit_code

NEW_PASSWORD = "Qj@Builder-2026x"


def credit_code(n: int = 1) -> str:
    return complete_credit_code(f"915303027{n:07d}")


def registration_data(code: str, **overrides) -> dict:
    data = {
        "credit_code": code,
        "name": "曲靖市新建筑工程有限公司",
        "kinds": ["general_contractor"],
        "division": Division.objects.get(pk="530302"),
        "contact_name": "王联系",
        "contact_mobile": "13812345678",
        "contact_email": "wang@example.com",
        "username": "qj_builder_admin",
        "password": NEW_PASSWORD,
        "licence_name": "营业执照.pdf",
    }
    data.update(overrides)
    return data


def form_data(code: str, **overrides) -> dict:
    data = registration_data(code, **overrides)
    data["division"] = data["division"].pk
    data["password2"] = data["password"]
    data.pop("licence_name")
    data["licence"] = upload("营业执照.pdf", PDF_BYTES)
    return data


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def licence():
    return upload("营业执照.pdf", PDF_BYTES)


def unverified_org(code: str, name: str = "曲靖市新建筑工程有限公司") -> Organization:
    org = Organization(credit_code=code, name=name, kinds="|owner|", division_id="530302", is_verified=False)
    org.save()
    return org


__all__ = ["f"]
