"""Nothing stalls unseen (issue 16 §2): 无人审核 flags, reassignment of open steps, deactivating a reviewer.

An open step (review.models.Task) is *unroutable* (无人审核) when no active person performs its post:
for a roster step, no account that is active, activated (has a password), holds the reviewer role,
is not of the record's own organization and has a roster line of the step's stage covering its county
(review.jurisdiction) — and, for a step pinned to one reviewer (`Task.assignee`), that reviewer is not
such a person; for an institution's step, no active account of that institution; for the design
division's, nobody with that role. `Task.unroutable_since` holds the flag: set in the transaction that
opens the step (`flag_if_unroutable`, from review.services.open_task), recomputed set-based for a
division or a person whenever the roster changes (an import, an activation, a deactivation:
`refresh`). Newly flagged steps are announced through `review.hooks.tasks_unroutable`, on which the
message centre tells the prefecture's liaisons and the province administrators in the same
transaction.

Reassignment pins open steps to a person: the inbox is scoped by post (every reviewer of a stage whose
roster line covers the county sees the step), so moving "a reviewer's tasks" means naming who performs
them from now on. A pinned step is in its assignee's inbox only (review.jurisdiction.performed_by_q);
the next step of the record is filed by post again.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from projects.stages import Performer, Stage
from review.hooks import tasks_assigned, tasks_unroutable
from review.jurisdiction import covered_q
from review.models import ReviewerAssignment, Task
from yunjian.core import audit
from yunjian.core.models import AuditEntry, Division, Role, User, Zone, covering_codes, province_code

# --- the rule, in SQL over review_task AS t ----------------------------------------------------------


def _performer_exists_sql(exclude_user: bool) -> str:
    """SQL true when someone performs the open step t (one %s parameter per placeholder, in order)."""
    users = User._meta.db_table
    assignments = ReviewerAssignment._meta.db_table
    zones = Zone._meta.db_table
    excluded = " AND u.id <> %(exclude)s" if exclude_user else ""
    active = (
        f"u.is_active AND u.organization_id IS NOT NULL AND u.password NOT LIKE '{UNUSABLE_PASSWORD_PREFIX}%%%%'"
        f" AND u.organization_id <> t.owner_org_id{excluded}"
    )
    # Only table names, enum values and constants are interpolated; values are parameters.
    return f"""(
      (t.performer = '{Performer.ROSTER}' AND t.division_code <> '' AND EXISTS (
        SELECT 1 FROM {assignments} a JOIN {users} u ON u.id = a.user_id LEFT JOIN {zones} z ON z.id = a.zone_id
        WHERE a.stage = t.stage AND {active} AND u.roles LIKE '%%%%|{Role.REVIEWER}|%%%%'
          AND (t.assignee_id IS NULL OR t.assignee_id = u.id)
          AND ((t.zone = '' AND a.division_id IN (t.division_code, left(t.division_code, 4) || '00',
                                                   left(t.division_code, 2) || '0000'))
            OR (t.zone <> '' AND (z.slug = t.zone OR a.division_id = left(t.division_code, 2) || '0000')))))
      OR (t.performer = '{Performer.INSTITUTION}' AND EXISTS (
        SELECT 1 FROM {users} u WHERE u.organization_id = t.assignee_org_id AND {active}
          AND u.roles LIKE '%%%%|{Role.INSTITUTION}|%%%%'))
      OR (t.performer = '{Performer.DESIGN_DIVISION}' AND EXISTS (
        SELECT 1 FROM {users} u WHERE {active} AND u.roles LIKE '%%%%|{Role.DESIGN_DIVISION}|%%%%'))
    )"""  # noqa: S608


def refresh(tasks: QuerySet[Task], now=None) -> list[int]:
    """Recompute the flag of the open steps in `tasks`, in one statement; return the ids newly flagged
    (and announce them through `tasks_unroutable`). Steps someone performs again lose their flag."""
    now = now or timezone.now()
    scope_sql, scope_params = tasks.filter(status=Task.Status.OPEN).values("id").query.sql_with_params()
    exists = _performer_exists_sql(exclude_user=False) % {}
    table = Task._meta.db_table
    sql = f"""
      WITH c AS (
        SELECT t.id, t.unroutable_since IS NOT NULL AS was, NOT {exists} AS stranded
        FROM {table} t WHERE t.id IN ({scope_sql})
      )
      UPDATE {table} t SET unroutable_since = CASE WHEN c.stranded THEN %s ELSE NULL END
      FROM c WHERE t.id = c.id AND c.stranded <> c.was
      RETURNING t.id, c.stranded
    """  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [*scope_params, now])
        flagged = sorted(task_id for task_id, stranded in cursor.fetchall() if stranded)
    if flagged:
        tasks_unroutable.send(sender=Task, task_ids=flagged)
    return flagged


def flag_if_unroutable(task: Task) -> bool:
    """Called as a step opens, in its transaction: flag it at once when nobody performs it."""
    flagged = refresh(Task.objects.filter(pk=task.pk), now=task.submitted_at)
    if flagged:
        task.unroutable_since = task.submitted_at
    return bool(flagged)


def uncovered_without(tasks: QuerySet[Task], user_id: int) -> list[int]:
    """Ids of the open steps in `tasks` that nobody but `user_id` performs."""
    scope_sql, scope_params = tasks.filter(status=Task.Status.OPEN).values("id").query.sql_with_params()
    exists = _performer_exists_sql(exclude_user=True) % {"exclude": "%s"}
    sql = (
        f"SELECT t.id FROM {Task._meta.db_table} t WHERE t.id IN ({scope_sql}) AND NOT {exists} ORDER BY t.id"  # noqa: S608
    )
    # The exclusion parameter appears once per roster/institution/design clause (three times).
    with connection.cursor() as cursor:
        cursor.execute(sql, [*scope_params, user_id, user_id, user_id])
        return [row[0] for row in cursor.fetchall()]


def stranded_if(change, lines) -> list[int]:
    """Ids of the open steps the roster lines `lines` cover (or pin to their people) that someone
    performs now and nobody would once `change` ran. `change` runs in a savepoint that is always rolled
    back: nothing changes here (the admin's check before a roster line is edited or deleted)."""
    lines = list(lines)
    scope = lines_q(lines) | Q(assignee_id__in={line.user_id for line in lines})
    tasks = Task.objects.filter(scope, status=Task.Status.OPEN, unroutable_since__isnull=True)
    exists = _performer_exists_sql(exclude_user=False) % {}
    with transaction.atomic():
        change()
        scope_sql, scope_params = tasks.values("id").query.sql_with_params()
        sql = f"SELECT t.id FROM {Task._meta.db_table} t WHERE t.id IN ({scope_sql}) AND NOT {exists} ORDER BY t.id"  # noqa: S608
        with connection.cursor() as cursor:
            cursor.execute(sql, scope_params)
            stranded = [row[0] for row in cursor.fetchall()]
        transaction.set_rollback(True)
    return stranded


# --- scopes ----------------------------------------------------------------------------------------


def roster_key_q(key: str) -> Q:
    """Over Task rows: the open steps a roster (a prefecture's code, the province's, or a zone's slug)
    is about — where its liaison looks."""
    if not key.isdigit():
        return Q(zone=key)
    division = Division.objects.filter(code=key).first()
    if division is None:
        return Q(pk__in=[])
    low, high = division.code_range
    return Q(division_code__gte=low, division_code__lt=high)


def roster_keys_q(keys) -> Q:
    q = Q(pk__in=[])
    for key in keys:
        q |= roster_key_q(key)
    return q


def refresh_rosters(keys) -> list[int]:
    """After a roster import: recompute the open steps of the rosters' prefectures (or zones)."""
    keys = list(keys)
    if not keys:
        return []
    return refresh(Task.objects.filter(roster_keys_q(keys)))


def lines_q(assignments) -> Q:
    """Over Task rows: the roster posts `assignments` cover, whoever holds them (active or not)."""
    q = Q(pk__in=[])
    for a in assignments:
        if a.stage != Stage.LIAISON:
            q |= Q(performer=Performer.ROSTER, stage=a.stage) & covered_q(a)
    return q


def refresh_person(user) -> list[int]:
    """After an activation or a deactivation: recompute the steps the person's roster lines cover and
    the steps pinned to them."""
    assignments = list(ReviewerAssignment.objects.filter(user=user).select_related("division", "zone"))
    return refresh(Task.objects.filter(lines_q(assignments) | Q(assignee=user)))


# --- who may move a reviewer's work ----------------------------------------------------------------


def liaison_keys(user) -> list[str]:
    return sorted(
        set(
            ReviewerAssignment.objects.filter(user=user, stage=Stage.LIAISON).values_list(
                "roster_key", flat=True
            )
        )
    )


def oversight_q(user) -> Q | None:
    """Over Task rows: what `user` oversees — everything for a province administrator, their rosters'
    steps for a liaison — or None when they oversee nothing."""
    if not (user.is_authenticated and user.is_active):
        return None
    if user.has_role(Role.PROVINCE_ADMIN):
        return Q()
    keys = liaison_keys(user) if user.has_role(Role.REVIEWER) else []
    return roster_keys_q(keys) if keys else None


def unroutable_tasks(user) -> QuerySet[Task]:
    """The open steps nobody performs that `user` oversees (PermissionDenied for anyone else)."""
    scope = oversight_q(user)
    if scope is None:
        raise PermissionDenied("只有省级管理员和州（市）联络员可以查看无人审核的记录。")
    return Task.objects.filter(scope, status=Task.Status.OPEN, unroutable_since__isnull=False)


def _is_performer(user) -> bool:
    return (
        user.is_active
        and user.has_role(Role.REVIEWER)
        and user.organization_id is not None
        and user.has_usable_password()
    )


def tasks_of(person, assignments=None) -> QuerySet[Task]:
    """A reviewer's open roster steps: those pinned to them, and those of their posts pinned to nobody
    (their inbox, whether their account is active or not)."""
    if assignments is None:
        assignments = list(ReviewerAssignment.objects.filter(user=person).select_related("division", "zone"))
    mine = lines_q(assignments) & Q(assignee__isnull=True) & ~Q(owner_org_id=person.organization_id)
    return Task.objects.filter(mine | Q(assignee=person), status=Task.Status.OPEN)


def candidates(person, scope: Q | None = None) -> QuerySet[User]:
    """Active reviewers who could take some of `person`'s steps: a roster line of one of their stages at
    the same place, above it (the prefecture, the province) or below it (a county of their prefecture)."""
    q = Q(pk__in=[])
    for a in ReviewerAssignment.objects.filter(user=person).select_related("division", "zone"):
        if a.stage == Stage.LIAISON:
            continue
        if a.zone_id:
            q |= Q(stage=a.stage) & (
                Q(zone_id=a.zone_id) | Q(division_id=province_code(a.division_id or "53"))
            )
            continue
        low, high = a.division.code_range
        q |= Q(stage=a.stage) & (
            Q(division_id__in=covering_codes(a.division_id)) | Q(division_id__gte=low, division_id__lt=high)
        )
    user_ids = ReviewerAssignment.objects.filter(q).values("user_id")
    return (
        User.objects.filter(pk__in=user_ids, is_active=True, roles__contains=f"|{Role.REVIEWER}|")
        .exclude(pk=person.pk)
        .exclude(password__startswith=UNUSABLE_PASSWORD_PREFIX)
        .select_related("organization")
        .order_by("username")
    )


def _performable_by(tasks: QuerySet[Task], user) -> QuerySet[Task]:
    """The steps in `tasks` whose post `user` holds (ignoring whom they are pinned to)."""
    assignments = list(ReviewerAssignment.objects.filter(user=user).select_related("division", "zone"))
    return tasks.filter(lines_q(assignments)).exclude(owner_org_id=user.organization_id)


@dataclass
class Moved:
    moved: list[int]
    left: list[int]


def _lock_people(*ids: int) -> dict[int, User]:
    people = User.objects.select_for_update().filter(pk__in=[i for i in ids if i]).order_by("pk")
    return {u.pk: u for u in people}


def _move(*, actor, person: User, target: User, tasks: QuerySet[Task], reason: str, ip) -> Moved:
    locked = list(tasks.select_for_update().order_by("pk").values_list("pk", flat=True))
    movable = set(_performable_by(Task.objects.filter(pk__in=locked), target).values_list("pk", flat=True))
    moved = [pk for pk in locked if pk in movable]
    left = [pk for pk in locked if pk not in movable]
    if moved:
        Task.objects.filter(pk__in=moved).update(assignee=target, unroutable_since=None)
        audit.record(
            action=AuditEntry.Action.REASSIGN,
            actor=actor,
            obj=person,
            reason=reason[:1000],
            data={"from": person.pk, "to": target.pk, "to_username": target.username, "tasks": moved},
            ip=ip,
        )
        tasks_assigned.send(sender=Task, assignee=target, task_ids=moved, actor=actor)
    return Moved(moved, left)


def reassign_tasks(*, actor, from_user_id: int, to_user_id: int, ip: str | None = None) -> Moved:
    """转交: a liaison (for their prefecture's steps) or a province administrator pins the open steps of
    one reviewer to another active reviewer who holds the same posts. Steps the new reviewer does not
    cover stay where they are (`left`). Row locks on both people and the steps → permission → target
    is an active reviewer → the steps change assignee → audit entry → `tasks_assigned` (the message
    centre tells the new reviewer). Raises PermissionDenied or ValidationError; changes nothing then."""
    with transaction.atomic():
        scope = oversight_q(actor)
        if scope is None:
            raise PermissionDenied("只有省级管理员和州（市）联络员可以转交审核任务。")
        people = _lock_people(from_user_id, to_user_id)
        person, target = people.get(from_user_id), people.get(to_user_id)
        if person is None:
            raise PermissionDenied("该审核人员不存在。")
        if target is None or target.pk == person.pk or not _is_performer(target):
            raise ValidationError({"to_user": "请选择另一位已激活、在岗的审核人员。"})
        tasks = tasks_of(person).filter(scope)
        if not tasks.exists():
            raise ValidationError({"to_user": "该审核人员在您的管辖范围内没有待审核任务。"})
        result = _move(
            actor=actor, person=person, target=target, tasks=tasks, reason=f"转交审核任务给 {target}", ip=ip
        )
        if not result.moved:
            raise ValidationError({"to_user": f"{target} 不负责这些任务的辖区和审核环节，不能接手。"})
        return result


def reviewer_deactivate(
    *, actor, user_id: int, to_user_id: int | None, reason: str = "", ip: str | None = None
) -> Moved:
    """停用审核人员: the province administrator, or the liaison of every roster the person is on, stops an
    account — after saying where its open steps go. A chosen successor (`to_user_id`) takes every open
    step of the person's that they cover; the steps pinned to the person and those nobody else performs
    must all find someone, or nothing changes (ValidationError). Row locks → permission → the moves (audited as a reassignment) → is_active off
    → audit entry → the person's posts recomputed (nothing new is left unroutable)."""
    reason = (reason or "").strip()
    with transaction.atomic():
        people = _lock_people(user_id, to_user_id or 0)
        person = people.get(user_id)
        if person is None or not person.has_role(Role.REVIEWER):
            raise PermissionDenied("该审核人员不存在。")
        if not can_deactivate(actor, person):
            raise PermissionDenied("只有省级管理员或该审核人员所在州（市）的联络员可以停用该账号。")
        if not person.is_active:
            raise ValidationError({"__all__": "该账号已停用。"})
        if not reason:
            raise ValidationError({"reason": "请填写停用原因（如：调离岗位）。"})
        own = tasks_of(person)
        must_move = set(own.filter(assignee=person).values_list("pk", flat=True))
        must_move |= set(uncovered_without(own, person.pk))
        result = Moved([], [])
        target = people.get(to_user_id or 0)
        if target is not None:
            if target.pk == person.pk or not _is_performer(target):
                raise ValidationError({"to_user": "请选择另一位已激活、在岗的审核人员。"})
            # The chosen successor takes every open step of the person's that they cover.
            result = _move(
                actor=actor,
                person=person,
                target=target,
                tasks=own,
                reason=f"停用 {person} 前转交审核任务给 {target}",
                ip=ip,
            )
        stranded = must_move - set(result.moved)
        if stranded and target is None:
            raise ValidationError(
                {
                    "to_user": f"该审核人员还有 {len(stranded)} 件待审核任务停用后无人接手，请选择接手的审核人员。"
                }
            )
        if stranded:
            raise ValidationError(
                {
                    "to_user": f"{target} 不负责其中 {len(stranded)} 件任务的辖区和审核环节；"
                    "请先将这些任务转交给负责的审核人员，或在名单中为该地区补充审核人员。"
                }
            )
        person.is_active = False
        person.save(update_fields=["is_active"])
        audit.record(
            action=AuditEntry.Action.PERMISSION,
            actor=actor,
            obj=person,
            reason=f"停用审核人员账号：{reason}"[:1000],
            data={"active": False, "moved_tasks": result.moved},
            ip=ip,
        )
        refresh_person(person)
        return result


def can_deactivate(actor, person) -> bool:
    if not (actor.is_authenticated and actor.is_active) or actor.pk == person.pk:
        return False
    if actor.has_role(Role.PROVINCE_ADMIN):
        return True
    keys = set(liaison_keys(actor)) if actor.has_role(Role.REVIEWER) else set()
    theirs = set(ReviewerAssignment.objects.filter(user=person).values_list("roster_key", flat=True))
    return bool(keys) and bool(theirs) and theirs <= keys


def can_manage(actor, person) -> bool:
    """Whether `actor` may open the page of `person`'s open steps (reassign them)."""
    if not (actor.is_authenticated and actor.is_active) or not person.has_role(Role.REVIEWER):
        return False
    if actor.has_role(Role.PROVINCE_ADMIN):
        return True
    keys = set(liaison_keys(actor)) if actor.has_role(Role.REVIEWER) else set()
    theirs = set(ReviewerAssignment.objects.filter(user=person).values_list("roster_key", flat=True))
    return bool(keys & theirs)
