"""Turn a checked roster into reviewer accounts and assignments: the plan (what the preview shows)
and the apply (one transaction that carries the plan out).

A roster file covers one or more prefectures (or zones): its `roster_key`s. Applying it replaces
exactly the assignments of those keys: people listed get their lines, people no longer listed lose
theirs, other prefectures are untouched. People are matched to accounts by ID-number digest, or,
without an ID number, by name + phone + bureau organization; everything is loaded in a handful of
queries and written with bulk statements, so 10,000 lines apply in about a second.
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import re
import secrets
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.models import Group
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from projects.stages import Stage
from review import routing
from review.models import ReviewerAssignment
from review.roster import bulk
from review.roster.parse import (
    BUREAU,
    COLUMN_LABELS,
    CORRUPT,
    DEPARTMENT,
    ID_NUMBER,
    NAME,
    PHONE,
    STAGE_TEXT,
    TITLE,
    BureauResolver,
    RosterFileError,
    RosterParse,
    RosterRow,
    parse_roster,
)
from yunjian.core import audit, crypto
from yunjian.core.models import AuditEntry, Division, Organization, Role, User, Zone
from yunjian.core.permissions import require_roles
from yunjian.core.validators import complete_credit_code, normalize_text

logger = logging.getLogger(__name__)

NEW, UPDATED, UNCHANGED, ERROR = "new", "updated", "unchanged", "error"
STATUS_LABELS = {NEW: "新增", UPDATED: "修改", UNCHANGED: "未变", ERROR: "错误"}
STATUSES = (NEW, UPDATED, UNCHANGED, ERROR)
STATUS_CLASSES = {NEW: "approved", UPDATED: "pending", UNCHANGED: "draft", ERROR: "failed"}  # badge colours
# Paper order of 附件2, for sorting lines of one place.
STAGE_ORDER = {stage.value: position for position, stage in enumerate(Stage)}

# GB 32100 assigns no registration authority "0": a code starting "00" can never be a real one, so
# a bureau created by an import is recognisable (and flagged) until someone enters its real code.
PLACEHOLDER_PREFIX = "00"
USERNAME_RE = re.compile(r"^r([0-9]{6}|[a-z][a-z-]*)([0-9]{3,})$")
HOUSING_BUREAU = Organization.Kind.HOUSING_BUREAU
SEAL_NOTE_RE = re.compile(r"\s*[(（]\s*(?:盖章|公章|章)\s*[)）]\s*")  # 某某局（盖章） names 某某局
ZONE_BUREAU_DIVISION = "530000"  # 滇中新区 is a provincial new area: its bureau is filed under the province
FIELD_LIMITS = (
    (NAME, "full_name", 50),
    (DEPARTMENT, "department", 100),
    (TITLE, "title", 50),
    (PHONE, "phone", 30),
)
CHANGE_LABELS = {
    "full_name": "姓名",
    "phone": "联系电话",
    "department": "部门",
    "title": "职务",
    "has_ca_certificate": "CA数字证书",
    "id_number": "身份证号码",
    "organization": "所属单位",
    "roles": "角色（增加审核人员）",
}


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector for one batch of work.

    A 10,000-line roster allocates some 100,000 small objects, none of them in reference cycles;
    every allocation threshold crossed starts a collection that walks all of them again, about a
    third of the time of a plan. Reference counting still frees everything; the collector resumes
    (and catches up) when the batch ends.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RosterApplyError(Exception):
    """The roster cannot be applied as it stands; the message is for the user, in Chinese."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(eq=False)
class BureauPlan:
    """The housing bureau of one division or zone: an existing Organization or one to create."""

    key: str  # division code, or "zone:<slug>"
    name: str
    division_id: str
    zone: Zone | None
    org: Organization | None
    credit_code: str = ""  # the placeholder, when the org is to be created

    @property
    def is_new(self) -> bool:
        return self.org is None


@dataclass(eq=False)
class PersonPlan:
    """One person of the file (possibly on several lines) and the account they map to."""

    index: int
    bureau: BureauPlan
    full_name: str
    phone: str
    department: str = ""
    title: str = ""
    has_ca: bool | None = None
    id_number: str = ""
    digest: str = ""  # of id_number, computed once
    user: Account | None = None  # the existing account
    user_id: int | None = None  # the existing account's, or the new one's once created
    username: str = ""
    changes: list[str] = field(default_factory=list)
    rows: list[RowPlan] = field(default_factory=list)


@dataclass(eq=False)
class RowPlan:
    """One line of the file with its verdict: new, updated, unchanged or error."""

    row: RosterRow
    status: str = ERROR
    person: PersonPlan | None = None
    place_label: str = ""

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]

    @property
    def status_class(self) -> str:
        return STATUS_CLASSES[self.status]

    @property
    def stage_label(self) -> str:
        return STAGE_TEXT[self.row.stage] if self.row.stage else ""

    @property
    def id_masked(self) -> str:
        return crypto.mask_id_number(self.row.id_number)

    @property
    def note(self) -> str:
        if self.status == ERROR:
            return self.row.error_text
        person = self.person
        if person is None:
            return ""
        if person.user is None:
            return f"新建账号 {person.username}"
        if self.status == NEW:
            extra = f"；修改{'、'.join(person.changes)}" if person.changes else ""
            return f"已有账号 {person.username}，新增分工{extra}"
        if self.status == UPDATED:
            return f"账号 {person.username}：修改{'、'.join(person.changes)}"
        return f"账号 {person.username}"


@dataclass
class RosterPlan:
    """Everything an import would do, computed without writing."""

    parse: RosterParse
    rows: list[RowPlan]
    persons: list[PersonPlan]
    bureaus: list[BureauPlan]
    roster_keys: list[str]
    roster_labels: dict[str, str]
    desired: dict[tuple, tuple[PersonPlan, RowPlan]]
    removals: list[ReviewerAssignment]
    warnings: list[str]

    @property
    def has_errors(self) -> bool:
        return self.parse.has_errors

    @property
    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        counts["removed"] = len(self.removals)
        return counts

    @property
    def new_bureaus(self) -> list[BureauPlan]:
        return [bureau for bureau in self.bureaus if bureau.is_new]

    @property
    def new_persons(self) -> list[PersonPlan]:
        return [person for person in self.persons if person.user is None]

    @property
    def digest(self) -> str:
        """A fingerprint of what applying would do; apply refuses if it changed since the preview."""
        payload = {
            "rows": [
                [
                    row.row.sheet_row,
                    row.status,
                    _person_ref(row.person),
                    row.person.changes if row.person else [],
                ]
                for row in self.rows
            ],
            "removed": sorted(assignment.pk for assignment in self.removals),
            "bureaus": sorted(bureau.key for bureau in self.new_bureaus),
        }
        return hashlib.sha256(json.dumps(payload, ensure_ascii=False).encode()).hexdigest()[:32]


def _person_ref(person: PersonPlan | None) -> str:
    if person is None:
        return ""
    return f"u{person.user.pk}" if person.user is not None else f"n{person.index}"


def place_label(assignment: ReviewerAssignment) -> str:
    """曲靖市, 曲靖市麒麟区 or 滇中新区 (the assignment's division or zone, loaded with the parent)."""
    if assignment.zone_id:
        return assignment.zone.name
    division = assignment.division
    if division.level == Division.Level.COUNTY and division.parent_id:
        return division.parent.name + division.name
    return division.name


# --------------------------------------------------------------------------- the plan


def plan_roster(parse: RosterParse) -> RosterPlan:
    """Compare a parsed roster with the accounts and assignments in the database; write nothing.

    Lines that cannot be applied get an error added to their RosterRow (so the error report shows
    it too): a field longer than the database allows, a place missing from the database, an ID number
    that belongs to an account of another kind (三员分立: admins and enterprise staff are not reviewers).
    Queries: a constant handful, whatever the number of lines.
    """
    with paused_gc():
        return _plan(parse)


def _plan(parse: RosterParse) -> RosterPlan:
    rows = [RowPlan(row) for row in parse.rows]
    for plan_row in rows:
        _check_lengths(plan_row.row)
    jurisdictions = {row.row.jurisdiction for row in rows if row.row.jurisdiction is not None}
    division_codes = {j.division_code for j in jurisdictions if j.division_code}
    zone_slugs = {j.zone_slug for j in jurisdictions if j.zone_slug}
    roster_keys = sorted({j.roster_key for j in jurisdictions})
    known_divisions = dict(
        Division.objects.filter(
            code__in=division_codes | {key for key in roster_keys if key.isdigit()}
        ).values_list("code", "name")
    )
    zones = {zone.slug: zone for zone in Zone.objects.filter(slug__in=zone_slugs)} if zone_slugs else {}
    roster_labels = {
        key: (known_divisions.get(key, key) if key.isdigit() else _zone_name(zones, key))
        for key in roster_keys
    }
    for plan_row in rows:
        jurisdiction = plan_row.row.jurisdiction
        if jurisdiction is None:
            continue
        plan_row.place_label = jurisdiction.label
        if jurisdiction.division_code and jurisdiction.division_code not in known_divisions:
            _add_error(plan_row.row, BUREAU, f"系统中没有行政区划“{jurisdiction.label}”，请联系系统管理员")
        elif jurisdiction.zone_slug and jurisdiction.zone_slug not in zones:
            _add_error(plan_row.row, BUREAU, f"系统中没有功能区“{jurisdiction.label}”，请联系系统管理员")

    bureaus = _bureaus(rows, division_codes, zones)
    persons = _group_persons(rows, bureaus)
    _match_accounts(persons)
    persons = [person for person in persons if person.rows]  # those left without a usable line
    _assign_usernames([person for person in persons if person.user is None])

    # Plain columns, no joins: this reads every line of the prefectures (10,000 for the province).
    by_key = {
        _assignment_key(user_id, stage, division_id, zone_id): pk
        for pk, user_id, stage, division_id, zone_id in ReviewerAssignment.objects.filter(
            roster_key__in=roster_keys
        ).values_list("pk", "user_id", "stage", "division_id", "zone_id")
    }
    desired: dict[tuple, tuple[PersonPlan, RowPlan]] = {}
    for plan_row in rows:
        person = plan_row.person
        if plan_row.row.errors or person is None:
            plan_row.status = ERROR
            continue
        zone = zones.get(plan_row.row.jurisdiction.zone_slug or "")
        key = _assignment_key(
            person.user.pk if person.user else f"n{person.index}",
            plan_row.row.stage.value,
            plan_row.row.jurisdiction.division_code,
            zone.pk if zone else None,
        )
        desired.setdefault(key, (person, plan_row))
        if person.user is None or key not in by_key:
            plan_row.status = NEW
        elif person.changes:
            plan_row.status = UPDATED
        else:
            plan_row.status = UNCHANGED
    removed = [pk for key, pk in by_key.items() if key not in desired]
    removals = (
        list(
            # Prefetched, not joined: right after a large import the planner's statistics are
            # stale and a join may turn into a nested loop over every account.
            ReviewerAssignment.objects.filter(pk__in=removed).prefetch_related(
                "user", "division__parent", "zone"
            )
        )
        if removed
        else []
    )
    removals.sort(key=lambda a: (a.roster_key, place_label(a), STAGE_ORDER.get(a.stage, 9), a.user.full_name))
    plan = RosterPlan(
        parse=parse,
        rows=rows,
        persons=persons,
        bureaus=list(bureaus.values()),
        roster_keys=roster_keys,
        roster_labels=roster_labels,
        desired=desired,
        removals=removals,
        warnings=[],
    )
    plan.warnings = _warnings(plan)
    return plan


def _zone_name(zones: dict[str, Zone], slug: str) -> str:
    zone = zones.get(slug)
    return zone.name if zone else slug


def _assignment_key(user_ref, stage: str, division_id: str | None, zone_id: int | None) -> tuple:
    return (user_ref, stage, division_id or None, zone_id or None)


def _add_error(row: RosterRow, column: str, message: str) -> None:
    """Add a line error once: planning the same parse twice (check, then apply) must not repeat it."""
    if (COLUMN_LABELS[column], message) not in row.errors:
        row.add_error(column, message)


def _check_lengths(row: RosterRow) -> None:
    for column, attribute, limit in FIELD_LIMITS:
        value = getattr(row, "name" if attribute == "full_name" else attribute)
        if len(value) > limit:
            _add_error(row, column, f"内容过长（最多{limit}个字，当前{len(value)}个字）")
    if len(row.bureau_text) > 200:
        _add_error(row, BUREAU, "单位名称过长（最多200个字）")


def _bureau_key(row: RosterRow) -> str:
    jurisdiction = row.jurisdiction
    return jurisdiction.division_code or f"zone:{jurisdiction.zone_slug}"


def _bureaus(rows: list[RowPlan], division_codes: set[str], zones: dict[str, Zone]) -> dict[str, BureauPlan]:
    """The bureau organization of every place in the file: found (kind 住房城乡建设部门 in that
    division or zone; the one named like the file's 单位 first, else the oldest) or to be created."""
    names: dict[str, str] = {}
    for plan_row in rows:
        if plan_row.row.jurisdiction is not None and not plan_row.row.errors:
            name = SEAL_NOTE_RE.sub("", normalize_text(plan_row.row.bureau_text))
            names.setdefault(_bureau_key(plan_row.row), name[:200])
    if not names:
        return {}
    zone_ids = {zone.pk: slug for slug, zone in zones.items()}
    candidates: dict[str, list[Organization]] = defaultdict(list)
    for org in (
        Organization.objects.filter(kinds__contains=f"|{HOUSING_BUREAU}|")
        .filter(Q(division_id__in=division_codes, zone__isnull=True) | Q(zone_id__in=zone_ids))
        .order_by("pk")
    ):
        key = f"zone:{zone_ids[org.zone_id]}" if org.zone_id in zone_ids else org.division_id
        candidates[key].append(org)
    placeholders = None
    bureaus: dict[str, BureauPlan] = {}
    for key, name in names.items():
        zone = zones.get(key[5:]) if key.startswith("zone:") else None
        division_id = ZONE_BUREAU_DIVISION if key.startswith("zone:") else key
        found = candidates.get(key, [])
        org = next((o for o in found if o.name == name), found[0] if found else None)
        bureau = BureauPlan(key=key, name=name, division_id=division_id, zone=zone, org=org)
        if org is None:
            if placeholders is None:
                placeholders = set(
                    Organization.objects.filter(credit_code__startswith=PLACEHOLDER_PREFIX).values_list(
                        "credit_code", flat=True
                    )
                )
            bureau.credit_code = _placeholder_code(division_id, placeholders)
            placeholders.add(bureau.credit_code)
        bureaus[key] = bureau
    return bureaus


def _placeholder_code(division_id: str, taken: set[str]) -> str:
    serial = 1
    while True:
        code = complete_credit_code(f"{PLACEHOLDER_PREFIX}{division_id}{serial:08d}")
        if code not in taken:
            return code
        serial += 1


def _group_persons(rows: list[RowPlan], bureaus: dict[str, BureauPlan]) -> list[PersonPlan]:
    """One PersonPlan per person of the file: lines with the same ID number, or (without one) the same
    name, phone and bureau, are one person (a liaison line usually has no ID number)."""
    persons: list[PersonPlan] = []
    by_id: dict[str, PersonPlan] = {}
    by_name_phone: dict[tuple[str, str, str], PersonPlan] = {}
    for plan_row in rows:
        row = plan_row.row
        if row.errors or row.jurisdiction is None or row.stage is None:
            continue
        bureau = bureaus[_bureau_key(row)]
        name_key = (row.name, row.phone, bureau.key)
        person = None
        if row.id_number:
            person = by_id.get(row.id_number)
            if person is None:
                candidate = by_name_phone.get(name_key)
                if candidate is not None and candidate.id_number in ("", row.id_number):
                    person = candidate
        else:
            person = by_name_phone.get(name_key)
        if person is None:
            person = PersonPlan(index=len(persons), bureau=bureau, full_name=row.name, phone=row.phone)
            persons.append(person)
        if row.id_number and not person.id_number:
            person.id_number = row.id_number
            person.digest = crypto.digest(row.id_number)
        if person.id_number:
            by_id.setdefault(person.id_number, person)
        by_name_phone.setdefault(name_key, person)
        person.department = person.department or row.department
        person.title = person.title or row.title
        if person.has_ca is None:
            person.has_ca = row.has_ca
        person.rows.append(plan_row)
        plan_row.person = person
    return persons


@dataclass(slots=True)
class Account:
    """An existing account as the plan reads it: a plain row, not a model instance (there may be
    10,000). Everything the apply may write is here but the encrypted ID number (written on its own)."""

    pk: int
    username: str
    full_name: str
    phone: str
    department: str
    title: str
    has_ca_certificate: bool
    id_number_digest: str
    organization_id: int | None
    roles: str
    is_active: bool

    @property
    def role_list(self) -> list[str]:
        return [role for role in self.roles.split("|") if role]

    def has_role(self, role: str) -> bool:
        return f"|{role}|" in self.roles


ACCOUNT_FIELDS = tuple("id" if name == "pk" else name for name in Account.__dataclass_fields__)


def _match_accounts(persons: list[PersonPlan]) -> None:
    """Find each person's account: by ID digest (one indexed query), else by name + phone + bureau
    (one query, for the people not found by digest)."""
    if not persons:
        return
    accounts = User.objects.order_by("pk")
    digests = [person.digest for person in persons if person.digest]
    by_digest: dict[str, Account] = {}
    if digests:
        for values in accounts.filter(id_number_digest__in=digests).values_list(*ACCOUNT_FIELDS):
            user = Account(*values)
            by_digest.setdefault(user.id_number_digest, user)
    rest = [person for person in persons if person.digest not in by_digest and person.bureau.org is not None]
    by_name_phone: dict[tuple[str, str, int | None], list[Account]] = defaultdict(list)
    if rest:
        names = {person.full_name for person in rest}
        phones = {person.phone for person in rest}
        for values in accounts.filter(full_name__in=names, phone__in=phones).values_list(*ACCOUNT_FIELDS):
            user = Account(*values)
            by_name_phone[(user.full_name, user.phone, user.organization_id)].append(user)
    claimed: dict[int, PersonPlan] = {}
    for person in persons:
        org_id = person.bureau.org.pk if person.bureau.org else None
        user = by_digest.get(person.digest) if person.digest else None
        if user is None and org_id is not None:
            same = by_name_phone.get((person.full_name, person.phone, org_id), [])
            # With an ID number in the file, only an account that has none yet can be this person.
            same = [u for u in same if not person.id_number or not u.id_number_digest]
            same.sort(key=lambda u: (not u.has_role(Role.REVIEWER), u.pk))
            user = same[0] if same else None
        if user is None:
            continue
        other_roles = [role for role in user.role_list if role != Role.REVIEWER]
        if other_roles:
            labels = "、".join(str(Role(role).label) for role in other_roles if role in Role.values)
            _person_error(
                person,
                ID_NUMBER if person.id_number else NAME,
                f"与已有账号“{user.username}”（{labels or '其他角色'}）是同一人，该账号不能兼任审核人员"
                "（三员分立、审核回避），请联系安全管理员核实",
            )
            continue
        if user.pk in claimed:
            first = claimed[user.pk].rows[0].row.sheet_row
            _person_error(
                person,
                NAME,
                f"与第{first}行的人员对应到同一个账号“{user.username}”，请核对姓名、身份证号码和联系电话",
            )
            continue
        claimed[user.pk] = person
        person.user = user
        person.user_id = user.pk
        person.username = user.username
        person.changes = _changes(person, user)


def _person_error(person: PersonPlan, column: str, message: str) -> None:
    for plan_row in person.rows:
        _add_error(plan_row.row, column, message)
        plan_row.person = None
    person.rows = []


def _changes(person: PersonPlan, user: Account) -> list[str]:
    changes = []
    for attribute, value in (
        ("full_name", person.full_name),
        ("phone", person.phone),
        ("department", person.department),
        ("title", person.title),
    ):
        if getattr(user, attribute) != value:
            changes.append(CHANGE_LABELS[attribute])
    if person.has_ca is not None and user.has_ca_certificate != person.has_ca:
        changes.append(CHANGE_LABELS["has_ca_certificate"])
    if person.id_number and user.id_number_digest != person.digest:
        changes.append(CHANGE_LABELS["id_number"])
    if person.bureau.org is None or user.organization_id != person.bureau.org.pk:
        changes.append(CHANGE_LABELS["organization"])
    if not user.has_role(Role.REVIEWER):
        changes.append(CHANGE_LABELS["roles"])
    return changes


def _assign_usernames(new_persons: list[PersonPlan]) -> None:
    """r + the division code (or zone slug) of the bureau + a sequence: r530302001, rdianzhong001."""
    if not new_persons:
        return
    highest: dict[str, int] = defaultdict(int)
    for username in User.objects.filter(username__regex=USERNAME_RE.pattern).values_list(
        "username", flat=True
    ):
        match = USERNAME_RE.match(username)
        if match:
            highest[match.group(1)] = max(highest[match.group(1)], int(match.group(2)))
    for person in new_persons:
        prefix = person.bureau.zone.slug if person.bureau.zone else person.bureau.division_id
        highest[prefix] += 1
        person.username = f"r{prefix}{highest[prefix]:03d}"


def _warnings(plan: RosterPlan) -> list[str]:
    warnings = []
    for bureau in plan.new_bureaus:
        warnings.append(
            f"系统中还没有“{bureau.name}”：导入时将新建该单位，统一社会信用代码暂用占位代码"
            f" {bureau.credit_code}，请导入后在管理后台更正为真实代码。"
        )
    liaison_keys = {
        row.row.jurisdiction.roster_key for row in plan.rows if row.row.stage == Stage.LIAISON and row.person
    }
    for key in plan.roster_keys:
        if key not in liaison_keys:
            warnings.append(f"“{plan.roster_labels[key]}”的名单中没有州（市）联络员。")
    inactive = sorted({p.username for p in plan.persons if p.user is not None and not p.user.is_active})
    if inactive:
        warnings.append(f"以下账号已被停用，导入后仍为停用状态：{'、'.join(inactive)}。")
    return warnings


# --------------------------------------------------------------------------- applying


@dataclass
class ApplyResult:
    plan: RosterPlan
    created_user_ids: list[int]
    updated_user_ids: list[int]
    created_orgs: list[Organization]
    created_assignments: int
    removed_assignments: int
    audit_entry: AuditEntry

    @property
    def changed(self) -> bool:
        return bool(
            self.created_user_ids
            or self.updated_user_ids
            or self.created_orgs
            or self.created_assignments
            or self.removed_assignments
        )


def apply_roster(
    *,
    parse: RosterParse,
    actor: User | None,
    filename: str,
    sha256: str,
    expected_digest: str = "",
    ip: str | None = None,
    source: str = "web",
) -> ApplyResult:
    """Apply a parsed roster: create or update accounts, replace the assignments of its prefectures.

    `actor` must be a province admin (PermissionDenied otherwise); None means the command line,
    whose operator already has the server. Runs in one transaction, holding a lock on each
    prefecture (or zone) of the file so that two imports of one prefecture run one after the other.
    The plan is recomputed under the lock; RosterApplyError if it has errors, or if it differs from
    `expected_digest` (the preview the admin confirmed). Writes one audit entry, and nothing else when
    the file changes nothing.
    """
    if actor is not None:
        require_roles(actor, {Role.PROVINCE_ADMIN})
    try:
        with paused_gc():
            return _apply(parse, actor, filename, sha256, expected_digest, ip, source)
    except IntegrityError as exc:  # e.g. a username taken by someone else a moment ago
        raise RosterApplyError(
            "导入时与系统中的其他修改冲突，未导入任何数据：请重新上传预览后再试。"
        ) from exc


def _apply(parse, actor, filename, sha256, expected_digest, ip, source) -> ApplyResult:
    with transaction.atomic():
        _lock_rosters(parse)
        plan = plan_roster(parse)
        if plan.has_errors:
            raise RosterApplyError("表格中有错误，未导入任何数据：请下载错误报告，修正后重新上传。")
        if expected_digest and plan.digest != expected_digest:
            raise RosterApplyError(
                "预览之后系统中的名单已经发生变化（可能有人同时导入了同一州（市）的名单），"
                "未导入任何数据：请重新核对预览后再确认导入。"
            )
        granted = [
            p.user.pk for p in plan.persons if p.user is not None and CHANGE_LABELS["roles"] in p.changes
        ]
        created_orgs = _create_bureaus(plan.new_bureaus)
        created = _create_users(plan.new_persons)
        updated = _update_users([p for p in plan.persons if p.user is not None and p.changes])
        if plan.removals:
            ReviewerAssignment.objects.filter(pk__in=[a.pk for a in plan.removals]).delete()
        added = _create_assignments(plan)
        # 无人审核: steps the new lines cover lose their flag, steps left with nobody gain it (and
        # their liaisons are told), in this transaction (review.routing).
        routing.refresh_rosters(plan.roster_keys)
        entry = audit.record(
            action=AuditEntry.Action.IMPORT,
            actor=actor,
            object_type="roster",
            object_id=sha256[:40],
            reason=f"导入审核人员名单：{'、'.join(plan.roster_labels.values())}"[:500],
            data={
                "file": filename,
                "sha256": sha256,
                "source": source,
                "roster_keys": plan.roster_keys,
                "counts": plan.counts,
                "created_users": created,
                "updated_users": updated,
                "granted_reviewer_role": granted + created,
                "created_orgs": [org.credit_code for org in created_orgs],
                "removed_assignments": [
                    {
                        "user": a.user_id,
                        "username": a.user.username,
                        "stage": a.stage,
                        "place": place_label(a),
                    }
                    for a in plan.removals
                ],
                "created_assignments": added,
            },
            ip=ip,
        )
    return ApplyResult(
        plan=plan,
        created_user_ids=created,
        updated_user_ids=updated,
        created_orgs=created_orgs,
        created_assignments=added,
        removed_assignments=len(plan.removals),
        audit_entry=entry,
    )


def _lock_rosters(parse: RosterParse) -> None:
    keys = sorted({row.jurisdiction.roster_key for row in parse.rows if row.jurisdiction is not None})
    codes = [key for key in keys if key.isdigit()]
    slugs = [key for key in keys if not key.isdigit()]
    # FOR NO KEY UPDATE: serialises imports of one prefecture without blocking inserts that
    # reference the division (they take FOR KEY SHARE).
    if codes:
        list(
            Division.objects.select_for_update(no_key=True)
            .filter(code__in=codes)
            .order_by("code")
            .values("code")
        )
    if slugs:
        list(Zone.objects.select_for_update(no_key=True).filter(slug__in=slugs).order_by("slug").values("pk"))


def _create_bureaus(bureaus: list[BureauPlan]) -> list[Organization]:
    if not bureaus:
        return []
    groups = Group.objects.bulk_create([Group(name=f"org:{bureau.credit_code}") for bureau in bureaus])
    orgs = [
        Organization(
            credit_code=bureau.credit_code,
            name=bureau.name,
            kinds=Organization.encode_kinds([HOUSING_BUREAU]),
            division_id=bureau.division_id,
            zone=bureau.zone,
            group=group,
        )
        for bureau, group in zip(bureaus, groups, strict=True)
    ]
    Organization.objects.bulk_create(orgs)
    for bureau, org in zip(bureaus, orgs, strict=True):
        bureau.org = org
    return orgs


def _create_users(persons: list[PersonPlan]) -> list[int]:
    """New accounts: reviewer role, no usable password until activated through the one-time link.

    Rows are built from a default User's values (Django's defaults live in Python), then written
    in one statement; each account joins its organization's group (bulk writes send no post_save).
    """
    if not persons:
        return []
    attnames = bulk.insertable_attnames(User)
    # The activation link passes through other hands: the first sign-in asks for a new password.
    template = User(roles=User.encode_roles([Role.REVIEWER]), must_change_password=True)
    base = [getattr(template, name) for name in attnames]
    at = {name: index for index, name in enumerate(attnames)}
    rows = []
    for person in persons:
        row = list(base)
        row[at["username"]] = person.username
        row[at["full_name"]] = person.full_name
        row[at["phone"]] = person.phone
        row[at["department"]] = person.department
        row[at["title"]] = person.title
        row[at["has_ca_certificate"]] = bool(person.has_ca)
        row[at["organization_id"]] = person.bureau.org.pk
        # What set_unusable_password() stores, without its slow random string per account.
        row[at["password"]] = UNUSABLE_PASSWORD_PREFIX + secrets.token_urlsafe(30)
        if person.id_number:
            row[at["id_number_encrypted"]] = crypto.encrypt(person.id_number)
            row[at["id_number_digest"]] = person.digest
        rows.append(row)
    bulk.insert(User, attnames, rows)
    ids = dict(
        User.objects.filter(username__in=[person.username for person in persons]).values_list(
            "username", "id"
        )
    )
    for person in persons:
        person.user_id = ids[person.username]
    _join_org_groups([(person.user_id, person.bureau.org.group_id) for person in persons])
    return [person.user_id for person in persons]


def _update_users(persons: list[PersonPlan]) -> list[int]:
    """Write the changed fields of existing accounts in one statement (every loaded field is known)."""
    if not persons:
        return []
    fields: set[str] = set()
    id_changed: set[int] = set()
    moved = []
    for person in persons:
        user = person.user
        for attribute, value in (
            ("full_name", person.full_name),
            ("phone", person.phone),
            ("department", person.department),
            ("title", person.title),
        ):
            if getattr(user, attribute) != value:
                setattr(user, attribute, value)
                fields.add(attribute)
        if person.has_ca is not None and user.has_ca_certificate != person.has_ca:
            user.has_ca_certificate = person.has_ca
            fields.add("has_ca_certificate")
        if person.digest and user.id_number_digest != person.digest:
            user.id_number_digest = person.digest
            fields.add("id_number_digest")
            id_changed.add(user.pk)
        if user.organization_id != person.bureau.org.pk:
            user.organization_id = person.bureau.org.pk
            fields.add("organization_id")
            moved.append((user.pk, person.bureau.org.group_id))
        if not user.has_role(Role.REVIEWER):
            user.roles = User.encode_roles([*user.role_list, Role.REVIEWER])
            fields.add("roles")
    columns = sorted(fields)
    bulk.update(User, columns, [(p.user.pk, *(getattr(p.user, name) for name in columns)) for p in persons])
    new_ids = [(p.user.pk, crypto.encrypt(p.id_number)) for p in persons if p.user.pk in id_changed]
    bulk.update(User, ["id_number_encrypted"], new_ids)
    if moved:
        User.groups.through.objects.filter(
            user_id__in=[user_id for user_id, _group in moved], group__organization__isnull=False
        ).delete()
        _join_org_groups(moved)
    return [person.user.pk for person in persons]


def _join_org_groups(memberships: list[tuple[int, int]]) -> None:
    """(user id, group id): new accounts, or moved ones whose organization groups were just removed."""
    bulk.insert(User.groups.through, ["user_id", "group_id"], memberships)


def _create_assignments(plan: RosterPlan) -> int:
    """The assignments the plan marked new (a new account, or an account missing that line)."""
    now = timezone.now()
    rows = [
        (person.user_id, stage, division_id, zone_id, plan_row.row.jurisdiction.roster_key, now)
        for (_user_ref, stage, division_id, zone_id), (person, plan_row) in plan.desired.items()
        if plan_row.status == NEW
    ]
    bulk.insert(
        ReviewerAssignment, ["user_id", "stage", "division_id", "zone_id", "roster_key", "created_at"], rows
    )
    return len(rows)


def read_roster(content: bytes, filename: str) -> RosterParse:
    """Parse an upload within the configured limits (ROSTER_MAX_BYTES, ROSTER_MAX_ROWS).

    Raises RosterFileError, with a Chinese message, for anything that is not a readable roster.
    """
    try:
        with paused_gc():
            return parse_roster(
                content,
                filename,
                BureauResolver.default(),
                max_rows=settings.ROSTER_MAX_ROWS,
                max_bytes=settings.ROSTER_MAX_BYTES,
            )
    except RosterFileError:
        raise
    except Exception as exc:  # a damaged file the checks did not foresee: refuse it, never a 500
        logger.exception("roster file %r could not be read", filename[:100])
        raise RosterFileError(CORRUPT) from exc
