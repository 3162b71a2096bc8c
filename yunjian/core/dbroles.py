"""The two database roles (等保 2.0): an owner that runs migrations, and an application role that owns nothing.

The application connects as a role that holds only what it needs: SELECT, INSERT, UPDATE and DELETE on
the tables it works with, and only SELECT and INSERT on the audit log. Because it owns no table it cannot
TRUNCATE the audit log, ALTER TABLE … DISABLE TRIGGER, or set session_replication_role (superusers only).
Migrations run as the owner role (MIGRATION_DATABASE_URL); `manage.py migrate` then re-applies the
application role's grants, so a table added by a later migration is covered as well (default privileges
cover it too).

`manage.py db_roles`, run once with a superuser connection (DATABASE_ADMIN_URL), creates both roles,
hands every existing object in the schema to the owner and applies the grants. Every step is idempotent.
"""

from __future__ import annotations

from dataclasses import dataclass

import dj_database_url

# The driver Django uses (psycopg 3 once installed, else psycopg2): its SQL composition objects must
# match the cursor they run on.
from django.db.backends.postgresql.psycopg_any import sql

SCHEMA = "public"
AUDIT_TABLE = "core_auditentry"
# Written by migrate only; the application reads it (e.g. to show unapplied migrations), nothing more.
MIGRATIONS_TABLE = "django_migrations"


@dataclass(frozen=True)
class RoleSpec:
    name: str
    password: str | None


# PostgreSQL extensions the migrations need (pg_trgm: substring search of names on a trigram index).
EXTENSIONS = ("pg_trgm",)


def role_from_url(url: str) -> RoleSpec:
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ValueError(f"数据库角色只适用于 PostgreSQL（{config['ENGINE']}）")
    if not config.get("USER"):
        raise ValueError("数据库地址中缺少用户名 (the database URL names no user)")
    return RoleSpec(name=config["USER"], password=config.get("PASSWORD") or None)


def create_roles(cursor, *, database: str, owner: RoleSpec, app: RoleSpec) -> None:
    """Create (or bring back in line) the owner and application roles; run as a superuser."""
    if owner.name == app.name:
        raise ValueError("迁移用的所有者角色与应用角色必须不同 (owner and application roles must differ)")
    for role in (owner, app):
        cursor.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [role.name])
        verb = "ALTER" if cursor.fetchone() else "CREATE"
        cursor.execute(
            sql.SQL(
                "{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS INHERIT"
            ).format(sql.SQL(verb), sql.Identifier(role.name))
        )
        if role.password:
            cursor.execute(
                sql.SQL("ALTER ROLE {} PASSWORD %s").format(sql.Identifier(role.name)), [role.password]
            )
    # Neither role may act as the other (membership would lend the owner's rights to the application).
    for member, group in ((app.name, owner.name), (owner.name, app.name)):
        cursor.execute(
            "SELECT 1 FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid "
            "JOIN pg_roles u ON u.oid = m.member WHERE r.rolname = %s AND u.rolname = %s",
            [group, member],
        )
        if cursor.fetchone():
            cursor.execute(sql.SQL("REVOKE {} FROM {}").format(sql.Identifier(group), sql.Identifier(member)))
    database_id = sql.Identifier(database)
    cursor.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(database_id))
    cursor.execute(
        sql.SQL("GRANT CONNECT ON DATABASE {} TO {}, {}").format(
            database_id, sql.Identifier(owner.name), sql.Identifier(app.name)
        )
    )
    # The extensions the migrations use, created here by the superuser: the owner role may not create
    # extensions (no CREATE on the database), and the migrations' CREATE EXTENSION IF NOT EXISTS is then
    # a no-op.
    for extension in EXTENSIONS:
        cursor.execute(sql.SQL("CREATE EXTENSION IF NOT EXISTS {}").format(sql.Identifier(extension)))
    schema = sql.Identifier(SCHEMA)
    # Before PostgreSQL 15 every role may create objects in public; only the owner may now.
    cursor.execute(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))
    cursor.execute(
        sql.SQL("GRANT USAGE, CREATE ON SCHEMA {} TO {}").format(schema, sql.Identifier(owner.name))
    )
    _hand_objects_to_owner(cursor, owner.name)


def _hand_objects_to_owner(cursor, owner: str) -> None:
    """Give the owner every table, sequence, view and function of the schema (a database migrated
    before the split belongs to whichever account ran those migrations)."""
    cursor.execute(
        "SELECT c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') "
        "AND pg_get_userbyid(c.relowner) <> %s "
        # A sequence owned by a column follows its table.
        "AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid "
        "AND d.deptype IN ('a', 'i')))",
        [SCHEMA, owner],
    )
    kinds = {"r": "TABLE", "p": "TABLE", "v": "VIEW", "m": "MATERIALIZED VIEW", "S": "SEQUENCE"}
    kinds["f"] = "FOREIGN TABLE"
    for name, kind in cursor.fetchall():
        cursor.execute(
            sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                sql.SQL(kinds[kind]), sql.Identifier(SCHEMA), sql.Identifier(name), sql.Identifier(owner)
            )
        )
    cursor.execute(
        "SELECT p.oid::regprocedure::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
        "WHERE n.nspname = %s AND pg_get_userbyid(p.proowner) <> %s",
        [SCHEMA, owner],
    )
    for (signature,) in cursor.fetchall():
        cursor.execute(
            sql.SQL("ALTER FUNCTION {} OWNER TO {}").format(sql.SQL(signature), sql.Identifier(owner))
        )


def grant_application(cursor, *, owner: str, app: str) -> None:
    """Grant the application role what it needs and nothing more; run as the owner or a superuser."""
    schema, owner_id, app_id = sql.Identifier(SCHEMA), sql.Identifier(owner), sql.Identifier(app)
    statements = [
        sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, app_id),
        # Tables the owner creates later (a new migration) are usable at once; migrate re-applies the rest.
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {}"
        ).format(owner_id, schema, app_id),
        sql.SQL(
            "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT USAGE, SELECT ON SEQUENCES TO {}"
        ).format(owner_id, schema, app_id),
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, app_id
        ),
        sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, app_id),
        sql.SQL("REVOKE TRUNCATE, REFERENCES, TRIGGER ON ALL TABLES IN SCHEMA {} FROM {}").format(
            schema, app_id
        ),
    ]
    cursor.execute(
        "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname IN (%s, %s)",
        [SCHEMA, AUDIT_TABLE, MIGRATIONS_TABLE],
    )
    present = {name for (name,) in cursor.fetchall()}
    for table, keep in ((AUDIT_TABLE, "SELECT, INSERT"), (MIGRATIONS_TABLE, "SELECT")):
        if table in present:
            table_id = sql.Identifier(SCHEMA, table)
            statements.append(sql.SQL("REVOKE ALL ON TABLE {} FROM {}").format(table_id, app_id))
            statements.append(sql.SQL("GRANT {} ON TABLE {} TO {}").format(sql.SQL(keep), table_id, app_id))
    for statement in statements:
        cursor.execute(statement)
