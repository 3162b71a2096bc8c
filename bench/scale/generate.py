"""A province's worth of data in yunjian's own schema (issue 15), written with COPY.

    .venv/bin/python -m bench.scale.generate --scale 1.0 [--database-url postgres://…/yunjian_scale_bench]

--scale 1.0 is the province: 16 prefectures and 129 counties (the divisions the migrations load),
≈ 20,000 organizations, 400,000 projects (one general contractor with 5,000 of them), and on each
project the campaign's chain of records — drawing review (审图机构确认 → 省厅复核), permit, construction
tender+contract, completion — as far as the project got: about half have all four approved, the rest
stop at a record that is pending (in review), returned or still a draft; one record in six went
through two or three rounds. For every round, what the services write: the record's columns (state,
step, revision, lock_version, data_level, submitted/approved times, return reason), the Round with
its snapshot, the inbox rows (review.Task: open ones with their due date, done ones with who decided,
when, the outcome and the data level), audit entries (create, submit with the snapshot, approve /
return), project parties, and the outbox rows of each final approval (mostly delivered, some pending
or failed). Numbers follow docs/data-standard.md §3 (项目编号 county+YYMMDD+nnnn, PrjNum-TX/SX/BD/HZ/JX-001).

Simplifications, said plainly: the outbox payloads carry the key fields only (not the whole
sync.payloads builder output); snapshots carry the record's own fields with the values written here
(no buildings); no django-guardian grants (records are owned by owner_org, which is what the pages
read); no attachments, level requests, revocations or specialty projects.

Personas (password PASSWORD below): scale_qujing (曲靖 prefecture reviewer, every stage), scale_qilin
(麒麟区 county reviewer), scale_division (省厅勘察设计处), scale_institution (the first review
institution), scale_builder (the general contractor with 5,000 projects), scale_admin (系统管理员),
scale_auditor (审计管理员: the audit log).

The database's name must contain "bench"; it is dropped and created again, migrated, filled, ANALYZEd.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yunjian_scale_bench"
PASSWORD = "Bench@Scale2026"
PERSONAS = {
    "prefecture": "scale_qujing",
    "county": "scale_qilin",
    "division": "scale_division",
    "institution": "scale_institution",
    "enterprise": "scale_builder",
    "admin": "scale_admin",
    "auditor": "scale_auditor",
}
QUJING, QILIN = "530300", "530302"
BIG_PROJECTS = 5000
INSTITUTIONS = 30


def log(msg: str, started: float) -> None:
    print(f"[{time.monotonic() - started:7.1f} s] {msg}", flush=True)


def prepare(url: str, *, fresh: bool = True) -> None:
    """Create (again) the bench database, migrate it and set Django up on it."""
    import dj_database_url
    import psycopg2

    from yunjian.dbcheck import ensure_database

    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        raise SystemExit(f"refusing to run on database {config['NAME']!r}: its name must contain 'bench'")
    admin = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
    )
    if fresh:
        admin.autocommit = True
        with admin.cursor() as c:
            c.execute(f'DROP DATABASE IF EXISTS "{config["NAME"]}" WITH (FORCE)')
    ensure_database(admin, config["NAME"])
    admin.close()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "true")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yunjian.settings_test")
    import django

    django.setup()
    if fresh:
        from django.core.management import call_command

        call_command("migrate", verbosity=0, interactive=False)


class Table:
    """COPY rows (dicts keyed by attname) into a model's table; unnamed columns get the field default."""

    def __init__(self, model, *, with_id: bool = False):
        from django.utils import timezone

        now = timezone.now()
        self.table = model._meta.db_table
        fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
        self.names = [f.attname for f in fields]
        self.columns = ", ".join(f'"{f.column}"' for f in fields)
        defaults = []
        for f in fields:
            if f.primary_key:
                value = None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            elif f.has_default():
                value = f.get_default()
            elif f.has_db_default():  # e.g. ProjectParty's stored verdict (a new party starts stale)
                value = getattr(f.db_default, "value", f.db_default)
            elif f.null:
                value = None
            else:
                value = ""
            if isinstance(value, dict | list):
                value = json.dumps(value)
            defaults.append(value)
        self.defaults = defaults

    def copy(self, conn, rows) -> int:
        n = 0
        pairs = list(zip(self.names, self.defaults, strict=True))
        with conn.cursor() as cur, cur.copy(f"COPY {self.table} ({self.columns}) FROM STDIN") as cp:
            for row in rows:
                cp.write_row([row.get(name, default) for name, default in pairs])
                n += 1
        return n


def generate(scale: float, conn, started: float, seed: int = 15, *, commit: bool = True) -> dict[str, int]:
    """Fill the (migrated, empty) database behind `conn`, a psycopg 3 connection; commit=False leaves
    the transaction to the caller (the test runs it inside its own)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password
    from django.utils import timezone

    from projects import workflow
    from projects.codes import (
        ApprovalLevel,
        ContractType,
        PrjFunction,
        PrjProperty,
        PrjType,
        Scope,
        TenderMethod,
    )
    from projects.models import (
        Completion,
        ConstructionPermit,
        DrawingReview,
        Project,
        ProjectParty,
        State,
        TenderContract,
    )
    from review.models import ReviewerAssignment, Task
    from review.workdays import deadline
    from sync import protocol
    from yunjian.core.models import AuditEntry, Organization, Role, User
    from yunjian.core.validators import complete_credit_code

    rng = random.Random(seed)
    now = timezone.now()
    counts: dict[str, int] = {}
    K = Organization.Kind
    A = AuditEntry.Action

    with open(ROOT / "yunjian/core/data/yunnan-divisions.csv", encoding="utf-8") as handle:
        divisions = list(csv.DictReader(handle))
    counties = [d["code"] for d in divisions if d["level"] == "county"]
    names = {d["code"]: d["name"] for d in divisions}

    def next_id(table: str) -> int:
        with conn.cursor() as c:
            c.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}")
            return c.fetchone()[0]

    # --- organizations, their groups, one user each ---------------------------------------------
    n_projects = max(100, int(400_000 * scale))
    n_enterprises = max(120, int(20_000 * scale))
    org_id = next_id("core_organization")
    group_id = next_id("auth_group")
    orgs: list[dict] = []
    groups: list[dict] = []

    def add_org(name: str, kinds: tuple[str, ...], division: str) -> int:
        nonlocal org_id, group_id
        n = len(orgs) + 1
        code = complete_credit_code(f"91{division}{n:08d}"[:16])
        orgs.append(
            {
                "id": org_id,
                "credit_code": code,
                "name": name,
                "kinds": Organization.encode_kinds(kinds),
                "division_id": division,
                "group_id": group_id,
                "created_at": now - timedelta(days=200),
            }
        )
        groups.append({"id": group_id, "name": f"org:{code}"})
        org_id += 1
        group_id += 1
        return org_id - 1

    bureau = {c: add_org(f"{names[c]}住房和城乡建设局", (K.HOUSING_BUREAU,), c) for c in counties}
    for d in divisions:
        if d["level"] == "prefecture":
            add_org(f"{d['name']}住房和城乡建设局", (K.HOUSING_BUREAU,), d["code"])
    province = add_org("云南省住房和城乡建设厅", (K.PROVINCE_DEPT,), "530000")
    division_org = add_org("云南省住房和城乡建设厅勘察设计处", (K.DESIGN_DIVISION,), "530000")
    institutions = [
        add_org(f"云南省第{i + 1}施工图审查中心", (K.REVIEW_INSTITUTION,), counties[i * 4 % len(counties)])
        for i in range(INSTITUTIONS)
    ]
    big = add_org("云南基准建设集团有限公司", (K.GENERAL_CONTRACTOR,), "530102")
    n_design = max(10, n_enterprises // 20)
    n_gc = max(20, n_enterprises * 3 // 10)
    designs = [add_org(f"基准设计院{i}", (K.DESIGN,), rng.choice(counties)) for i in range(n_design)]
    gcs = [add_org(f"基准施工公司{i}", (K.GENERAL_CONTRACTOR,), rng.choice(counties)) for i in range(n_gc)]
    owners = [
        add_org(f"基准建设单位{i}", (K.OWNER,), rng.choice(counties))
        for i in range(max(50, n_enterprises - n_design - n_gc - 1))
    ]
    from django.contrib.auth.models import Group

    counts["auth_group"] = Table(Group, with_id=True).copy(conn, groups)
    counts["core_organization"] = Table(Organization, with_id=True).copy(conn, orgs)
    log(f"{len(orgs)} organizations", started)

    # The production hasher, whatever the settings this runs under (the tests' settings hash with MD5).
    password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user_id = next_id("core_user")
    users: list[dict] = []
    user_of: dict[int, int] = {}

    def add_user(username: str, org: int | None, roles: tuple[str, ...], **extra) -> int:
        nonlocal user_id
        users.append(
            {
                "id": user_id,
                "username": username,
                "password": password,
                "organization_id": org,
                "roles": User.encode_roles(roles),
                "full_name": extra.pop("full_name", username),
                "is_active": True,
                "date_joined": now - timedelta(days=200),
                "password_changed_at": now - timedelta(days=1),
                **extra,
            }
        )
        user_id += 1
        return user_id - 1

    persona = {
        "prefecture": add_user(PERSONAS["prefecture"], orgs[len(counties)]["id"] + 2, (Role.REVIEWER,)),
        "county": add_user(PERSONAS["county"], bureau[QILIN], (Role.REVIEWER,)),
        "division": add_user(PERSONAS["division"], division_org, (Role.DESIGN_DIVISION,)),
        "institution": add_user(PERSONAS["institution"], institutions[0], (Role.INSTITUTION,)),
        "enterprise": add_user(PERSONAS["enterprise"], big, (Role.ENTERPRISE,)),
        "admin": add_user(PERSONAS["admin"], province, (Role.PROVINCE_ADMIN,), is_staff=True),
        "auditor": add_user(PERSONAS["auditor"], province, (Role.AUDIT_ADMIN,)),
    }
    # 曲靖's bureau: the prefecture rows come after the 129 counties, in code order (530300 is third).
    qujing_bureau = next(o["id"] for o in orgs if o["division_id"] == QUJING)
    users[0]["organization_id"] = qujing_bureau
    reviewer = {c: add_user(f"rv{c}", bureau[c], (Role.REVIEWER,)) for c in counties}
    inst_user = {o: add_user(f"inst{o}", o, (Role.INSTITUTION,)) for o in institutions[1:]}
    inst_user[institutions[0]] = persona["institution"]
    div_user = persona["division"]
    for o in [big, *designs, *gcs, *owners]:
        user_of[o] = add_user(f"ent{o}", o, (Role.ENTERPRISE,))
    user_of[big] = persona["enterprise"]
    users = [u for u in users if u["username"] != f"ent{big}"]
    counts["core_user"] = Table(User, with_id=True).copy(conn, users)
    member = Table(User.groups.through)
    group_of = {o["id"]: o["group_id"] for o in orgs}
    member.copy(conn, ({"user_id": u["id"], "group_id": group_of[u["organization_id"]]} for u in users))
    roster = []
    for stage in workflow.REVIEW_STAGES:
        roster.append(
            {"user_id": persona["prefecture"], "stage": stage, "division_id": QUJING, "roster_key": QUJING}
        )
        for c in counties:
            uid = persona["county"] if c == QILIN else reviewer[c]
            roster.append({"user_id": uid, "stage": stage, "division_id": c, "roster_key": c[:4] + "00"})
    Table(ReviewerAssignment).copy(conn, roster)
    log(f"{len(users)} users, {len(roster)} roster lines", started)

    # --- the projects' plans ---------------------------------------------------------------------
    big_n = min(BIG_PROJECTS, n_projects // 2)
    campaign = now - timedelta(days=150)
    project_id = next_id("projects_project")
    plans = []  # (id, prj_num, county, owner, gc, design, institution, created, progress, last_state)
    serial: dict[str, int] = {}
    for i in range(n_projects):
        # 麒麟区 (曲靖's urban district, the county persona's) is busier than the average county.
        county = QILIN if i % 20 == 1 else rng.choice(counties)
        created = campaign + timedelta(seconds=rng.randrange(100 * 86400))
        day = f"{county}{timezone.localtime(created):%y%m%d}"
        serial[day] = serial.get(day, 0) + 1
        progress = rng.choices((0, 1, 2, 3, 4), (10, 10, 12, 18, 50))[0]
        last = rng.choices((State.IN_REVIEW, State.RETURNED, State.DRAFT), (65, 15, 20))[0]
        plans.append(
            (
                project_id + i,
                f"{day}{serial[day]:04d}",
                county,
                rng.choice(owners),
                big if i < big_n else rng.choice(gcs),
                rng.choice(designs),
                institutions[0] if i % 12 == 0 else rng.choice(institutions),
                created,
                progress,
                last,
            )
        )

    def project_rows():
        for pid, num, county, owner, _gc, _d, _inst, created, progress, _last in plans:
            yield {
                "id": pid,
                "prj_num": num,
                "name": f"{names[county]}基准工程项目{pid}",
                "prj_type": PrjType.BUILDING,
                "prj_property": PrjProperty.NEW,
                "prj_function": PrjFunction.OFFICE,
                "approval_level": ApprovalLevel.COUNTY,
                "approval_num": f"{names[county]}发改投资〔2025〕{pid % 900 + 1}号",
                "county_id": county,
                "address": f"{names[county]}基准路{pid % 300 + 1}号",
                "owner_org_id": owner,
                "total_investment": Decimal(1000 + pid % 90000),
                "total_area": Decimal(5000 + pid % 20000),
                "scale": "地上18层，地下2层",
                "planned_start": date(2025, 3, 1),
                "planned_end": date(2027, 6, 30),
                "actual_start": date(2025, 5, 10) if progress >= 2 else None,
                "created_at": created,
                "updated_at": created,
            }

    counts["projects_project"] = Table(Project, with_id=True).copy(conn, project_rows())
    log(f"{counts['projects_project']} projects", started)

    # --- records: the chain, its rounds and its steps ---------------------------------------------
    chains = {
        "drawing_review": workflow.CHAINS["drawing_review:pms"],
        "permit": workflow.CHAINS["permit"],
        "tender_contract": workflow.CHAINS["tender_contract"],
        "completion": workflow.CHAINS["completion"],
    }
    order = ("drawing_review", "permit", "tender_contract", "completion")
    models = {
        "drawing_review": DrawingReview,
        "permit": ConstructionPermit,
        "tender_contract": TenderContract,
        "completion": Completion,
    }
    ids = {kind: next_id(models[kind]._meta.db_table) for kind in order}
    due_cache: dict[tuple[date, int], tuple[datetime, str]] = {}

    def due(at: datetime) -> tuple[datetime, str]:
        key = (timezone.localtime(at).date(), 5)
        if key not in due_cache:
            d = deadline(at, 5)
            due_cache[key] = (d.due_at, d.note)
        return due_cache[key]

    records: dict[str, list] = {k: [] for k in order}
    tasks: list = []
    rounds: list = []
    audits: list = []
    outbox: list = []
    parties: list = []
    links: list = []  # permit ↔ drawing review
    numbers = {"drawing_review": "TX", "permit": "SX", "tender_contract": "BD", "completion": "JX"}
    returned_reason = "信息与合格书不一致，请核对后重新提交。"
    for pid, num, county, owner, gc, design, inst, created, progress, last in plans:
        title = f"{names[county]}基准工程项目{pid}"
        parties.append({"project_id": pid, "organization_id": owner, "role": ProjectParty.Role.OWNER})
        at = created + timedelta(days=1)
        made: dict[str, int] = {}
        for k, kind in enumerate(order):
            if k > progress or (k == progress and progress == 4):
                break
            state = State.APPROVED if k < progress else last
            rid = ids[kind]
            ids[kind] += 1
            made[kind] = rid
            enterer_org = design if kind == "drawing_review" else gc
            enterer = user_of[enterer_org]
            number = f"{num}-{numbers[kind]}-001"
            chain = chains[kind]
            n_rounds = 0 if state == State.DRAFT else 1 + rng.choices((0, 1, 2), (83, 13, 4))[0]
            if state == State.DRAFT and rng.random() < 0.3:
                state, n_rounds = State.RETURNED, 1
            audits.append(
                {
                    "at": at,
                    "actor_id": enterer,
                    "actor_org_id": enterer_org,
                    "action": A.CREATE,
                    "object_type": kind,
                    "object_id": str(rid),
                    "to_state": State.DRAFT,
                    "data": "{}",
                }
            )
            lock = 1
            submitted = approved = None
            step_now = ""
            level = "D"
            snapshot = json.dumps(
                {
                    "number": number,
                    "project.name": title,
                    "project.county": names[county],
                    "owner": str(enterer_org),
                },
                ensure_ascii=False,
            )
            for r in range(1, n_rounds + 1):
                final = r == n_rounds
                at += timedelta(hours=rng.randrange(2, 72))
                submitted = at
                lock += 1
                rounds.append(
                    {
                        "kind": kind,
                        "record_id": rid,
                        "revision": r,
                        "data": snapshot,
                        "submitted_by_id": enterer,
                        "submitted_at": at,
                    }
                )
                audits.append(
                    {
                        "at": at,
                        "actor_id": enterer,
                        "actor_org_id": enterer_org,
                        "action": A.SUBMIT,
                        "object_type": kind,
                        "object_id": str(rid),
                        "from_state": State.DRAFT if r == 1 else State.RETURNED,
                        "to_state": State.IN_REVIEW,
                        "step": chain[0].key,
                        "data": f'{{"revision": {r}, "snapshot": {snapshot}}}',
                    }
                )
                # How far this round goes: returned rounds stop at a step, the last round's state decides.
                if not final or state == State.RETURNED:
                    stop, outcome = rng.randrange(len(chain)), "returned"
                elif state == State.IN_REVIEW:
                    stop, outcome = rng.randrange(len(chain)), "open"
                else:
                    stop, outcome = len(chain) - 1, "approved"
                opened = at
                for s, step in enumerate(chain[: stop + 1]):
                    post_div = county
                    performer = step.performer
                    if performer == "institution":
                        decider, assignee = inst_user[inst], inst
                    elif performer == "design_division":
                        decider, assignee = div_user, None
                    else:
                        decider, assignee = reviewer[county] if county != QILIN else persona["county"], None
                    due_at, note = due(opened)
                    row = {
                        "kind": kind,
                        "record_id": rid,
                        "revision": r,
                        "step": step.key,
                        "step_label": step.label,
                        "performer": performer,
                        "stage": step.stage,
                        "division_code": post_div,
                        "assignee_org_id": assignee,
                        "project_id": pid,
                        "owner_org_id": enterer_org,
                        "title": title,
                        "prj_num": num,
                        "number": number if kind != "tender_contract" else number,
                        "submitted_at": opened,
                        "due_at": due_at,
                        "due_note": note,
                    }
                    is_last = s == stop
                    if is_last and outcome == "open":
                        row["status"] = Task.Status.OPEN
                        step_now = step.key
                        tasks.append(row)
                        break
                    decided = min(opened + timedelta(hours=rng.randrange(3, 120)), now - timedelta(minutes=5))
                    approve = not (is_last and outcome == "returned")
                    lock += 1
                    to_state = State.IN_REVIEW
                    data = {"revision": r}
                    row.update(status=Task.Status.DONE, decided_by_id=decider, decided_at=decided)
                    if not approve:
                        row.update(outcome=Task.Outcome.RETURNED, reason=returned_reason)
                        to_state = State.RETURNED
                    else:
                        row["outcome"] = Task.Outcome.APPROVED
                        if is_last:
                            level = "A" if performer == "design_division" else "C"
                            row["data_level"] = level
                            to_state = State.APPROVED
                            data["data_level"] = level
                            approved = decided
                    tasks.append(row)
                    decider_org = assignee or (
                        division_org if performer == "design_division" else bureau[county]
                    )
                    audits.append(
                        {
                            "at": decided,
                            "actor_id": decider,
                            "actor_org_id": decider_org,
                            "action": A.APPROVE if approve else A.RETURN,
                            "object_type": kind,
                            "object_id": str(rid),
                            "from_state": State.IN_REVIEW,
                            "to_state": to_state,
                            "step": step.key,
                            "reason": "" if approve else returned_reason,
                            "data": json.dumps(data),
                        }
                    )
                    opened = decided
                at = max(at, opened)
            rec = {
                "id": rid,
                "state": state,
                "step": step_now if state == State.IN_REVIEW else "",
                "revision": n_rounds,
                "lock_version": lock,
                "data_level": level,
                "owner_org_id": enterer_org,
                "entered_by_id": enterer,
                "submitted_at": submitted,
                "approved_at": approved,
                "return_reason": returned_reason if state == State.RETURNED else "",
                "created_at": created,
                "updated_at": at,
                "project_id": pid,
            }
            if kind == "drawing_review":
                rec.update(
                    censor_num=number,
                    censor_org_id=inst,
                    censor_date=date(2025, 4, 1),
                    one_pass=True,
                    scale="地上18层",
                    design_lead="张设计",
                )
            elif kind == "permit":
                rec.update(
                    permit_num=number,
                    issuing_org_id=bureau[county],
                    issuing_division_id=county,
                    issue_date=date(2025, 5, 1),
                    contract_amount=Decimal("12000.00"),
                    area=Decimal("15000.00"),
                    project_manager="李经理",
                    contract_num=f"HT-{pid}",
                )
                links.append({"constructionpermit_id": rid, "drawingreview_id": made["drawing_review"]})
            elif kind == "tender_contract":
                rec.update(
                    scope=Scope.CONSTRUCTION,
                    tender_method=TenderMethod.OPEN,
                    tender_num=number,
                    tender_date=date(2025, 4, 20),
                    tender_amount=Decimal("11800.00"),
                    agency_name="基准招标代理公司",
                    agency_code="91530100MA6K000000",
                    contract_num=f"HT-{pid}",
                    contract_type=ContractType.GENERAL,
                    contract_amount=Decimal("11800.00"),
                    contract_date=date(2025, 4, 28),
                    record_num=f"{num}-HZ-001" if state == State.APPROVED else "",
                )
            else:
                rec.update(
                    permit_id=made["permit"],
                    acceptance_num=f"{num}-JY-001",
                    acceptance_date=date(2026, 9, 1),
                    filing_num=number,
                    filing_date=date(2026, 9, 20),
                    filing_org_id=bureau[county],
                    actual_cost=Decimal("11900.00"),
                    actual_area=Decimal("15000.00"),
                )
            records[kind].append(rec)
            if state == State.APPROVED:
                # What the approval sets off: parties (projects.services) and the outbox rows (sync).
                if kind == "drawing_review":
                    parties.append(
                        {"project_id": pid, "organization_id": design, "role": ProjectParty.Role.DESIGN}
                    )
                if kind == "permit":
                    parties.append(
                        {
                            "project_id": pid,
                            "organization_id": gc,
                            "role": ProjectParty.Role.GENERAL_CONTRACTOR,
                        }
                    )
                    keys = [
                        (protocol.TB_PROJECT, f"project:{num}", 1),
                        (protocol.TB_CENSOR, f"drawing_review:{made['drawing_review']}", 1),
                        (protocol.TB_DESIGN_STAFF, f"design_staff:{made['drawing_review']}", 1),
                        (protocol.TB_PERMIT, f"permit:{rid}", n_rounds),
                        (protocol.TB_BUILDER_STAFF, f"builder_staff:{rid}", n_rounds),
                    ]
                elif kind == "tender_contract":
                    keys = [
                        (protocol.TB_TENDER, f"tender:{rid}", n_rounds),
                        (protocol.TB_CONTRACT, f"contract:{rid}", n_rounds),
                    ]
                elif kind == "completion":
                    keys = [(protocol.TB_FINISH, f"completion:{rid}", n_rounds)]
                else:
                    keys = []
                bundle = f"{rng.getrandbits(128):032x}"
                for table, key, version in keys:
                    status = rng.choices(("delivered", "pending", "failed"), (97, 2, 1))[0]
                    outbox.append(
                        {
                            "bundle": bundle,
                            "project_id": pid,
                            "table": table,
                            "record_key": key,
                            "version": version,
                            "idempotency_key": f"{key}:v{version}",
                            "payload": json.dumps({"PrjNum": num, "key": key}, ensure_ascii=False),
                            "status": status,
                            "attempts": 1 if status != "pending" else 0,
                            "created_at": approved,
                            "next_attempt_at": approved,
                            "last_attempt_at": approved if status != "pending" else None,
                            "receipt_status": "ok" if status == "delivered" else "",
                            "last_error": "连接超时" if status == "failed" else "",
                            "delivered_at": approved + timedelta(minutes=1)
                            if status == "delivered"
                            else None,
                        }
                    )
            at += timedelta(days=rng.randrange(1, 10))
        if len(tasks) > 50_000:  # bounded memory: flush every ~12,000 projects
            flush(conn, records, rounds, tasks, audits, outbox, parties, links, models, counts, commit)
    flush(conn, records, rounds, tasks, audits, outbox, parties, links, models, counts, commit)
    log("records, rounds, inbox rows, audit entries, outbox rows", started)
    with conn.cursor() as c:
        for table in (
            "core_organization",
            "auth_group",
            "core_user",
            "projects_project",
            *(m._meta.db_table for m in models.values()),
        ):
            c.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"
            )
        # Permits approved: the project's basic info is settled (projects.services.mark_permit_approved).
        c.execute(
            "UPDATE projects_project p SET permit_approved_at = c.approved_at FROM projects_constructionpermit c "
            "WHERE c.project_id = p.id AND c.state = 'approved'"
        )
    return counts


def flush(conn, records, rounds, tasks, audits, outbox, parties, links, models, counts, commit) -> None:
    from projects.models import ConstructionPermit, ProjectParty, Round
    from review.models import Task
    from sync.models import Outbox
    from yunjian.core.models import AuditEntry

    def add(name: str, n: int) -> None:
        counts[name] = counts.get(name, 0) + n

    for kind, rows in records.items():
        add(models[kind]._meta.db_table, Table(models[kind], with_id=True).copy(conn, rows))
        rows.clear()
    for name, model, rows in (
        ("projects_constructionpermit_drawing_reviews", ConstructionPermit.drawing_reviews.through, links),
        ("projects_round", Round, rounds),
        ("review_task", Task, tasks),
        ("core_auditentry", AuditEntry, audits),
        ("sync_outbox", Outbox, outbox),
        ("projects_projectparty", ProjectParty, parties),
    ):
        add(name, Table(model).copy(conn, rows))
        rows.clear()
    if commit:
        conn.commit()


def backend_cpu(pid: int) -> float:
    """User + system CPU seconds of a local PostgreSQL backend (Linux /proc), or NaN if unreadable."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    args = parser.parse_args()
    started = time.monotonic()
    prepare(args.database_url)
    log("database created and migrated", started)
    cpu_before = time.process_time()
    import psycopg
    from django.db import connection

    connection.close()
    with psycopg.connect(args.database_url) as conn:
        conn.execute("SET synchronous_commit = off")
        backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
        counts = generate(args.scale, conn, started)
        conn.commit()
        conn.autocommit = True
        conn.execute("ANALYZE")
        log("ANALYZE done", started)
        database_cpu = backend_cpu(backend)
    # The CPU each side used: on a shared machine the wall time says little, these say what it costs.
    print(
        f"CPU after the migrations: this process {time.process_time() - cpu_before:.0f} s, "
        f"its PostgreSQL backend {database_cpu:.0f} s"
    )
    for table, n in sorted(counts.items()):
        print(f"  {table:45} {n:>10,}")
    print(
        f"total {sum(counts.values()):,} rows in {time.monotonic() - started:.0f} s at --scale {args.scale}"
    )


if __name__ == "__main__":
    main()
