"""Database router: the job queue's schema exists only on PostgreSQL."""

from django.db import connections


class QueueOnPostgresRouter:
    """procrastinate's migrations are PL/pgSQL; on the SQLite fallback they are skipped (and the queue
    is not available there: `make run` and the tests use PostgreSQL)."""

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if app_label == "procrastinate" and connections[db].vendor != "postgresql":
            return False
        return None
