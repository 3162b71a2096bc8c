"""The navigation that fits the user's roles (and, for enterprises, their organization's kinds)."""

from django.conf import settings
from django.urls import reverse

from yunjian.core.models import Organization, Role

K = Organization.Kind
SAVED_FORM_KEY = "saved_form_token"  # set by an entry view after saving a form; read once by the next page
REVIEWERS = {Role.INSTITUTION, Role.REVIEWER, Role.DESIGN_DIVISION}

# (label, url name, roles that see it, organization kinds that see it — None for any)
NAV = (
    ("首页", "core:home", None, None),
    ("我的项目", "projects:workspace", {Role.ENTERPRISE}, None),
    ("我的图审信息", "projects:my-reviews", {Role.ENTERPRISE}, {K.DESIGN}),
    ("待办审核", "review:inbox", REVIEWERS, None),
    ("已办审核", "review:done", REVIEWERS, None),
    ("进度看板", "boards:board", {Role.BOARD_VIEWER, Role.PROVINCE_ADMIN, Role.REVIEWER}, None),
    ("图审看板", "boards:design", {Role.BOARD_VIEWER, Role.PROVINCE_ADMIN, Role.DESIGN_DIVISION}, None),
    ("审核人员名单", "roster:index", {Role.PROVINCE_ADMIN}, None),
    ("数据同步", "sync:operations", {Role.PROVINCE_ADMIN}, None),
    ("发送失败的通知", "notices:failed", {Role.PROVINCE_ADMIN}, None),
    ("账号管理", "core:accounts", {Role.SECURITY_ADMIN}, None),
    ("本单位账号", "enterprises:staff", {Role.ENTERPRISE_ADMIN}, None),
    ("企业注册审核", "enterprises:queue", {Role.PROVINCE_ADMIN}, None),
    ("审计日志", "core:audit-log", {Role.AUDIT_ADMIN}, None),
)


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    roles = set(user.role_list)
    org = user.organization
    path = request.path
    items = []
    for label, name, allowed_roles, allowed_kinds in NAV:
        if allowed_roles is not None and not (roles & allowed_roles):
            continue
        if allowed_kinds is not None and not (org and any(org.has_kind(k) for k in allowed_kinds)):
            continue
        url = reverse(name)
        matches = path == url if url == "/" else path.startswith(url)
        items.append({"label": label, "url": url, "active": False, "length": len(url) if matches else -1})
    # One tab highlighted: the most specific one (我的图审信息 /projects/drawing-reviews/ over 我的项目 /projects/).
    best = max(items, key=lambda item: item["length"], default=None)
    if best is not None and best["length"] >= 0:
        best["active"] = True
    return {"nav_items": items}


def session(request):
    """What the pages' session script needs: the idle timeout, where to keep the session alive, and
    the token of an entry form just saved (its draft kept in the browser can go)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    saved = request.session.pop(SAVED_FORM_KEY, "") if hasattr(request, "session") else ""
    return {
        "idle_timeout_seconds": settings.IDLE_TIMEOUT_SECONDS,
        "saved_form_token": saved,
    }
