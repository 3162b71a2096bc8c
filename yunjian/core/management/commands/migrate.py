"""`migrate` as the owner role when MIGRATION_DATABASE_URL is set, then the application role's grants.

The application's own connection (DATABASE_URL) owns nothing and cannot change the schema; migrations
connect as the owner instead, and leave the application role holding exactly what yunjian.core.dbroles
grants it (a table created by this run included).
"""

from __future__ import annotations

import dj_database_url
from django.conf import settings
from django.core.management.base import CommandError
from django.core.management.commands.migrate import Command as DjangoMigrateCommand
from django.db import DEFAULT_DB_ALIAS, connections

from yunjian.core import dbroles

OWNER_KEYS = ("USER", "PASSWORD", "HOST", "PORT", "NAME")


class Command(DjangoMigrateCommand):
    def handle(self, *args, **options):
        owner_url = settings.MIGRATION_DATABASE_URL
        if not owner_url or options["database"] != DEFAULT_DB_ALIAS:
            return super().handle(*args, **options)
        connection = connections[DEFAULT_DB_ALIAS]
        current = connection.settings_dict
        owner = dj_database_url.parse(owner_url)
        if owner["ENGINE"] != current["ENGINE"] or owner["NAME"] != current["NAME"]:
            raise CommandError("MIGRATION_DATABASE_URL 与 DATABASE_URL 须指向同一数据库（只是用户不同）")
        app_role = current["USER"]
        if not owner.get("USER") or owner["USER"] == app_role:
            raise CommandError(
                "MIGRATION_DATABASE_URL 的用户须为所有者角色，不能与 DATABASE_URL 的应用角色相同"
            )
        original = {key: current.get(key) for key in OWNER_KEYS}
        connection.close()
        current.update({key: owner.get(key) for key in OWNER_KEYS})
        try:
            super().handle(*args, **options)
            with connection.cursor() as cursor:
                dbroles.grant_application(cursor, owner=owner["USER"], app=app_role)
        finally:
            connection.close()
            current.update(original)
