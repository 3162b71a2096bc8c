"""The staff tables: TBProjectBuilderUserInfo completes a loaded permit's 项目经理 (UserType 2);
TBProjectDesignEconUserInfo is checked against the drawing reviews (the record has no place for
the people, so nothing is written)."""

from __future__ import annotations

import json

import pytest

from projects import services as ps
from projects.models import ConstructionPermit
from tests import factories as f
from tests.loads import exports as x
from tests.loads.helpers import load

pytestmark = pytest.mark.django_db

BUILDER_STAFF = ["BuilderLicenceNum", "CorpName", "CorpCode", "UserName", "CertID", "UserType"]
DESIGN_STAFF = ["CensorNum", "PrjNum", "CorpName", "CorpCode", "UserName"]


def statuses(out: str) -> list[tuple[int, str]]:
    return [(r["row"], r["status"]) for r in map(json.loads, out.splitlines())]


def test_builder_staff_completes_the_project_manager_of_an_untouched_permit(
    pms_files, tmp_path, world, contractor, designer, institution_staff, division_staff
):
    load(pms_files["projects"], pms_files["censors"], pms_files["permits"])
    number = f"{pms_files['prj']}-SX-001"
    staff = x.write(
        tmp_path / "staff.csv",
        BUILDER_STAFF,
        [
            [number, "施工总包公司", world["builder"].credit_code, "王建国", "云153200800001", "2"],
            [number, "施工总包公司", world["builder"].credit_code, "赵安全", "", "3"],
            ["5303022001150009-SX-001", "施工总包公司", world["builder"].credit_code, "钱某", "", "2"],
        ],
    )
    code, out, _err = load(staff, "--json")
    assert code == 1
    assert statuses(out) == [(2, "updated"), (3, "unchanged"), (4, "error")]
    permit = ConstructionPermit.objects.get(permit_num=number)
    assert (permit.project_manager, permit.project_manager_cert) == ("王建国", "云153200800001")
    # Once the contractor has edited the permit, a staff export no longer overwrites it.
    review = permit.drawing_reviews.get()
    review = ps.drawing_review_update(
        actor=designer,
        review_id=review.pk,
        data=f.review_completion(),
        project_data={"prj_function": "301"},
        submit=True,
    )
    f.approve(review, institution_staff)
    f.approve(review, division_staff)
    ps.permit_save(
        actor=contractor,
        permit_id=permit.pk,
        drawing_review_ids=[review.pk],
        data={"project_manager": "孙经理"},
        submit=False,
    )
    again = x.write(tmp_path / "staff2.csv", BUILDER_STAFF, [[number, "", "", "周经理", "", "2"]])
    code, out, _err = load(again, "--json")
    assert code == 1
    assert statuses(out) == [(2, "conflict")]
    permit.refresh_from_db()
    assert permit.project_manager == "孙经理"


def test_design_staff_rows_are_checked_against_the_drawing_reviews(pms_files, tmp_path, world):
    load(pms_files["projects"], pms_files["censors"])
    prj = pms_files["prj"]
    staff = x.write(
        tmp_path / "design-staff.csv",
        DESIGN_STAFF,
        [
            [f"{prj}-TX-001", prj, "设计院", world["design"].credit_code, "李工"],
            [f"{prj}-TX-009", prj, "设计院", world["design"].credit_code, "周工"],
        ],
    )
    code, out, _err = load(staff, "--json")
    assert code == 1
    assert statuses(out) == [(2, "unchanged"), (3, "error")]
