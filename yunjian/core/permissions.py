"""Role checks shared by every app's pages (the lowest layer, so any view may use them)."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied


def require_roles(user, roles) -> None:
    """403 unless the user holds one of `roles` (the page exists, the user may not use it)."""
    if not any(user.has_role(r) for r in roles):
        raise PermissionDenied("您的角色无权访问此页面。")
