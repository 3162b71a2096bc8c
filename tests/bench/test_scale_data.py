"""bench/scale: the generator at a tiny scale writes rows the app's own pages and services accept
(the same checks as `python -m bench.scale.check` runs after a full generation)."""

import time

from django.db import connection

from bench.scale.check import run_checks
from bench.scale.generate import generate
from projects.models import Project
from review.models import Task


def test_generated_data_set_shows_on_the_apps_pages_and_passes_the_services(db):
    connection.ensure_connection()
    counts = generate(0.001, connection.connection, time.monotonic(), commit=False)
    assert counts["projects_project"] == Project.objects.count() == 400
    open_tasks = Task.objects.filter(status="open").count()
    assert 0.05 < open_tasks / Task.objects.count() < 0.15
    assert run_checks() == []
