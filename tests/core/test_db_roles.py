"""The database enforces the audit log's promise: the application role owns nothing and cannot erase it.

These tests create a scratch database on the test server (where the test user is a superuser), create
the two roles with `manage.py db_roles`, migrate as the owner, run the demo loader as the application
role, and then try, as the application role, every way around the append-only trigger.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import dj_database_url
import psycopg2
import pytest
from django.conf import settings
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]


def _url(config: dict, *, user: str, password: str = "", name: str) -> str:
    auth = f"{user}:{password}" if password else user
    return f"postgres://{auth}@{config['HOST'] or '127.0.0.1'}:{config['PORT'] or 5432}/{name}"


def _superuser_connection(config: dict, dbname: str):
    connection = psycopg2.connect(
        dbname=dbname,
        user=config["USER"],
        password=config.get("PASSWORD") or None,
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    return connection


@pytest.fixture(scope="module")
def scratch():
    """A fresh database and two role names unique to this test run's database (helpers share the server)."""
    config = dj_database_url.parse(os.environ["DATABASE_URL"])
    # Unique per test database and xdist worker: the roles are cluster-wide and the server is shared.
    base = config["NAME"] + os.environ.get("PYTEST_XDIST_WORKER", "")
    # Never the names a real deployment uses (yunjian_owner, yunjian_app): these are dropped afterwards.
    names = {"db": f"{base}_rolecheck", "owner": f"{base}_rolecheck_owner", "app": f"{base}_rolecheck_app"}
    admin = _superuser_connection(config, "postgres")

    def drop():
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(names["db"]))
            )
            for role in (names["app"], names["owner"]):
                cursor.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))

    drop()
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(names["db"])))
    env = {
        "DEBUG": "true",
        "DATABASE_ADMIN_URL": _url(
            config, user=config["USER"], password=config.get("PASSWORD"), name=names["db"]
        ),
        "MIGRATION_DATABASE_URL": _url(
            config, user=names["owner"], password="owner-pw-Aa1", name=names["db"]
        ),
        "DATABASE_URL": _url(config, user=names["app"], password="app-pw-Aa1", name=names["db"]),
    }
    yield {"config": config, "env": env, **names}
    drop()
    admin.close()


def manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result


@pytest.fixture(scope="module")
def deployed(scratch):
    """Roles created twice (idempotent), migrated twice as the owner, demo data written as the application."""
    env = scratch["env"]
    manage("db_roles", env=env)
    manage("db_roles", env=env)
    manage("migrate", "--no-input", env=env)
    manage("migrate", "--no-input", env=env)
    # The application role does everything the application does: accounts, projects, reviews, audit, sync.
    manage(
        "load_demo",
        env={**env, "SYNC_DEMO_RECEIVER_DB": str(Path(settings.VAR_DIR) / "test-roles-receiver.db")},
    )
    return scratch


def _as(deployed, role: str):
    config = deployed["config"]
    connection = psycopg2.connect(
        dbname=deployed["db"],
        user=deployed[role],
        host=config["HOST"] or "127.0.0.1",
        port=config["PORT"] or 5432,
    )
    connection.autocommit = True
    return connection


FORBIDDEN = {
    "update": "UPDATE core_auditentry SET reason = 'x'",
    "delete": "DELETE FROM core_auditentry",
    "truncate": "TRUNCATE core_auditentry",
    "disable trigger": "ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_no_update_delete",
    "replica": "SET session_replication_role = replica",
    "drop": "DROP TABLE core_auditentry",
    "create": "CREATE TABLE core_shadow (id int)",
}


@pytest.mark.parametrize("statement", FORBIDDEN.values(), ids=FORBIDDEN.keys())
def test_the_application_role_cannot_get_around_the_audit_log(deployed, statement):
    connection = _as(deployed, "app")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM core_auditentry")
            before = cursor.fetchone()[0]
            assert before > 0
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute(statement)
            cursor.execute("SELECT count(*) FROM core_auditentry")
            assert cursor.fetchone()[0] == before
    finally:
        connection.close()


def test_the_application_role_appends_and_reads_the_audit_log_and_owns_nothing(deployed):
    connection = _as(deployed, "app")
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "INSERT INTO core_auditentry"
                " (at, action, object_type, object_id, from_state, to_state, step, reason, data)"
                " VALUES (now(), 'export', 'test', '1', '', '', '', '', '{}') RETURNING id"
            )
            assert cursor.fetchone()[0] > 0
            cursor.execute(
                "SELECT rolsuper, rolcreaterole, rolcreatedb, rolbypassrls FROM pg_roles WHERE rolname = current_user"
            )
            assert cursor.fetchone() == (False, False, False, False)
            cursor.execute(
                "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )
            assert cursor.fetchone()[0] == 0
            cursor.execute(
                "SELECT count(*) FROM pg_proc WHERE proowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
            )
            assert cursor.fetchone()[0] == 0
            # Ordinary tables: full row access, which the application needs.
            cursor.execute("UPDATE core_user SET last_login = now() WHERE username = 'admin'")
            assert cursor.rowcount == 1
            # The migration history is the owner's record: readable, not writable.
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("DELETE FROM django_migrations")
    finally:
        connection.close()


def test_the_owner_role_owns_the_schema_objects_and_is_no_superuser(deployed):
    connection = _as(deployed, "owner")
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            assert cursor.fetchone()[0] is False
            cursor.execute(
                "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relkind = 'r' AND pg_get_userbyid(c.relowner) <> current_user"
            )
            assert cursor.fetchone()[0] == 0
            # Even the owner cannot rewrite history through the trigger, and cannot switch it off by replica mode.
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("SET session_replication_role = replica")
    finally:
        connection.close()


def test_a_table_created_by_a_later_migration_is_usable_by_the_application(deployed):
    owner = _as(deployed, "owner")
    app = _as(deployed, "app")
    try:
        with owner.cursor() as cursor:
            cursor.execute(
                "CREATE TABLE core_later (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, v text)"
            )
        with app.cursor() as cursor:
            cursor.execute("INSERT INTO core_later (v) VALUES ('x') RETURNING id")
            assert cursor.fetchone()[0] == 1
            with pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cursor.execute("TRUNCATE core_later")
    finally:
        with owner.cursor() as cursor:
            cursor.execute("DROP TABLE core_later")
        owner.close()
        app.close()


def test_migrate_refuses_the_application_role_as_owner(scratch):
    env = {**scratch["env"], "MIGRATION_DATABASE_URL": scratch["env"]["DATABASE_URL"]}
    clean = {k: v for k, v in os.environ.items() if k not in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL")}
    result = subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "不能与 DATABASE_URL 的应用角色相同" in result.stderr
