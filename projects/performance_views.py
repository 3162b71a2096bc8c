"""The 业绩 pages of an enterprise: its projects' chains, the verified list, its export and print.

Composition (docs/architecture.md): the rules are `projects.performance`; what the platform
acknowledged comes from the sync layer (`sync.performance`), the one edge listed in .importlinter.
Every page shows the signed-in user's organization only: there is no id in these URLs.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.views.decorators.http import require_GET

from projects import performance
from projects.views import enterprise_required
from sync.performance import performance_rows, performance_states, performance_summary
from yunjian.core.pagination import keyset_page

PAGE_SIZE = 50


def _filters(request: HttpRequest) -> tuple[str, str]:
    show = request.GET.get("show", "")
    blocked = request.GET.get("step", "")
    return (
        show if show in performance.FILTERS else "",
        blocked if blocked in performance.STEPS else "",
    )


@require_GET
@enterprise_required
def performance_list(request: HttpRequest) -> HttpResponse:
    """Each project with the chain the notice asks of the organization's role there, the state of
    each step and the next thing to do; filtered by verified / one step away / blocked at a step."""
    org = request.user.organization
    show, blocked = _filters(request)
    # The stored verdicts (the organization's stale ones refreshed by the figures' call first): the
    # figures are one aggregate, the filter conditions on the stored columns.
    summary = performance_summary(org.pk)
    with performance.without_jit():
        page = keyset_page(
            performance_rows(org.pk, show=show, blocked=blocked),
            request,
            key=("project_id", "id"),
            descending=True,
            size=PAGE_SIZE,
        )
    context = {
        "page": page,
        "rows": performance.build_rows(performance_states(page.rows, org.pk)),
        "summary": summary,
        "show": show,
        "blocked": blocked,
        "blocked_label": performance.step_label(blocked) if blocked else "",
        "filters": [(key, label) for key, (label, _q) in performance.FILTERS.items()],
        "steps": [(k, performance.step_label(k)) for k in performance.STEPS],
        "headers": [performance.step_label(k) for k in performance.STEPS],
    }
    return render(request, "projects/performance.html", context)


def _verified_lines(request: HttpRequest) -> list[performance.ListLine]:
    org = request.user.organization
    with performance.without_jit():
        return performance.list_lines(performance_rows(org.pk, show="verified"), org.pk)


@require_GET
@enterprise_required
def performance_export(request: HttpRequest) -> HttpResponse:
    """The verified-performance list (已认定业绩清单) as .xlsx."""
    org = request.user.organization
    content = performance.export_xlsx(_verified_lines(request), org.name)
    response = HttpResponse(content, content_type=performance.XLSX_CONTENT_TYPE)
    filename = f"已认定业绩清单-{timezone.localdate():%Y%m%d}.xlsx"
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=filename)
    return response


@require_GET
@enterprise_required
def performance_print(request: HttpRequest) -> HttpResponse:
    """The verified-performance list as a page to print (static/css/print.css)."""
    lines = _verified_lines(request)
    return render(
        request,
        "projects/performance_print.html",
        {
            "lines": lines,
            "rows": performance.print_rows(lines),
            "org": request.user.organization,
            "today": timezone.localdate(),
        },
    )
