"""The navigation that fits the user's roles, for the shared layout."""

from django.urls import NoReverseMatch, reverse

from yunjian.core.models import Role

# (label, url name, roles that see it); the first match per role is its home.
NAV = (
    ("首页", "core:home", None),
    ("我的项目", "projects:workspace", {Role.ENTERPRISE}),
    ("我的图审信息", "projects:my-reviews", {Role.ENTERPRISE}),
    ("待办审核", "review:inbox", {Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION}),
    ("已办审核", "review:done", {Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION}),
    ("审核人员名单", "review:roster", {Role.PROVINCE_ADMIN}),
    ("数据同步", "sync:operations", {Role.PROVINCE_ADMIN}),
    ("账号管理", "core:accounts", {Role.SECURITY_ADMIN}),
    ("审计日志", "core:audit-log", {Role.AUDIT_ADMIN}),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = set(user.role_list)
    path = request.path
    items = []
    for label, name, allowed in NAV:
        if allowed is not None and not (roles & allowed):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:  # noqa: S112  (a page of a later issue that is not wired yet)
            continue
        active = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return {"nav_items": items}
