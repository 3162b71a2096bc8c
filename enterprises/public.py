"""The public verified-performance query (公开业绩查询): search an enterprise, list its verified projects.

"Verified" is the 业绩 list's own verdict (`projects.performance` with the platform's acknowledgement
from `sync.performance`; the stored one, ProjectParty.missing = 0): a project counts for a role when every record the notice asks of that role is
approved and acknowledged by the platform. Only what the national platform publishes is shown —
numbers, names of projects and units, amounts, dates; nothing personal (no ID numbers, phones or
reviewers). Results are cached (PUBLIC_CACHE_SECONDS) as plain values.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Q

from projects import performance
from projects.models import ProjectParty
from sync.performance import refresh_verdicts
from yunjian.core.models import Organization
from yunjian.core.validators import normalize_code, normalize_text

PUBLIC_CACHE_SECONDS = 300
SEARCH_LIMIT = 20
PAGE_SIZE = 50
ENTERPRISE_KINDS_Q = Q()
for _kind in sorted(Organization.ENTERPRISE_KINDS):
    ENTERPRISE_KINDS_Q |= Q(kinds__contains=f"|{_kind}|")


@dataclass(frozen=True)
class Found:
    name: str
    credit_code: str
    division: str
    kinds: str


def search(text: str) -> list[Found]:
    """Enterprises whose name contains `text` (the trigram index org_name_trgm_idx) or whose credit
    code starts with it (the unique index); at most SEARCH_LIMIT, cached."""
    text = normalize_text(text or "")[:60]
    if len(text) < 2:
        return []
    key = "public:search:" + text.encode().hex()[:200]
    found = cache.get(key)
    if found is not None:
        return found
    code = normalize_code(text)
    q = Q(name__contains=text)
    if code.isascii() and code.isalnum():
        q |= Q(credit_code__startswith=code)
    rows = (
        Organization.objects.filter(q)
        .filter(ENTERPRISE_KINDS_Q)
        .select_related("division")
        .order_by("name", "id")[:SEARCH_LIMIT]
    )
    found = [Found(o.name, o.credit_code, o.division.name, o.get_kinds_display()) for o in rows]
    cache.set(key, found, PUBLIC_CACHE_SECONDS)
    return found


@dataclass(frozen=True)
class Line:
    prj_num: str
    name: str
    location: str
    role: str
    contract_amount: object
    record_nums: str
    contract_nums: str
    censor_nums: str
    permit_nums: str
    permit_date: object
    completion_date: object
    filing_nums: str
    acknowledged_at: object


@dataclass(frozen=True)
class EnterprisePage:
    name: str
    credit_code: str
    kinds: str
    division: str
    total: int
    lines: list[Line]
    next_after: int | None  # the party id the next page starts after


def _line(line: performance.ListLine) -> Line:
    j = performance._join
    return Line(
        prj_num=line.project.prj_num,
        name=line.project.name,
        location=line.location,
        role=line.role_label,
        contract_amount=line.contract_amount,
        record_nums=j(line.record_nums),
        contract_nums=j(line.contract_nums),
        censor_nums=j(line.censor_nums),
        permit_nums=j(line.permit_nums),
        permit_date=performance._first(line.issue_dates),
        completion_date=performance._last(line.acceptance_dates),
        filing_nums=j(line.filing_nums),
        acknowledged_at=line.project.platform_synced_at,
    )


def enterprise(credit_code: str, after: int | None = None) -> EnterprisePage | None:
    """An enterprise's verified projects, PAGE_SIZE at a time in party-id order; None if no such
    enterprise. Cached per enterprise and page."""
    code = normalize_code(credit_code or "")[:18]
    key = f"public:enterprise:{code.encode().hex()}:{after or 0}"
    page = cache.get(key)
    if page is not None:
        return page
    org = (
        Organization.objects.filter(credit_code=code)
        .filter(ENTERPRISE_KINDS_Q)
        .select_related("division")
        .first()
    )
    if org is None:
        return None
    # The stored verdicts (refreshed first if the triggers marked any stale since the periodic job
    # ran: an anonymous request writes only then); verified = no owed step missing.
    refresh_verdicts(org_id=org.pk)
    verified = performance.parties(org.pk).filter(performance.FILTER_Q["verified"])
    total = verified.count()
    start = list(
        verified.filter(pk__gt=after or 0).order_by("id").values_list("id", flat=True)[: PAGE_SIZE + 1]
    )
    chosen = start[:PAGE_SIZE]
    lines = performance.list_lines(ProjectParty.objects.filter(pk__in=chosen), org.pk) if chosen else []
    page = EnterprisePage(
        name=org.name,
        credit_code=org.credit_code,
        kinds=org.get_kinds_display(),
        division=org.division.name,
        total=total,
        lines=[_line(line) for line in lines],
        next_after=chosen[-1] if len(start) > PAGE_SIZE else None,
    )
    cache.set(key, page, PUBLIC_CACHE_SECONDS)
    return page
