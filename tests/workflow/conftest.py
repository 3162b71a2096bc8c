"""Records of every kind, in every state, built through the services; and who performs each step."""

from __future__ import annotations

import pytest

from projects import services as ps
from projects.codes import Scope
from projects.models import DrawingReview, State
from tests import factories as f
from tests.synchelpers import acknowledge_project_offline
from yunjian.core.models import Division


@pytest.fixture
def synced_project(project, approved_review, contractor, world, county_permit_reviewer):
    permit = ps.permit_save(
        actor=contractor, drawing_review_ids=[approved_review.pk], data=f.permit_data(world["bureau_qlq"])
    )
    f.approve(permit, county_permit_reviewer)
    project.refresh_from_db()
    acknowledge_project_offline(project)
    return project


class Builder:
    """Build a record of `kind` in `state`; `performers` names the persona for the current step."""

    def __init__(self, request, world):
        self.request = request
        self.world = world

    def persona(self, name):
        return self.request.getfixturevalue(name)

    def draft(self, kind):
        w = self.world
        if kind == "drawing_review":
            project = self.persona("project")
            review = f.register_review(project, w["design"], w["institution"])
            review = ps.drawing_review_update(
                actor=self.persona("designer"), review_id=review.pk, data=f.review_completion()
            )
            return review, "designer"
        if kind == "addition_request":
            record = ps.addition_request_save(
                actor=self.persona("designer"),
                data={
                    "prj_num": f.prj_num("530302"),
                    "project_name": "历史项目",
                    "county": Division.objects.get(pk="530302"),
                    "owner_name": "某建设单位",
                    "censor_num": "X-CENSOR-001",
                    "censor_org": w["institution"],
                    "censor_date": "2019-01-01",
                    "reason": "原系统未迁移",
                    "contact_name": "李",
                    "contact_phone": "13800138000",
                },
            )
            return record, "designer"
        if kind == "permit":
            review = self.persona("approved_review")
            record = ps.permit_save(
                actor=self.persona("contractor"),
                drawing_review_ids=[review.pk],
                data=f.permit_data(w["bureau_qlq"]),
                submit=False,
            )
            return record, "contractor"
        if kind == "tender_contract":
            project = self.persona("synced_project")
            record = ps.tender_contract_save(
                actor=self.persona("contractor"),
                project_id=project.pk,
                data=f.tender_data(Scope.CONSTRUCTION),
            )
            return record, "contractor"
        if kind == "completion":
            project = self.persona("synced_project")
            record = ps.completion_save(
                actor=self.persona("contractor"), project_id=project.pk, data=f.completion_data()
            )
            return record, "contractor"
        if kind == "specialty_info":
            record = ps.specialty_info_save(
                actor=self.persona("specialist"),
                prj_num=f.prj_num("530302"),
                project_data={
                    "name": "消防工程",
                    "county": Division.objects.get(pk="530302"),
                    "owner_org": w["owner"],
                    **f.exchange_basics(),
                    "prj_type": "01",
                    "prj_function": "300",
                },
                data={"specialty_scope": "消防设施工程"},
            )
            return record, "specialist"
        raise AssertionError(kind)

    def submit(self, record, enterer_name):
        enterer = self.persona(enterer_name)
        return ps.record_submit(actor=enterer, kind=record.KIND, record_id=record.pk)

    def performer_for(self, record):
        """The persona fixture that performs the record's current step."""
        if record.KIND == "drawing_review" and record.path == DrawingReview.Path.PMS:
            return "institution_staff" if record.step == "institution_confirm" else "division_staff"
        if record.KIND == "addition_request":
            return "division_staff"
        if record.KIND == "permit":
            return "county_permit_reviewer"
        return "reviewer"

    def performers_for(self, record) -> set[str]:
        """Every persona that may decide the record's current step (a prefecture reviewer covers its counties)."""
        if record.KIND == "permit":
            return {"county_permit_reviewer", "reviewer"}
        if record.KIND == "completion":
            return {"reviewer", "completion_reviewer"}
        return {self.performer_for(record)}

    def build(self, kind, state, step=0):
        record, enterer = self.draft(kind)
        if state == State.DRAFT:
            return record, enterer
        record = self.submit(record, enterer)
        for _ in range(step):
            record = f.approve(record, self.persona(self.performer_for(record)))
        if state == State.IN_REVIEW:
            return record, enterer
        if state == State.RETURNED:
            return f.send_back(record, self.persona(self.performer_for(record))), enterer
        while record.state != State.APPROVED:
            record = f.approve(record, self.persona(self.performer_for(record)))
        return record, enterer


@pytest.fixture
def builder(request, world):
    return Builder(request, world)
