"""Builders for test data. Records change state only through the real services."""

from __future__ import annotations

import itertools
from datetime import date
from decimal import Decimal

from projects import services as ps
from projects.codes import ContractType, PrjFunction, PrjProperty, PrjType, Scope, TenderMethod
from projects.models import Project
from review import services as rs
from review.models import ReviewerAssignment
from yunjian.core.models import Division, Organization, Role, User
from yunjian.core.validators import complete_credit_code, complete_id_number

PASSWORD = "Test@Passw0rd"
_serial = itertools.count(1)


def next_serial() -> int:
    return next(_serial)


def make_org(name: str, *kinds: str, division: str = "530302") -> Organization:
    n = next_serial()
    code = complete_credit_code(f"91{division}{n:08d}"[:16])
    org = Organization(
        credit_code=code, name=name, kinds=Organization.encode_kinds(kinds), division_id=division
    )
    org.save()
    return org


def make_user(username: str, org: Organization | None, *roles: str, **extra) -> User:
    user = User(
        username=username,
        organization=org,
        roles=User.encode_roles(roles),
        full_name=extra.pop("full_name", username),
        **extra,
    )
    user.set_password(PASSWORD)
    user.save()
    return user


def make_reviewer(username: str, division: str, *stages: str, org: Organization | None = None) -> User:
    org = org or make_org(
        f"{Division.objects.get(pk=division).name}住房和城乡建设局",
        Organization.Kind.HOUSING_BUREAU,
        division=division,
    )
    user = make_user(username, org, Role.REVIEWER)
    for stage in stages:
        ReviewerAssignment.objects.create(
            user=user, stage=stage, division_id=division, roster_key=division[:4] + "00"
        )
    return user


def prj_num(county: str = "530302") -> str:
    n = next_serial()
    return f"{county}2001{(n % 28) + 1:02d}{n % 10000:04d}"


def make_project(county: str = "530302", owner: Organization | None = None, **fields) -> Project:
    return Project.objects.create(
        prj_num=fields.pop("prj_num", None) or prj_num(county),
        name=fields.pop("name", "测试项目"),
        county_id=county,
        owner_org=owner,
        prj_type=PrjType.BUILDING,
        prj_function=PrjFunction.OFFICE,
        prj_property=fields.pop("prj_property", PrjProperty.NEW),
        actual_start=fields.pop("actual_start", date(2020, 5, 10)),
        actual_end=fields.pop("actual_end", date(2021, 6, 1)),
        **fields,
    )


def exchange_basics() -> dict:
    """The basic info a project needs before the platform accepts it (docs/data-standard.md §2.10)."""
    return {
        "prj_property": PrjProperty.NEW,
        "actual_start": date(2020, 5, 10),
        "actual_end": date(2021, 6, 1),
    }


def id_number(birth: str = "19800101") -> str:
    """A valid 18-digit 居民身份证号码 (GB 11643), different on every call."""
    return complete_id_number(f"530302{birth}{next_serial() % 1000:03d}")


def register_review(project: Project, design: Organization, institution: Organization, **fields):
    return ps.drawing_review_register(
        project=project,
        censor_num=fields.pop("censor_num", None) or f"{project.prj_num}-TX-{200 + next_serial() % 800:03d}",
        censor_org=institution,
        design_org=design,
        censor_date=fields.pop("censor_date", date(2020, 3, 1)),
        survey_org=fields.pop("survey_org", None) or make_org("勘察院", Organization.Kind.SURVEY),
        **fields,
    )


def review_completion(**overrides) -> dict:
    """What a design unit fills in to complete a drawing review for submission."""
    data = {"one_pass": True, "survey_org": make_org("勘察院", Organization.Kind.SURVEY)}
    data.update(overrides)
    return data


def complete_and_submit_review(review, designer):
    return ps.drawing_review_update(
        actor=designer, review_id=review.pk, data=review_completion(), submit=True
    )


def approve(record, actor):
    return rs.record_decide(
        actor=actor, kind=record.KIND, record_id=record.pk, approve=True, lock_version=None
    )


def send_back(record, actor, reason="信息有误", fields=()):
    return rs.record_decide(
        actor=actor,
        kind=record.KIND,
        record_id=record.pk,
        approve=False,
        lock_version=None,
        reason=reason,
        fields=list(fields),
    )


def permit_data(bureau: Organization, **overrides) -> dict:
    data = {
        "permit_num": f"5303022001{next_serial() % 1_000_000:06d}-SX-001",
        "issuing_org": bureau,
        "issue_date": date(2020, 5, 1),
        "contract_amount": Decimal("1000"),
        "contract_num": f"SG-{next_serial()}",
        "project_manager": "张经理",
        "project_manager_id": id_number(),
        "chief_supervisor": "李总监",
        "chief_supervisor_id": id_number("19750505"),
    }
    if "supervision_org" not in overrides:
        data["supervision_org"] = make_org("监理公司", Organization.Kind.SUPERVISION)
    data.update(overrides)
    return data


def tender_data(scope: str = Scope.CONSTRUCTION, **overrides) -> dict:
    data = {
        "scope": scope,
        "tender_method": TenderMethod.OPEN,
        "tender_num": f"ZB-{next_serial()}",
        "tender_date": date(2020, 2, 1),
        "tender_amount": Decimal("1000"),
        "area": Decimal("12000"),
        "agency_name": "某招标代理公司",
        "agency_code": complete_credit_code(f"91530302{next_serial():08d}"[:16]),
        "project_leader": "王负责人",
        "leader_id": id_number("19820202"),
        "contract_num": f"HT-{next_serial()}",
        "contract_type": ContractType.GENERAL,
        "contract_amount": Decimal("1000"),
        "contract_date": date(2020, 2, 20),
        "client_name": "某建设单位",
    }
    data.update(overrides)
    return data


def completion_data(**overrides) -> dict:
    data = {
        "acceptance_num": "",
        "acceptance_date": date(2021, 6, 1),
        "actual_start": date(2020, 5, 10),
        "actual_cost": Decimal("1050"),
        "actual_area": Decimal("12000"),
        "filing_num": f"BA-{next_serial()}",
        "filing_date": date(2021, 6, 20),
    }
    data.update(overrides)
    return data


REVOKE_REASON = "合同金额与备案合同不符，经核实施工许可证系伪造"


def revoke(record, actor, reason=REVOKE_REASON, evidence="default", **kwargs):
    """撤销认定 through the real service, with a scan as evidence unless `evidence` is given."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    if evidence == "default":
        evidence = SimpleUploadedFile("核查报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    return rs.record_revoke(
        actor=actor, kind=record.KIND, record_id=record.pk, reason=reason, evidence=evidence, **kwargs
    )
