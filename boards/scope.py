"""Who sees which board (docs/architecture.md: 进度看板).

- 省厅业务处室 (Role.BOARD_VIEWER, read-only) and the province administrator: the whole province;
- a reviewer: the divisions their roster assignments name (a prefecture's liaison — Stage.LIAISON —
  and its reviewers the prefecture, a county's reviewers the county; several assignments, several
  divisions); assignments of a functional zone give no board;
- the design division: the drawing reviews by design unit and by institution (`design_board_allowed`).
Everyone else: 403.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from review.models import ReviewerAssignment
from yunjian.core.models import Division, Role

PROVINCE = "530000"
PROVINCE_WIDE = (Role.BOARD_VIEWER, Role.PROVINCE_ADMIN)
DESIGN_BOARD_ROLES = (Role.DESIGN_DIVISION, *PROVINCE_WIDE)


def covers(outer: str, code: str) -> bool:
    """Whether division `outer` (province, prefecture or county code) includes division `code`."""
    if outer.endswith("0000"):
        return code[:2] == outer[:2]
    if outer.endswith("00"):
        return code[:4] == outer[:4]
    return code == outer


def scope_codes(user) -> list[str]:
    """The divisions whose boards `user` sees (the widest only), or PermissionDenied."""
    if any(user.has_role(role) for role in PROVINCE_WIDE):
        return [PROVINCE]
    if user.has_role(Role.REVIEWER):
        codes = sorted(
            set(
                ReviewerAssignment.objects.filter(user=user, division__isnull=False).values_list(
                    "division_id", flat=True
                )
            )
        )
        widest = [c for c in codes if not any(o != c and covers(o, c) for o in codes)]
        if widest:
            return widest
    raise PermissionDenied("您的角色无权查看进度看板。")


def division_in_scope(user, code: str | None) -> tuple[Division, list[str]]:
    """The division asked for (default: the first of the user's scope) if the user may see it."""
    scope = scope_codes(user)
    code = (code or "").strip() or scope[0]
    if not any(covers(outer, code) for outer in scope):
        raise PermissionDenied("该地区不在您的查看范围内。")
    division = Division.objects.filter(pk=code).first()
    if division is None:
        raise PermissionDenied("没有这个行政区划。")
    return division, scope


def design_board_allowed(user) -> None:
    if not any(user.has_role(role) for role in DESIGN_BOARD_ROLES):
        raise PermissionDenied("您的角色无权查看图审看板。")
