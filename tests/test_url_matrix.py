"""Every URL pattern × every persona: who may open what, generated from the URLconf itself.

`RULES` declares, for each URL name, who may open it, with which objects its path parameters are
filled, and what the others get. The walk of `get_resolver()` fails for any pattern missing from the
table, so a URL added without an access rule fails CI. Every request is made by every persona:
anonymous, enterprise users of several organisation kinds (the project's parties and strangers to it,
in 曲靖 and 红河), the drawing-review institutions, the design division, reviewers of the project's
jurisdiction and of others, and the three administrators. Nothing may answer 500 (the test client
re-raises it); a persona not allowed gets 403 or 404 (signed in) or the login page (anonymous).

List pages are also opened with forged `?after=` cursors: each must start at the first page.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import pytest
from django.db import transaction
from django.urls import URLPattern, URLResolver, get_resolver

from bulk.models import BulkUpload
from enterprises import services as enterprise_services
from notices.models import Message
from projects import attachments, corrections
from projects import services as ps
from projects.stages import REVIEW_STAGES, Stage
from review import services as review_services
from sync.models import SyncConflict
from tests import factories as f
from tests.conftest import Client
from tests.projects.conftest import PDF_BYTES, upload
from tests.review.conftest import submit_permit
from yunjian.core import pagination
from yunjian.core.models import Division, Organization, Role, User
from yunjian.core.validators import complete_credit_code

# --- personas ------------------------------------------------------------------------------------

ENTERPRISE = (
    "design",
    "design_other",
    "builder",
    "builder_hh",
    "specialty",
    "supervision",
    "survey",
    "owner",
    "outsider",
)
REVIEWERS = ("reviewer_qj", "reviewer_qlq", "reviewer_hh")
GOVERNMENT = ("institution", "institution_other", "division", *REVIEWERS)
ADMINS = ("province_admin", "security_admin", "audit_admin")
# 省厅业务处室 (Role.BOARD_VIEWER): the progress boards, read-only, and nothing else.
OFFICE = ("office",)
SIGNED_IN = (*ENTERPRISE, *GOVERNMENT, *OFFICE, *ADMINS)
PERSONAS = ("anonymous", *SIGNED_IN)
# Everyone signed in who reviews something (the review inbox and done lists are theirs).
REVIEWING = ("institution", "institution_other", "division", *REVIEWERS)


def build_world() -> dict:
    """Objects of one 麒麟区 (曲靖) project, and personas inside and outside it and its jurisdiction."""
    from tests.conftest import ensure_divisions

    ensure_divisions()
    K = Organization.Kind
    orgs = {
        "design": f.make_org("设计院", K.DESIGN),
        "design_other": f.make_org("另一设计院", K.DESIGN, division="532501"),
        "builder": f.make_org("施工总包公司", K.GENERAL_CONTRACTOR),
        "builder_hh": f.make_org("红河施工公司", K.GENERAL_CONTRACTOR, division="532501"),
        "specialty": f.make_org("专业承包公司", K.SPECIALTY_CONTRACTOR),
        "supervision": f.make_org("监理公司", K.SUPERVISION),
        "survey": f.make_org("勘察院", K.SURVEY),
        "owner": f.make_org("建设单位", K.OWNER),
        "outsider": f.make_org("无关企业", K.SUPERVISION, division="532501"),
        "institution": f.make_org("审图中心", K.REVIEW_INSTITUTION),
        "institution_other": f.make_org("另一审图机构", K.REVIEW_INSTITUTION, division="532501"),
        "bureau_qlq": f.make_org("麒麟区住房和城乡建设局", K.HOUSING_BUREAU, division="530302"),
        "bureau_hh": f.make_org("红河州住房和城乡建设局", K.HOUSING_BUREAU, division="532500"),
        "division": f.make_org("省厅勘察设计处", K.PROVINCE_DEPT, K.DESIGN_DIVISION, division="530000"),
    }
    users = {name: f.make_user(f"m_{name}", orgs[name], Role.ENTERPRISE) for name in ENTERPRISE}
    # The design unit's user is also its enterprise administrator (the enterprises app's staff pages).
    users["design"].roles = User.encode_roles([Role.ENTERPRISE, Role.ENTERPRISE_ADMIN])
    users["design"].save()
    colleague = f.make_user("m_design_colleague", orgs["design"], Role.ENTERPRISE)
    users["institution"] = f.make_user("m_institution", orgs["institution"], Role.INSTITUTION)
    users["institution_other"] = f.make_user("m_institution_o", orgs["institution_other"], Role.INSTITUTION)
    users["division"] = f.make_user("m_division", orgs["division"], Role.DESIGN_DIVISION)
    users["reviewer_qj"] = f.make_reviewer("m_reviewer_qj", "530300", *REVIEW_STAGES)
    users["reviewer_qlq"] = f.make_reviewer("m_reviewer_qlq", "530302", Stage.PERMIT, org=orgs["bureau_qlq"])
    users["reviewer_hh"] = f.make_reviewer("m_reviewer_hh", "532500", *REVIEW_STAGES, org=orgs["bureau_hh"])
    # No superuser: the administrators hold their role (and the system administrator the admin site).
    users["province_admin"] = f.make_user("m_admin", orgs["division"], Role.PROVINCE_ADMIN, is_staff=True)
    users["office"] = f.make_user("m_office", orgs["division"], Role.BOARD_VIEWER)
    users["security_admin"] = f.make_user("m_security", orgs["division"], Role.SECURITY_ADMIN)
    users["audit_admin"] = f.make_user("m_auditor", orgs["division"], Role.AUDIT_ADMIN)

    project = f.make_project("530302", owner=orgs["owner"], name="麒麟区矩阵项目")
    review = f.register_review(project, orgs["design"], orgs["institution"])
    f.complete_and_submit_review(review, users["design"])
    f.approve(review, users["institution"])
    f.approve(review, users["division"])
    permit = submit_permit(users["builder"], review, orgs["bureau_qlq"])
    # The same in 红河 (个旧市), by 红河's contractor: 曲靖's people are strangers to it.
    project_hh = f.make_project("532501", owner=orgs["owner"], name="个旧市矩阵项目")
    review_hh = f.register_review(project_hh, orgs["design"], orgs["institution"])
    f.complete_and_submit_review(review_hh, users["design"])
    f.approve(review_hh, users["institution"])
    f.approve(review_hh, users["division"])
    permit_hh = submit_permit(users["builder_hh"], review_hh, orgs["bureau_hh"])
    draft = f.register_review(project, orgs["design"], orgs["institution"])
    attachment = attachments.attachment_upload(
        actor=users["design"], kind=draft.KIND, record_id=draft.pk, upload=upload("扫描件.pdf", PDF_BYTES)
    )
    conflict = SyncConflict.objects.create(
        table="TBProjectInfo",
        record_key="p:1",
        idempotency_key="p:1:v1",
        version=1,
        project=project,
        number=project.prj_num,
        local_kind="project",
        local_id=project.pk,
        fields=["PrjName"],
        ours={"PrjNum": project.prj_num, "PrjName": project.name},
        theirs={"PrjNum": project.prj_num, "PrjName": "平台上的名称"},
    )
    addition = ps.addition_request_save(
        actor=users["design"],
        submit=True,
        data={
            "prj_num": "5303022001019999",
            "project_name": "麒麟区历史项目",
            "county": Division.objects.get(pk="530302"),
            "owner_name": "某建设单位",
            "censor_num": "5303022001019999-TX-001",
            "censor_org": orgs["institution"],
            "censor_date": date(2019, 1, 15),
            "reason": "2019年系统切换前办理，原系统数据未迁移。",
            "contact_name": "李设计",
            "contact_phone": "0874-3120000",
        },
    )
    # A workbook the contractor uploaded for bulk entry (its rows do not matter here).
    bulk_upload = BulkUpload.objects.create(
        kind="tender_contract", owner_org=orgs["builder"], uploaded_by=users["builder"], filename="历史.xlsx"
    )
    # 提级: a permit of another 麒麟区 project approved by the county (level C), its contractor's request
    # at 曲靖 (the prefecture verifies it).
    project_level = f.make_project("530302", owner=orgs["owner"], name="麒麟区提级项目")
    review_level = f.register_review(project_level, orgs["design"], orgs["institution"])
    f.complete_and_submit_review(review_level, users["design"])
    f.approve(review_level, users["institution"])
    f.approve(review_level, users["division"])
    permit_level = f.approve(
        submit_permit(users["builder"], review_level, orgs["bureau_qlq"]), users["reviewer_qlq"]
    )
    level_request = review_services.level_request_submit(
        actor=users["builder"], kind="permit", record_ids=[permit_level.pk], purpose="资质申请"
    )
    # An enterprise's registration waiting for the province (the enterprises app).
    registration, registration_token = enterprise_services.register(
        data={
            "credit_code": complete_credit_code("9153030277777777"),
            "name": "矩阵注册企业",
            "kinds": ["supervision"],
            "division": Division.objects.get(pk="530302"),
            "contact_name": "注册联系人",
            "contact_mobile": "13900000000",
            "contact_email": "reg@example.com",
            "username": "m_registrant",
            "password": "Reg@Matrix-2026",
            "licence_name": "营业执照.pdf",
        },
        licence=upload("营业执照.pdf", PDF_BYTES),
    )
    # 更正: the contractor's correction of that permit, in review at 麒麟区 (its issuing authority); the
    # design unit's draft correction of its approved drawing review.
    correction = corrections.correction_save(
        actor=users["builder"],
        kind="permit",
        record_id=permit_level.pk,
        changes={"contract_amount": "4321.5"},
        reason="合同金额录入有误",
        submit=True,
    )
    correction_draft = corrections.correction_save(
        actor=users["design"],
        kind="drawing_review",
        record_id=review.pk,
        changes={"scale": "更正后的建设规模"},
        reason="建设规模录入有误",
        submit=False,
    )
    return {
        "registration": registration,
        "registration_token": registration_token,
        "colleague": colleague,
        "correction": correction,
        "correction_draft": correction_draft,
        "bulk_upload": bulk_upload,
        "users": users,
        "orgs": orgs,
        "project": project,
        "review": review,
        "draft": draft,
        "permit": permit,
        "project_hh": project_hh,
        "permit_hh": permit_hh,
        "attachment": attachment,
        "conflict": conflict,
        "addition": addition,
        "level_request": level_request,
        # The design unit was told of its drawing review's approval (notices): its message.
        "message": Message.objects.filter(recipient=users["design"]).first(),
    }


# --- the walk of the URLconf ---------------------------------------------------------------------


def url_patterns() -> list[tuple[str, str]]:
    """(name or route, route) of every pattern; admin-site patterns are named "admin:…"."""
    found: list[tuple[str, str]] = []

    def walk(patterns, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = ":".join(part for part in (namespace, pattern.namespace) if part)
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                name = ":".join(part for part in (namespace, pattern.name) if part) if pattern.name else ""
                found.append((name or (namespace + ":" + route if namespace else route), route))

    walk(get_resolver().url_patterns, "", "")
    return found


# --- the declared access rules ---------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """Who may open one URL, how, and what everyone else gets.

    `allowed` personas get a status in `ok`; other signed-in personas get one in `denied`; anonymous
    gets the login page unless it is in `allowed`. `kwargs` fills the path parameters from the world;
    `data` is the POST body. `lists` marks a keyset-paginated list page (tested with forged cursors).
    """

    allowed: tuple[str, ...]
    ok: tuple[int, ...] = (200,)
    method: str = "get"
    kwargs: Callable[[dict], dict] | None = None
    data: Callable[[dict], dict] | None = None
    denied: tuple[int, ...] = (403, 404)
    lists: bool = False
    # More (kwargs, allowed) cases: the same URL on objects of another organisation or jurisdiction.
    elsewhere: tuple[tuple[Callable[[dict], dict], tuple[str, ...]], ...] = ()


def _pk(key: str) -> Callable[[dict], dict]:
    return lambda w: {"pk": w[key].pk}


def _record(key: str) -> Callable[[dict], dict]:
    return lambda w: {"kind": w[key].KIND, "pk": w[key].pk}


TENDER_ENTERERS = tuple(p for p in ENTERPRISE if p != "owner")
NO_TOKEN = {"token": "t" * 32}  # an upload or result token that is not in the caller's session
ADMIN = ("province_admin",)

RULES: dict[str, Rule] = {
    # Public: the health check, the login page, one-time activation links, the signed platform endpoint.
    "healthz": Rule(PERSONAS),
    "favicon": Rule(PERSONAS, ok=(301,)),
    # The timeout warning's 继续: a signed-in session is kept; a lapsed one answers 401 for the page to say so.
    "keepalive": Rule(PERSONAS, method="post", ok=(200, 401)),
    # Units by name or code for the entry forms' suggestions: enterprise users.
    "org-lookup": Rule(ENTERPRISE),
    "core:login": Rule(PERSONAS, ok=(200, 302)),
    "core:logout": Rule(PERSONAS, method="post", ok=(302,)),
    # 使用CA数字证书登录: no certificate here, so back to the login page (signed in: home).
    "core:ca-login": Rule(PERSONAS, method="post", ok=(302,)),
    "roster:activate": Rule(
        PERSONAS, kwargs=lambda w: {"uidb64": "MTIz", "token": "cqv1x2-0123456789abcdef"}
    ),
    "sync:inbound": Rule(PERSONAS, method="post", ok=(401,)),  # unsigned: refused by the signature check
    # Every signed-in user: the home page sends each to their role's page.
    "core:home": Rule(SIGNED_IN, ok=(302,)),
    "core:home-role": Rule(REVIEWING, kwargs=lambda w: {"role": "reviewer"}),
    # 三员分立: the security administrator's and the audit administrator's pages.
    "core:accounts": Rule(("security_admin",), lists=True),
    "core:account-unlock": Rule(
        ("security_admin",), method="post", ok=(302,), kwargs=lambda w: {"pk": w["users"]["design"].pk}
    ),
    "core:audit-log": Rule(("audit_admin",), lists=True),
    # CA digital certificates: the holder's own (business roles), the security administrator's binding.
    "core:certificate-bind": Rule((*ENTERPRISE, *GOVERNMENT)),
    "core:account-certificates": Rule(
        ("security_admin",), kwargs=lambda w: {"pk": w["users"]["reviewer_qj"].pk}
    ),
    "core:account-certificate-unbind": Rule(
        ("security_admin",),
        method="post",
        ok=(302,),
        kwargs=lambda w: {"pk": w["users"]["reviewer_qj"].pk, "cert_pk": 1},
    ),
    "core:account-password-reset": Rule(
        ("security_admin",), method="post", kwargs=lambda w: {"pk": w["users"]["design"].pk}
    ),
    "core:account-otp-reset": Rule(
        ("security_admin",), method="post", ok=(302,), kwargs=lambda w: {"pk": w["users"]["reviewer_qj"].pk}
    ),
    # Everyone's own account security: the password, the second factor (verified sessions here).
    "core:password-change": Rule(SIGNED_IN),
    "core:otp-setup": Rule(SIGNED_IN, ok=(200, 302)),
    "core:otp-verify": Rule(SIGNED_IN, ok=(200, 302)),
    "core:otp-backup-codes": Rule(SIGNED_IN, method="post", ok=(200, 302)),
    # Enterprise pages: every enterprise user; project pages only the project's parties.
    "projects:workspace": Rule(ENTERPRISE, lists=True),
    "projects:project-find": Rule(ENTERPRISE),
    # 业绩: each enterprise user sees its own organization's rows only (no ids in these URLs).
    "projects:performance": Rule(ENTERPRISE, lists=True),
    "projects:performance-export": Rule(ENTERPRISE),
    "projects:performance-print": Rule(ENTERPRISE),
    "projects:my-reviews": Rule(ENTERPRISE, lists=True),
    "projects:additions": Rule(ENTERPRISE, lists=True),
    "projects:review-picker": Rule(ENTERPRISE),
    "projects:building-row": Rule(ENTERPRISE),
    # The builder's permit is still in review: a draft or a submission makes nobody a party (issue 11).
    "projects:project": Rule(
        ("design",),
        kwargs=_pk("project"),
        elsewhere=((_pk("project_hh"), ("design",)),),
    ),
    # The project already has its drawing review: nobody creates another here.
    "projects:review-new": Rule((), kwargs=_pk("project")),
    "projects:tender-new": Rule(("design",), kwargs=_pk("project")),
    "projects:completion-new": Rule(("design",), kwargs=_pk("project")),
    "projects:addition-new": Rule(("design", "design_other")),
    "projects:addition-print": Rule(("design",), kwargs=_pk("addition")),
    "projects:permit-new": Rule(("builder", "builder_hh", "specialty")),
    "projects:specialty-new": Rule(("specialty",)),
    # The one entry view by kind key (docs/architecture.md): the same rules as the named pages.
    "projects:record-new": Rule(("design", "design_other"), kwargs=lambda w: {"kind": "addition_request"}),
    "projects:record-new-in-project": Rule(
        ("design",), kwargs=lambda w: {"pk": w["project"].pk, "kind": "tender_contract"}
    ),
    "projects:record": Rule(("design",), kwargs=_record("review")),
    "projects:record-edit": Rule(("design",), kwargs=_record("draft")),
    "projects:attachment-upload": Rule(
        ("design",),
        method="post",
        ok=(302,),
        kwargs=_record("draft"),
        data=lambda w: {"file": upload("补充.pdf", PDF_BYTES + b"%2"), "description": ""},
        denied=(400, 403, 404),  # a party that is not the enterer: the form or the service refuses
    ),
    # The parties, the record's reviewers (institution, division) and the system administrator.
    "projects:attachment-download": Rule(
        ("design", "institution", "division", "province_admin"), kwargs=_pk("attachment")
    ),
    "projects:attachment-delete": Rule(("design",), method="post", ok=(302,), kwargs=_pk("attachment")),
    # Review: whoever reviews something; a record only its reviewers (曲靖 and 麒麟区 permit reviewers).
    "review:inbox": Rule(REVIEWING, lists=True),
    "review:inbox-export": Rule(REVIEWING),
    "review:done": Rule(REVIEWING, lists=True),
    "review:done-export": Rule(REVIEWING),
    "review:bulk-approve": Rule(REVIEWING, method="post", ok=(302,)),
    "review:bulk-result": Rule(REVIEWING, ok=(302,)),  # nothing in the session: back to the inbox
    "review:record": Rule(
        ("reviewer_qj", "reviewer_qlq"),
        kwargs=_record("permit"),
        elsewhere=((_record("permit_hh"), ("reviewer_hh",)),),
    ),
    # 撤销认定 of the approved drawing review: the design division (its reviewer); the institution sees
    # it but only confirms (403); everyone else does not see it (404) or is no reviewer (403).
    "review:record-revoke": Rule(
        ("division",),
        method="post",
        ok=(302,),
        kwargs=_record("review"),
        data=lambda w: {
            "lock_version": type(w["review"]).objects.get(pk=w["review"].pk).lock_version,
            "reason": "经核实系伪造",
            "evidence": upload("核查报告.pdf", PDF_BYTES),
        },
    ),
    # The revocations of every enterprise: the province's reviewers and the design division.
    "review:revocations": Rule(("division",), lists=True),
    # Issue 16 §2: the records nobody reviews and overdue steps (the province; a liaison their own:
    # tests/review/test_routing.py), a reviewer's open steps and their reassignment, deactivating a
    # reviewer; the enterer's withdrawal (GET: the confirmation page; the owner's enterer only).
    "review:stalled": Rule(ADMIN, lists=True),
    "review:reviewer-tasks": Rule(ADMIN, kwargs=lambda w: {"pk": w["users"]["reviewer_qlq"].pk}, lists=True),
    "review:reviewer-deactivate": Rule(
        ADMIN, kwargs=lambda w: {"pk": w["users"]["reviewer_qlq"].pk}, lists=True
    ),
    "review:record-withdraw": Rule(
        ("builder",), kwargs=_record("permit"), elsewhere=((_record("permit_hh"), ("builder_hh",)),)
    ),
    # 提级: enterprises ask (the form lists their own raisable records); reviewers list what is filed
    # with their roster lines; a request is verified by the prefecture's reviewer of its stage only.
    "review:level-new": Rule(ENTERPRISE, kwargs=lambda w: {"kind": "permit"}),
    "review:level-mine": Rule(ENTERPRISE, lists=True),
    "review:level-requests": Rule(REVIEWERS, lists=True),
    "review:level-request": Rule(("reviewer_qj",), kwargs=_pk("level_request")),
    # 更正: the enterer of an approved record asks (other parties 403, the rest 404); a correction is
    # decided on its page by the reviewers of the record's step (曲靖 and 麒麟区 permit reviewers) only.
    "projects:record-correct": Rule(("design",), kwargs=_record("review")),
    "projects:correction-withdraw": Rule(
        ("design",), method="post", ok=(302,), kwargs=_pk("correction_draft")
    ),
    "review:correction": Rule(("reviewer_qj", "reviewer_qlq"), kwargs=_pk("correction")),
    # Rosters: the system administrator (a prefecture's liaison sees their own: tests/review).
    "roster:index": Rule(ADMIN),
    "roster:template": Rule(ADMIN),
    "roster:upload": Rule(ADMIN),
    "roster:preview": Rule(ADMIN, ok=(302,), kwargs=lambda w: NO_TOKEN),
    "roster:error-report": Rule(ADMIN, ok=(302,), kwargs=lambda w: NO_TOKEN),
    "roster:apply": Rule(ADMIN, method="post", ok=(302,), kwargs=lambda w: NO_TOKEN),
    "roster:result": Rule(ADMIN, ok=(404,), kwargs=lambda w: NO_TOKEN),
    "roster:result-accounts": Rule(ADMIN, ok=(404,), kwargs=lambda w: NO_TOKEN),
    "roster:pending": Rule(ADMIN, lists=True),
    "roster:pending-export": Rule(ADMIN),
    "roster:export": Rule(ADMIN),
    "roster:mine": Rule(ADMIN, ok=(302,)),
    "roster:prefecture": Rule(ADMIN, kwargs=lambda w: {"key": "530300"}, lists=True),
    "roster:prefecture-export": Rule(ADMIN, kwargs=lambda w: {"key": "530300"}),
    # Sync operations: the system administrator.
    "sync:operations": Rule(ADMIN, lists=True),
    "sync:repush": Rule(ADMIN, method="post", ok=(302,)),
    "sync:project": Rule(ADMIN, kwargs=_pk("project")),
    "sync:conflicts": Rule(ADMIN, lists=True),
    "sync:conflict": Rule(ADMIN, kwargs=_pk("conflict")),
    # The message centre: everyone signed in has one; a message only its recipient opens; the list of
    # failed sends is the system administrator's.
    "notices:list": Rule(SIGNED_IN, lists=True),
    "notices:open": Rule(("design",), method="post", ok=(302,), kwargs=_pk("message")),
    "notices:read-all": Rule(SIGNED_IN, method="post", ok=(302,)),
    "notices:preferences": Rule(SIGNED_IN),
    "notices:failed": Rule(ADMIN, lists=True),
    # The progress boards: the province (省厅业务处室, the system administrator), each reviewer their
    # roster's divisions (tests/boards for the scopes); the design division's board by unit.
    "boards:board": Rule(("office", "province_admin", *REVIEWERS)),
    "boards:records": Rule(("office", "province_admin", *REVIEWERS), lists=True),
    "boards:trend": Rule(("office", "province_admin", *REVIEWERS)),
    "boards:design": Rule(("office", "province_admin", "division")),
    # Loads of the existing systems' exports: the system administrator (a job that is not there: 404).
    # Bulk entry from Excel: the kinds the organisation enters (the 建设单位 enters neither); an
    # upload only for its own organisation. An upload without a file is refused (400).
    "bulk:index": Rule(ENTERPRISE),
    "bulk:template": Rule(
        TENDER_ENTERERS,
        kwargs=lambda w: {"kind": "tender_contract"},
        elsewhere=(
            (lambda w: {"kind": "completion"}, ("builder", "builder_hh", "specialty")),
            (lambda w: {"kind": "specialty_info"}, ("specialty",)),
            (lambda w: {"kind": "permit"}, ("builder", "builder_hh", "specialty")),
        ),
    ),
    "bulk:upload": Rule(
        TENDER_ENTERERS,
        method="post",
        ok=(400,),
        kwargs=lambda w: {"kind": "tender_contract"},
        elsewhere=(
            (lambda w: {"kind": "completion"}, ("builder", "builder_hh", "specialty")),
            (lambda w: {"kind": "specialty_info"}, ("specialty",)),
            (lambda w: {"kind": "permit"}, ("builder", "builder_hh", "specialty")),
        ),
    ),
    "bulk:preview": Rule(("builder",), kwargs=_pk("bulk_upload")),
    "bulk:errors": Rule(("builder",), kwargs=_pk("bulk_upload")),
    "bulk:apply": Rule(("builder",), method="post", ok=(302,), kwargs=_pk("bulk_upload")),
    "bulk:submit": Rule(("builder",), method="post", ok=(302,), kwargs=_pk("bulk_upload")),
    # Enterprises (issue 17): registration, its status by token link, the one-time password link and the
    # public verified-performance query are public; the queue is the system administrator's (the province
    # approves); the staff pages are the enterprise administrator's (the design unit's m_design here), for
    # the accounts of its own organisation only.
    "enterprises:register": Rule(PERSONAS),
    "enterprises:status": Rule(PERSONAS, kwargs=lambda w: {"token": w["registration_token"]}),
    "enterprises:set-password": Rule(
        PERSONAS, kwargs=lambda w: {"uidb64": "MTIz", "token": "cqv1x2-0123456789abcdef"}
    ),
    "enterprises:public-search": Rule(PERSONAS),
    "enterprises:public-enterprise": Rule(
        PERSONAS, kwargs=lambda w: {"code": w["orgs"]["builder"].credit_code}
    ),
    "enterprises:queue": Rule(ADMIN, lists=True),
    "enterprises:registration": Rule(ADMIN, kwargs=_pk("registration")),
    "enterprises:licence": Rule(ADMIN, kwargs=_pk("registration")),
    "enterprises:approve": Rule(ADMIN, method="post", ok=(302,), kwargs=_pk("registration")),
    "enterprises:refuse": Rule(
        ADMIN, method="post", ok=(302,), kwargs=_pk("registration"), data=lambda w: {"reason": "执照不清晰"}
    ),
    "enterprises:staff": Rule(("design",), lists=True),
    "enterprises:staff-new": Rule(("design",)),
    "enterprises:staff-audit": Rule(("design",), lists=True),
    "enterprises:staff-disable": Rule(
        ("design",),
        method="post",
        ok=(302,),
        kwargs=_pk("colleague"),
        elsewhere=((lambda w: {"pk": w["users"]["design_other"].pk}, ()),),  # another enterprise's
    ),
    "enterprises:staff-enable": Rule(
        ("design",),
        method="post",
        ok=(302,),
        kwargs=_pk("colleague"),
        elsewhere=((lambda w: {"pk": w["users"]["design_other"].pk}, ()),),  # another enterprise's
    ),
    "enterprises:staff-password": Rule(
        ("design",),
        method="post",
        kwargs=_pk("colleague"),
        elsewhere=((lambda w: {"pk": w["users"]["design_other"].pk}, ()),),  # another enterprise's
    ),
    "loads:index": Rule(ADMIN),
    "loads:job": Rule(ADMIN, ok=(404,), kwargs=lambda w: {"pk": 987654}),
    "loads:apply": Rule(ADMIN, method="post", ok=(404,), kwargs=lambda w: {"pk": 987654}),
    "loads:report": Rule(ADMIN, ok=(404,), kwargs=lambda w: {"pk": 987654}),
}

# The admin site (Django's, one rule for all its patterns): only staff get in; everyone else is sent
# to its login page. Which models each administrator sees there is tested with the admin site itself.
ADMIN_SITE_STAFF = ADMINS
ADMIN_SITE_OPEN = {"admin:login", "admin:logout"}
ADMIN_SITE_PERSONAS = ("anonymous", "design", "reviewer_qj", *ADMINS)


def _admin_url(name: str, route: str) -> str:
    from django.urls import NoReverseMatch, reverse

    if "(?P<url>" in route:  # the admin site's catch-all
        return "/admin/no-such-page/"
    if name == f"admin:{route}":  # unnamed (old change-view URLs that redirect): fill each parameter
        return "/" + re.sub(r"<[^>]+>", "1", route)
    for kwargs in (
        {},
        {"object_id": "1"},
        {"id": "1"},
        {"app_label": "core"},
        {"content_type_id": "1", "object_id": "1"},
    ):
        try:
            return reverse(name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    raise AssertionError(f"cannot fill the path parameters of {name} ({route})")


# --- the tests -----------------------------------------------------------------------------------

PATTERNS = url_patterns()
APP_PATTERNS = [(name, route) for name, route in PATTERNS if not name.startswith("admin:")]
ADMIN_PATTERNS = [(name, route) for name, route in PATTERNS if name.startswith("admin:")]


def test_every_url_pattern_has_an_access_rule():
    names = [name for name, _route in APP_PATTERNS]
    missing = sorted(set(names) - set(RULES))
    assert not missing, f"URL patterns without an access rule in tests/test_url_matrix.py RULES: {missing}"
    stale = sorted(set(RULES) - set(names))
    assert not stale, f"RULES names no URL pattern: {stale}"
    assert all(name.startswith("admin:") for name, _route in ADMIN_PATTERNS)
    assert len(names) == len(set(names)), "two patterns share one name: give each its own"


def _client(world: dict, persona: str) -> Client:
    client = Client()
    if persona != "anonymous":
        client.force_login(world["users"][persona])
    return client


def _request(world: dict, persona: str, method: str, url: str, data: dict | None = None):
    """One request in a savepoint rolled back afterwards: each persona sees the same world."""
    savepoint = transaction.savepoint()
    try:
        return getattr(_client(world, persona), method)(url, data or {})
    finally:
        transaction.savepoint_rollback(savepoint)


def _is_login_redirect(response, login: str = "/login/") -> bool:
    return response.status_code == 302 and response["Location"].startswith(login)


def _groups() -> list[str]:
    return sorted({name.split(":")[0] if ":" in name else "root" for name, _route in APP_PATTERNS})


@pytest.mark.parametrize("group", _groups())
def test_each_persona_gets_what_the_rules_say(db, group):
    from django.urls import reverse

    world = build_world()
    failures = []
    for name, _route in APP_PATTERNS:
        if (name.split(":")[0] if ":" in name else "root") != group:
            continue
        rule = RULES[name]
        for kwargs, allowed, persona in [
            (kwargs, allowed, persona)
            for kwargs, allowed in ((rule.kwargs, rule.allowed), *rule.elsewhere)
            for persona in PERSONAS
        ]:
            url = reverse(name, kwargs=kwargs(world) if kwargs else None)
            data = rule.data(world) if rule.data else None
            response = _request(world, persona, rule.method, url, data)
            status = response.status_code
            if persona in allowed:
                good = status in rule.ok
                expected = f"allowed: {rule.ok}"
            elif persona == "anonymous":
                good = _is_login_redirect(response)
                expected = "the login page"
            else:
                good = status in rule.denied
                expected = f"refused: {rule.denied}"
            if not good:
                failures.append(
                    f"{rule.method.upper()} {url} ({name}) as {persona}: {status}, expected {expected}"
                )
            # A keyset-paginated page must be declared a list, so that forged cursors are tried on it.
            paged = isinstance((response.context or {}).get("page"), pagination.Page)
            if good and paged and not rule.lists:
                failures.append(f"{name} is a paginated list: declare it with lists=True")
    assert not failures, "\n".join(failures)


def test_the_admin_site_lets_in_staff_only(db):
    world = build_world()
    failures = []
    for name, route in ADMIN_PATTERNS:
        url = _admin_url(name, route)
        method = "post" if name == "admin:logout" else "get"
        for persona in ADMIN_SITE_PERSONAS:
            response = _request(world, persona, method, url)
            status = response.status_code
            if name in ADMIN_SITE_OPEN or persona in ADMIN_SITE_STAFF:
                good = status in (200, 302, 403, 404)
            else:
                good = _is_login_redirect(response, "/admin/login/") or status == 404
            if not good:
                failures.append(f"{method.upper()} {name} ({url}) as {persona}: {status}")
    assert not failures, "\n".join(failures)


# --- forged cursors on every list page -------------------------------------------------------------


def _cursor(values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


BAD_VALUES = [
    "abc",
    2**70,
    1.5e308,
    {"a": 1},
    None,
    "2020-13-45T00:00:00+08:00",
    "2020-01-01T00:00:00",  # naive
    "\u0000",
]
FORGED = [
    "!!!",
    "a",
    base64.urlsafe_b64encode(b"\xff\xfe").decode(),
    _cursor("not a list"),
    _cursor([]),
    base64.urlsafe_b64encode(b"[" * 2000).decode(),  # nested past the JSON parser's recursion limit
    *[_cursor([value] * length) for value in BAD_VALUES for length in (1, 2, 3)],
    *[_cursor(["2020-01-01T00:00:00+08:00", value]) for value in BAD_VALUES],
    *[_cursor(["曲靖市", value, 1]) for value in BAD_VALUES],
]
LIST_PAGES = [name for name, rule in RULES.items() if rule.lists]


@pytest.mark.parametrize("name", LIST_PAGES)
def test_a_forged_cursor_starts_at_the_first_page(db, name):
    from django.urls import reverse

    world = build_world()
    rule = RULES[name]
    url = reverse(name, kwargs=rule.kwargs(world) if rule.kwargs else None)
    persona = rule.allowed[0]
    client = _client(world, persona)
    first = client.get(url)
    assert first.status_code == 200
    first_rows = [getattr(row, "pk", row) for row in first.context["page"].rows]
    for cursor in FORGED:
        response = client.get(url, {"after": cursor})
        assert response.status_code == 200, (name, cursor)
        page = response.context["page"]
        assert page.is_first, (name, cursor)
        assert [getattr(row, "pk", row) for row in page.rows] == first_rows, (name, cursor)
