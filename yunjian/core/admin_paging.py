"""A paginator for admin changelists of tables with millions of rows (review tasks, audit entries).

Django's changelist asks the paginator for `count` on every page; on an unfiltered table that is a
`SELECT COUNT(*)` over the whole table (hundreds of ms at millions of rows), and
`show_full_result_count = False` does not avoid it. Here the unfiltered count is PostgreSQL's
estimate (pg_class.reltuples, kept by ANALYZE and autovacuum), and a filtered count stops at
`CAP` + 1 rows; the page links then go as far as that count reaches.
"""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

CAP = 10_000


class EstimatedCountPaginator(Paginator):
    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not hasattr(qs, "query"):
            return super().count
        if not qs.query.where:
            estimate = self._estimate(qs)
            if estimate >= CAP:
                return estimate
        return qs.order_by()[: CAP + 1].count()

    @staticmethod
    def _estimate(qs) -> int:
        with connections[qs.db].cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [qs.model._meta.db_table]
            )
            row = cursor.fetchone()
        return max(int(row[0]), 0) if row else 0
