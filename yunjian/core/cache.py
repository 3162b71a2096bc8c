"""The shared cache: Django's database cache on the project's PostgreSQL, with an increment that holds.

Every server process reads and writes the same table (CACHE_TABLE, created by the migration
core 0009_cache_table), so the per-address request counts (enterprises.ratelimit) and the public
query's cached results are shared by all gunicorn workers instead of counted per process.

Django's DatabaseCache increments by reading the value and writing it back: two processes counting the
same key at the same moment would both write n+1. Here the row is locked first (SELECT … FOR UPDATE
in a transaction), so concurrent increments queue up and none is lost.
"""

from __future__ import annotations

from django.core.cache.backends.db import DatabaseCache
from django.db import connections, router, transaction

# The table the migration creates; settings.CACHES points at it.
CACHE_TABLE = "yunjian_cache"


class LockingDatabaseCache(DatabaseCache):
    def incr(self, key, delta=1, version=None):
        db = router.db_for_write(self.cache_model_class)
        connection = connections[db]
        if not connection.features.has_select_for_update:
            return super().incr(key, delta, version)
        stored_key = self.make_and_validate_key(key, version=version)
        # The table name comes from settings (quoted); the key is a parameter.
        lock = f"SELECT 1 FROM {connection.ops.quote_name(self._table)} WHERE cache_key = %s FOR UPDATE"  # noqa: S608
        with transaction.atomic(using=db):
            with connection.cursor() as cursor:
                cursor.execute(lock, [stored_key])
            return super().incr(key, delta, version)
