"""Demo organizations and accounts for every role (used by `manage.py load_demo`).

Known passwords: this module refuses to run against a production configuration unless forced.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from yunjian.core.models import Division, Organization, Role, User, Zone
from yunjian.core.validators import complete_credit_code

DEMO_PASSWORD = "Yunjian@2026"


@dataclass(frozen=True)
class DemoOrg:
    key: str
    name: str
    kinds: tuple[str, ...]
    division: str
    code16: str  # first 16 characters; the two check characters are computed


K = Organization.Kind
ORGS = (
    DemoOrg("design", "云南省城乡规划设计研究院有限公司", (K.DESIGN, K.SURVEY), "530102", "9153010021652301"),
    DemoOrg("design2", "曲靖市建筑设计院有限公司", (K.DESIGN,), "530302", "9153030021653302"),
    DemoOrg("survey", "云南地质工程勘察设计研究院有限公司", (K.SURVEY,), "530103", "9153010021654303"),
    DemoOrg("builder", "云南建投第一建设有限公司", (K.GENERAL_CONTRACTOR,), "530111", "9153010021655304"),
    DemoOrg("builder2", "红河建工集团有限公司", (K.GENERAL_CONTRACTOR,), "532501", "9153250021656305"),
    DemoOrg("specialty", "云南华电消防工程有限公司", (K.SPECIALTY_CONTRACTOR,), "530302", "9153030021657306"),
    DemoOrg("supervision", "云南城市建设工程监理有限公司", (K.SUPERVISION,), "530102", "9153010021658307"),
    DemoOrg("owner", "曲靖市城市投资开发有限公司", (K.OWNER,), "530302", "9153030021659308"),
    DemoOrg("owner2", "红河州教育体育局", (K.OWNER,), "532501", "1153250021660309"),
    DemoOrg("owner3", "昆明市五华区红十字会", (K.OWNER,), "530102", "N253010221661300"),
    DemoOrg(
        "institution", "云南省建设工程施工图审查中心", (K.REVIEW_INSTITUTION,), "530103", "9153010021662301"
    ),
    DemoOrg(
        "institution2", "曲靖市施工图审查有限公司", (K.REVIEW_INSTITUTION,), "530302", "9153030021663302"
    ),
    DemoOrg("bureau_km", "昆明市住房和城乡建设局", (K.HOUSING_BUREAU,), "530100", "1153010001664303"),
    DemoOrg("bureau_qj", "曲靖市住房和城乡建设局", (K.HOUSING_BUREAU,), "530300", "1153030001665304"),
    DemoOrg("bureau_qlq", "曲靖市麒麟区住房和城乡建设局", (K.HOUSING_BUREAU,), "530302", "1153030201666305"),
    DemoOrg(
        "bureau_hh", "红河哈尼族彝族自治州住房和城乡建设局", (K.HOUSING_BUREAU,), "532500", "1153250001667306"
    ),
    DemoOrg("province", "云南省住房和城乡建设厅", (K.PROVINCE_DEPT,), "530000", "1153000001668307"),
    DemoOrg(
        "division",
        "云南省住房和城乡建设厅勘察设计处",
        (K.PROVINCE_DEPT, K.DESIGN_DIVISION),
        "530000",
        "1153000001669308",
    ),
)


@dataclass(frozen=True)
class DemoAccount:
    username: str
    full_name: str
    role: str
    org: str
    note: str


DEMO_ACCOUNTS = (
    DemoAccount(
        "design1", "李设计", Role.ENTERPRISE, "design", "设计单位：完善图审信息、申请新增、招投标（设计）"
    ),
    DemoAccount("design2", "陈设计", Role.ENTERPRISE, "design2", "设计单位（曲靖）"),
    DemoAccount("survey1", "赵勘察", Role.ENTERPRISE, "survey", "勘察单位：招投标（勘察）"),
    DemoAccount("builder1", "王施工", Role.ENTERPRISE, "builder", "施工总承包单位：施工许可、竣工验收"),
    DemoAccount("builder2", "刘施工", Role.ENTERPRISE, "builder2", "施工总承包单位（红河）"),
    DemoAccount(
        "builder_admin",
        "王管理",
        Role.ENTERPRISE_ADMIN,
        "builder",
        "施工总承包单位的企业管理员：开设、停用本单位账号",
    ),
    DemoAccount("specialty1", "周专业", Role.ENTERPRISE, "specialty", "专业承包单位：分包及直接发包项目"),
    DemoAccount("supervisor1", "吴监理", Role.ENTERPRISE, "supervision", "监理单位：招投标（监理）"),
    DemoAccount("owner1", "孙建设", Role.ENTERPRISE, "owner", "建设单位：查看本单位项目"),
    DemoAccount("institution1", "钱审图", Role.INSTITUTION, "institution", "审图机构：确认图审信息"),
    DemoAccount("institution2", "冯审图", Role.INSTITUTION, "institution2", "审图机构（曲靖）"),
    DemoAccount("reviewer_qj", "郑审核", Role.REVIEWER, "bureau_qj", "曲靖市审核人员：全部审核环节"),
    DemoAccount("reviewer_qlq", "马审核", Role.REVIEWER, "bureau_qlq", "麒麟区审核人员：施工许可"),
    DemoAccount("reviewer_km", "杨审核", Role.REVIEWER, "bureau_km", "昆明市审核人员：全部审核环节"),
    DemoAccount("reviewer_hh", "何审核", Role.REVIEWER, "bureau_hh", "红河州审核人员：全部审核环节"),
    DemoAccount(
        "division1", "胡复核", Role.DESIGN_DIVISION, "division", "省厅勘察设计处：复核图审、审批新增申请"
    ),
    DemoAccount(
        "office1", "许处室", Role.BOARD_VIEWER, "province", "省厅业务处室（只读）：全省进度看板、图审看板"
    ),
    DemoAccount("admin", "林管理", Role.PROVINCE_ADMIN, "province", "系统管理员：导入审核人员名单、同步运维"),
    DemoAccount("security", "高安全", Role.SECURITY_ADMIN, "province", "安全管理员：账号锁定与解锁"),
    DemoAccount("auditor", "罗审计", Role.AUDIT_ADMIN, "province", "审计管理员：查阅审计日志"),
)


def ensure_zones() -> Zone:
    zone, _ = Zone.objects.get_or_create(slug="dianzhong", defaults={"name": "滇中新区"})
    zone.counties.add(*Division.objects.filter(code__in=["530111", "530127", "530181"]))
    return zone


@transaction.atomic
def load_organizations() -> dict[str, Organization]:
    orgs = {}
    for spec in ORGS:
        code = complete_credit_code(spec.code16)
        org = Organization.objects.filter(credit_code=code).first()
        if org is None:
            org = Organization(credit_code=code)
        org.name = spec.name
        org.kinds = Organization.encode_kinds(spec.kinds)
        org.division_id = spec.division
        org.save()
        orgs[spec.key] = org
    return orgs


@transaction.atomic
def load_accounts(orgs: dict[str, Organization]) -> list[dict]:
    from projects.stages import REVIEW_STAGES, Stage
    from review.models import ReviewerAssignment

    rows = []
    for spec in DEMO_ACCOUNTS:
        org = orgs[spec.org]
        user = User.objects.filter(username=spec.username).first() or User(username=spec.username)
        user.full_name = spec.full_name
        user.organization = org
        # An enterprise administrator is also one of its enterprise's users (enterprises app).
        extra = [Role.ENTERPRISE] if spec.role == Role.ENTERPRISE_ADMIN else []
        user.roles = User.encode_roles([spec.role, *extra])
        # No superuser, even in the demo (三员分立): the system administrator reaches the admin site
        # by role (yunjian.core.admin_site), the other two never do.
        user.is_staff = spec.role == Role.PROVINCE_ADMIN
        user.is_superuser = False
        user.set_password(DEMO_PASSWORD)
        user.save()
        rows.append(
            {
                "username": spec.username,
                "password": DEMO_PASSWORD,
                "role": spec.role,
                "role_label": str(Role(spec.role).label),
                "organization": org.name,
                "note": spec.note,
            }
        )
    plan = {
        "reviewer_qj": ("530300", REVIEW_STAGES),
        "reviewer_qlq": ("530302", (Stage.PERMIT,)),
        "reviewer_km": ("530100", REVIEW_STAGES),
        "reviewer_hh": ("532500", REVIEW_STAGES),
    }
    for username, (division, stages) in plan.items():
        user = User.objects.get(username=username)
        for stage in stages:
            ReviewerAssignment.objects.get_or_create(
                user=user, stage=stage, division_id=division, defaults={"roster_key": division[:4] + "00"}
            )
    ReviewerAssignment.objects.get_or_create(
        user=User.objects.get(username="reviewer_qj"),
        stage=Stage.LIAISON,
        division_id="530300",
        defaults={"roster_key": "530300"},
    )
    return rows


def _prj_num(county: str, serial: int) -> str:
    return f"{county}1903{serial:02d}{serial:04d}"[:16]


def load_projects(orgs: dict[str, Organization]) -> int:
    """Projects in every state of the workflow, built through the real services. Idempotent."""
    from datetime import date
    from decimal import Decimal

    from django.core.files.uploadedfile import SimpleUploadedFile

    from projects import services as ps
    from projects.codes import ContractType, PrjFunction, PrjProperty, PrjType, Scope, TenderMethod
    from projects.models import Project
    from review import services as rs
    from yunjian.core.validators import complete_credit_code, complete_id_number

    if Project.objects.filter(prj_num=_prj_num("530302", 1)).exists():
        return Project.objects.count()
    users = {u.username: u for u in User.objects.filter(username__in=[a.username for a in DEMO_ACCOUNTS])}
    design, builder, institution, division = (
        users["design1"],
        users["builder1"],
        users["institution1"],
        users["division1"],
    )

    def project(serial, name, county, owner="owner", **extra):
        return Project.objects.create(
            prj_num=_prj_num(county, serial),
            name=name,
            county_id=county,
            owner_org=orgs[owner],
            prj_type=PrjType.BUILDING,
            prj_function=PrjFunction.EDUCATION_HEALTH,
            total_investment=Decimal("12500"),
            total_area=Decimal("36800"),
            prj_property=PrjProperty.NEW,
            actual_start=date(2019, 5, 20),
            actual_end=date(2021, 6, 30),
            address=extra.pop("address", ""),
            **extra,
        )

    def review(p, num, inst="institution", design_org="design"):
        return ps.drawing_review_register(
            project=p,
            censor_num=num,
            censor_org=orgs[inst],
            design_org=orgs[design_org],
            scale="地上18层，地下2层",
            censor_date=date(2019, 3, 20),
        )

    def complete(r, submit=True, actor=None):
        return ps.drawing_review_update(
            actor=actor or design,
            review_id=r.pk,
            data={
                "one_pass": True,
                "violations_count": 0,
                "survey_org": orgs["survey"],
                "design_lead": "王设计",
                "design_lead_id": complete_id_number("53010219780312001"),
                "design_lead_cert": "一级注册建筑师",
            },
            submit=submit,
            buildings=[
                {
                    "name": "1号教学楼",
                    "structure_type": "frame",
                    "floors_above": 5,
                    "floors_below": 1,
                    "height": Decimal("21.6"),
                    "area_above": Decimal("8600"),
                    "area_below": Decimal("1200"),
                    "seismic_intensity": "8",
                }
            ],
        )

    def approve(record, who):
        return rs.record_decide(
            actor=who, kind=record.KIND, record_id=record.pk, approve=True, lock_version=None
        )

    def approved_review(p, num):
        r = complete(review(p, num))
        r = approve(r, institution)
        return approve(r, division)

    def permit(p, reviews, num, bureau="bureau_qlq", submit=True):
        return ps.permit_save(
            actor=builder,
            drawing_review_ids=[r.pk for r in reviews],
            submit=submit,
            data={
                "permit_num": num,
                "issuing_org": orgs[bureau],
                "issue_date": date(2019, 5, 8),
                "contract_amount": Decimal("9800.5"),
                "area": Decimal("36800"),
                "contract_num": num.replace("-SX-", "-HT-"),
                "project_manager": "张建国",
                "project_manager_id": complete_id_number("53030219750608003"),
                "project_manager_cert": "云1532019201900001",
                "supervision_org": orgs["supervision"],
                "chief_supervisor": "李监理",
                "chief_supervisor_id": complete_id_number("53010219700915002"),
            },
        )

    # 1. A drawing review waiting for its design unit to complete it (草稿).
    p1 = project(1, "曲靖市第一中学新校区教学楼", "530302", address="麒麟区南宁北路")
    review(p1, "5303021903010001-TX-001")
    # 2. In review at the institution; 3. at the design division.
    p2 = project(2, "曲靖市麒麟区人民医院住院楼", "530302")
    complete(review(p2, "5303021903020002-TX-001"))
    p3 = project(3, "曲靖市文化艺术中心", "530302")
    approve(complete(review(p3, "5303021903030003-TX-001")), institution)
    # 4. Two approved drawing reviews: ready for the general contractor's permit.
    p4 = project(4, "曲靖经开区标准厂房二期", "530302")
    approved_review(p4, "5303021903040004-TX-001")
    approved_review(p4, "5303021903040004-TX-002")
    # 5. A permit waiting at the issuing authority; 6. a returned permit.
    p5 = project(5, "麒麟区寥廓街道保障性住房", "530302")
    permit(p5, [approved_review(p5, "5303021903050005-TX-001")], "5303021903050005-SX-001")
    p6 = project(6, "曲靖市体育中心游泳馆", "530302")
    returned = permit(p6, [approved_review(p6, "5303021903060006-TX-001")], "5303021903060006-SX-001")
    rs.record_decide(
        actor=users["reviewer_qlq"],
        kind="permit",
        record_id=returned.pk,
        approve=False,
        lock_version=None,
        reason="发证日期与施工许可证原件不一致，请核对后重新填写。",
        fields=["issue_date"],
    )
    # 7. An approved permit in 红河: the bundle waits in the outbox for the platform.
    p7 = project(7, "个旧市第二小学综合楼", "532501", owner="owner2")
    approve(
        permit(
            p7,
            [approved_review(p7, "5325011903070007-TX-001")],
            "5325011903070007-SX-001",
            bureau="bureau_hh",
        ),
        users["reviewer_hh"],
    )
    # 8. A project already acknowledged by the platform, with a tender+contract and a completion in review.
    p8 = project(8, "曲靖市第二人民医院门诊楼", "530302")
    approve(
        permit(p8, [approved_review(p8, "5303021903080008-TX-001")], "5303021903080008-SX-001"),
        users["reviewer_qlq"],
    )

    # The platform acknowledges project 8: its bundle goes over HTTP to the reference receiver's
    # database (the one `rundemo` serves) through the worker's claim → POST → receipt path.
    deliver_via_reference_receiver(project_ids=[p8.pk])
    ps.tender_contract_save(
        actor=builder,
        project_id=p8.pk,
        submit=True,
        data={
            "scope": Scope.CONSTRUCTION,
            "tender_method": TenderMethod.OPEN,
            "tender_num": "5303021903080008-BD-001",
            "tender_date": date(2019, 2, 10),
            "tender_amount": Decimal("9800.5"),
            "area": Decimal("36800"),
            "agency_name": "云南招标代理有限公司",
            "agency_code": complete_credit_code("9153010021669310"),
            "contract_num": "5303021903080008-SX-001".replace("-SX-", "-HT-"),
            "contract_type": ContractType.GENERAL,
            "contract_amount": Decimal("9800.5"),
            "contract_date": date(2019, 2, 28),
            "client_name": orgs["owner"].name,
            "client_code": orgs["owner"].credit_code,
            "project_leader": "张建国",
            "leader_id": complete_id_number("53030219750608003"),
        },
    )
    ps.completion_save(
        actor=builder,
        project_id=p8.pk,
        submit=False,
        data={
            "acceptance_num": "5303021903080008-JX-001",
            "acceptance_date": date(2021, 6, 30),
            "actual_start": date(2019, 5, 20),
            "actual_cost": Decimal("10120"),
            "actual_area": Decimal("36800"),
            "structure_type": "frame",
        },
    )
    # 9. An addition request at the design division (a drawing review missing for historical reasons).
    ps.addition_request_save(
        actor=design,
        submit=True,
        data={
            "prj_num": _prj_num("530102", 9),
            "project_name": "昆明市五华区红十字会备灾中心",
            "county": Division.objects.get(pk="530102"),
            "owner_name": orgs["owner3"].name,
            "censor_num": "5301021903090009-TX-001",
            "censor_org": orgs["institution"],
            "censor_date": date(2019, 1, 15),
            "reason": "2019年系统切换前办理，原系统数据未迁移。",
            "contact_name": "李设计",
            "contact_phone": "0871-64138888",
        },
    )
    # 10. A specialty project contracted directly by the owner, basic info in review.
    ps.specialty_info_save(
        actor=users["specialty1"],
        prj_num=_prj_num("530302", 10),
        submit=True,
        project_data={
            "name": "曲靖市会展中心消防工程",
            "county": Division.objects.get(pk="530302"),
            "owner_org": orgs["owner"],
            "prj_type": PrjType.BUILDING,
            "prj_function": PrjFunction.PUBLIC,
            "prj_property": PrjProperty.NEW,
            "actual_start": date(2020, 3, 1),
            "actual_end": date(2020, 11, 30),
        },
        data={"specialty_scope": "消防设施工程"},
    )
    # 11. An approved drawing review found false and revoked by the design division (撤销认定, issue 18).
    p11 = project(11, "麒麟区某商住楼（撤销认定示例）", "530302")
    r11 = complete(review(p11, "5303021903110011-TX-001", design_org="design2"), actor=users["design2"])
    r11 = approve(approve(r11, institution), division)
    rs.record_revoke(
        actor=division,
        kind=r11.KIND,
        record_id=r11.pk,
        reason="经核实，该施工图审查合格书系伪造，审查机构无此审查记录。",
        evidence=SimpleUploadedFile("核查报告.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
    )
    return Project.objects.count()


def deliver_via_reference_receiver(*, project_ids: list[int], db_path: str | None = None):
    """Deliver the projects' due rows to a reference receiver started for the occasion (demo data).

    The receiver serves the same database as the one `rundemo` starts, so the platform side of
    the demo holds what yunjian marks as synced. Real HTTP, real receipts.
    """
    from django.conf import settings

    from sync.receiver import Receiver
    from sync.worker import Worker

    receiver = Receiver(secret=settings.SYNC_SECRET, db_path=db_path or settings.SYNC_DEMO_RECEIVER_DB)
    url = receiver.start()
    worker = Worker(endpoint=url, project_ids=project_ids)
    try:
        return worker.run_until_idle()
    finally:
        worker.close()
        receiver.stop()


def load_board_history(days: int = 30) -> int:
    """The progress boards' figures and, for the trend charts, a month of made-up daily snapshots
    leading to today's real counts (records approved at a steady pace, the rest still waiting), and a
    campaign deadline two months ahead if the province has set none. Demo only: the real history is the
    daily job's (boards.tasks.daily_snapshot)."""
    from datetime import timedelta

    from django.utils import timezone

    from boards import aggregates
    from boards.models import Snapshot
    from yunjian.core.models import Campaign

    aggregates.rebuild_counts()
    aggregates.refresh_tasks()
    aggregates.refresh_slow()
    today = timezone.localdate()
    aggregates.take_snapshot(today)
    if not Campaign.objects.exists():
        Campaign.objects.create(
            name="工程项目历史业绩数据专项治理", deadline=today + timedelta(days=60), target_percent=90
        )
    history = []
    for snap in Snapshot.objects.filter(day=today):
        for back in range(1, days + 1):
            share = 1 - back / (days + 5)  # the share of today's approvals already made that day
            approved = int(snap.approved * share)
            history.append(
                Snapshot(
                    day=today - timedelta(days=back),
                    level=snap.level,
                    division_code=snap.division_code,
                    stage=snap.stage,
                    draft=snap.draft + (snap.approved - approved),
                    in_review=snap.in_review,
                    returned=snap.returned,
                    approved=approved,
                    revoked=snap.revoked,
                    acknowledged=min(snap.acknowledged, approved),
                    overdue=snap.overdue,
                )
            )
    Snapshot.objects.filter(day__lt=today, day__gte=today - timedelta(days=days)).delete()
    Snapshot.objects.bulk_create(history, batch_size=2000)
    return len(history)
