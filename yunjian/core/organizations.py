"""Units named by enterers: lookup by name or 统一社会信用代码, and units not registered yet.

Historical projects often have a 建设单位 (or a survey or supervision unit) that was never registered
here. The enterer names it (name + code, the code checked by GB 32100); it is created at once,
unverified (`Organization.is_verified`), so the record can be saved and submitted, and the system
administrator confirms it later in the admin (单位 → 待核实).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet

from yunjian.core import audit
from yunjian.core.models import AuditEntry, Division, Organization
from yunjian.core.validators import credit_code_problem, normalize_code, normalize_text

LOOKUP_LIMIT = 10


@dataclass(frozen=True)
class NewOrganization:
    """A unit an enterer named that is not registered yet; created when the record is saved."""

    name: str
    credit_code: str
    kind: str

    def __str__(self) -> str:
        return f"{self.name}（{self.credit_code}，待核实）"


def lookup(text: str, kind: str | None = None, limit: int = LOOKUP_LIMIT) -> QuerySet[Organization]:
    """Units whose name contains `text`, or whose code starts with it (an index on each)."""
    text = normalize_text(text or "")[:100]
    if len(text) < 2:
        return Organization.objects.none()
    code = normalize_code(text)
    q = Q(name__contains=text)
    if code.isalnum() and code.isascii():
        q |= Q(credit_code__startswith=code)
    qs = Organization.objects.filter(q)
    if kind:
        qs = qs.filter(kinds__contains=f"|{kind}|")
    return qs.order_by("-is_verified", "name")[:limit]


def new_organization_problem(name: str, code: str) -> str:
    if not name:
        return "请填写新单位的名称。"
    if len(name) > 200:
        return "单位名称不能超过200个字。"
    if not code:
        return "请填写新单位的统一社会信用代码（见营业执照或事业单位法人证书）。"
    problem = credit_code_problem(code)
    return f"{problem}。" if problem else ""


def _division_for(code: str, fallback: Division | None) -> Division:
    """The unit's place from its code (digits 3–8 are the 行政区划 of registration), else the fallback."""
    division = Division.objects.filter(code=code[2:8]).first()
    if division is None:
        division = fallback or Division.objects.filter(level=Division.Level.PROVINCE).order_by("code").first()
    return division


@transaction.atomic
def register_unverified(*, actor, new: NewOrganization, ip: str | None = None) -> Organization:
    """Create the unit `new` (unverified), or return the one already registered under its code.

    Raises ValidationError when the code belongs to a unit of another name (a typo, most likely).
    """
    name, code = normalize_text(new.name), normalize_code(new.credit_code)
    problem = new_organization_problem(name, code)
    if problem:
        raise ValidationError(problem)
    existing = Organization.objects.select_for_update().filter(credit_code=code).first()
    if existing is not None:
        if existing.name != name:
            raise ValidationError(
                f"统一社会信用代码 {code} 在系统中登记的是“{existing.name}”，不是“{name}”，请核对名称或代码。"
            )
        return existing
    org = Organization(
        name=name,
        credit_code=code,
        kinds=f"|{new.kind}|",
        division=_division_for(code, getattr(getattr(actor, "organization", None), "division", None)),
        is_verified=False,
    )
    org.full_clean(exclude=["group"])
    org.save()
    audit.record(
        action=AuditEntry.Action.CREATE,
        actor=actor,
        obj=org,
        reason=f"录入时登记系统中没有的单位（待系统管理员核实）：{name}",
        data={"credit_code": code, "kind": new.kind},
        ip=ip,
    )
    return org


@transaction.atomic
def confirm(*, actor, organization_ids: list[int], ip: str | None = None) -> int:
    """The administrator confirms units entered by enterers (待核实 → 已核实)."""
    orgs = list(Organization.objects.select_for_update().filter(pk__in=organization_ids, is_verified=False))
    for org in orgs:
        org.is_verified = True
        org.save(update_fields=["is_verified"])
        audit.record(action=AuditEntry.Action.UPDATE, actor=actor, obj=org, reason="核实单位信息", ip=ip)
    return len(orgs)
