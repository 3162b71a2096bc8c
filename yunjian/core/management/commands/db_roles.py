"""Create the owner and application database roles and apply their grants (idempotent)."""

from __future__ import annotations

import os

import dj_database_url
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db.backends.postgresql.base import Database  # the driver Django uses (dbroles.sql matches it)
from django.db.backends.postgresql.psycopg_any import is_psycopg3

from yunjian.core import dbroles


class Command(BaseCommand):
    help = (
        "以超级用户连接（DATABASE_ADMIN_URL）创建迁移用的所有者角色（MIGRATION_DATABASE_URL 中的用户）"
        "和应用角色（DATABASE_URL 中的用户），并授予应用角色最小权限；可重复执行。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--admin-url",
            default=os.environ.get("DATABASE_ADMIN_URL", ""),
            help="超级用户连接地址（默认取环境变量 DATABASE_ADMIN_URL）",
        )

    def handle(self, *args, admin_url: str, **options):
        if not admin_url:
            raise CommandError("请设置 DATABASE_ADMIN_URL（超级用户连接地址，仅用于创建角色）")
        if not settings.MIGRATION_DATABASE_URL:
            raise CommandError("请设置 MIGRATION_DATABASE_URL（迁移用的所有者角色的连接地址）")
        app_config = settings.DATABASES["default"]
        if app_config["ENGINE"] != "django.db.backends.postgresql":
            raise CommandError("数据库角色只适用于 PostgreSQL")
        try:
            owner = dbroles.role_from_url(settings.MIGRATION_DATABASE_URL)
            app = dbroles.RoleSpec(name=app_config["USER"], password=app_config.get("PASSWORD") or None)
            admin = dj_database_url.parse(admin_url)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        database = app_config["NAME"]
        connection = Database.connect(
            dbname=database,
            user=admin.get("USER") or None,
            password=admin.get("PASSWORD") or None,
            host=admin.get("HOST") or None,
            port=admin.get("PORT") or None,
            # psycopg 3 binds parameters on the server, which ALTER ROLE … PASSWORD does not accept.
            **({"cursor_factory": Database.ClientCursor} if is_psycopg3 else {}),
        )
        try:
            with connection, connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                if not cursor.fetchone()[0]:
                    raise CommandError(
                        "DATABASE_ADMIN_URL 须为超级用户 (a superuser is needed to create roles)"
                    )
                dbroles.create_roles(cursor, database=database, owner=owner, app=app)
                dbroles.grant_application(cursor, owner=owner.name, app=app.name)
        except (ValueError, Database.Error) as exc:
            raise CommandError(str(exc).strip()) from None
        finally:
            connection.close()
        self.stdout.write(
            f"数据库 {database}：所有者角色 {owner.name}（运行迁移），应用角色 {app.name}（审计日志只读、只追加）。"
        )
