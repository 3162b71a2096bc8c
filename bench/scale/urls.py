"""The bench-only URLconf (bench/scale/settings.py): the product's URLs plus two reference pages
that are not part of the product, measured in the same run so every figure is also a ratio:

- /bench/trivial/: a signed-in request that answers a constant (the stack: gunicorn, middleware,
  session and user lookups);
- /bench/keyset/: one indexed keyset query of 50 open inbox rows (曲靖's permit stage, oldest
  first, task_open_roster_idx) rendered as a bare table — what a list page costs at its minimum.
"""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.urls import include, path
from django.utils.html import escape

from review.models import Task


@login_required
def trivial(request):
    return HttpResponse("ok", content_type="text/plain")


@login_required
def keyset(request):
    rows = (
        Task.objects.filter(
            status="open", stage="permit", division_code__gte="5303", division_code__lt="5304"
        )
        .order_by("submitted_at", "id")
        .values_list("id", "title", "prj_num", "submitted_at")[:51]
    )
    body = "".join(
        f"<tr><td>{i}</td><td>{escape(t)}</td><td>{p}</td><td>{s:%Y-%m-%d}</td></tr>" for i, t, p, s in rows
    )
    return HttpResponse(f"<!doctype html><title>keyset</title><table>{body}</table>")


urlpatterns = [
    path("bench/trivial/", trivial),
    path("bench/keyset/", keyset),
    path("", include("yunjian.urls")),
]
