"""The shared cache's table (yunjian.core.cache), exactly as `manage.py createcachetable` makes it.

Created here rather than by a separate createcachetable step so that every place that runs `migrate`
(make run, the container's entrypoint, the tests' database set-up, the owner role in production) has it.
The name is fixed: settings.CACHES uses yunjian.core.cache.CACHE_TABLE, which must stay "yunjian_cache".
"""

from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations

TABLE = "yunjian_cache"


def create(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(schema_editor.connection.alias, TABLE, dry_run=False)


def drop(apps, schema_editor):
    quoted = schema_editor.connection.ops.quote_name(TABLE)
    schema_editor.execute(f"DROP TABLE IF EXISTS {quoted}")


class Migration(migrations.Migration):
    dependencies = [("core", "0008_campaign_audit_withdraw")]

    operations = [migrations.RunPython(create, drop)]
