"""The cache is shared by every server process (yunjian.core.cache): a table in the project's database,
so the per-address limits count across gunicorn workers, and concurrent increments lose nothing."""

from __future__ import annotations

import threading

import pytest
from django.core.cache import cache, caches
from django.db import connection, connections
from django.urls import reverse

from enterprises import ratelimit, views
from yunjian.core.cache import CACHE_TABLE, LockingDatabaseCache


def test_the_default_cache_is_the_database_table(db):
    assert isinstance(caches["default"], LockingDatabaseCache)
    assert CACHE_TABLE in connection.introspection.table_names()
    cache.set("k", "v", 30)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {CACHE_TABLE}")
        assert cursor.fetchone()[0] == 1


def test_two_processes_share_the_public_query_count(client, db, monkeypatch):
    """Two cache clients, as two gunicorn workers would each have: 30 requests through one, 30 through
    the other, and the 61st — whichever worker takes it — is refused."""
    worker_a = caches.create_connection("default")
    worker_b = caches.create_connection("default")
    assert worker_a is not worker_b
    url = reverse("enterprises:public-search")
    for n in range(views.PUBLIC_LIMIT):
        monkeypatch.setattr(ratelimit, "cache", worker_a if n % 2 else worker_b)
        assert client.get(url).status_code == 200, n
    monkeypatch.setattr(ratelimit, "cache", worker_a)
    assert client.get(url).status_code == 429
    monkeypatch.setattr(ratelimit, "cache", worker_b)
    assert client.get(url).status_code == 429


@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_not_lost():
    cache.set("counter", 0, 60)
    per_thread, threads = 25, 4
    errors = []

    def count():
        worker = caches.create_connection("default")
        try:
            for _ in range(per_thread):
                worker.incr("counter")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    running = [threading.Thread(target=count) for _ in range(threads)]
    for thread in running:
        thread.start()
    for thread in running:
        thread.join()
    assert not errors
    assert cache.get("counter") == per_thread * threads
