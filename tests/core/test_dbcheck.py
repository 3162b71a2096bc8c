"""`make run` on a fresh machine: the server answers but has no database yet; dbcheck --create makes it."""

import uuid

import psycopg2
import pytest
from django.conf import settings

from yunjian import dbcheck


def _server(**extra):
    db = settings.DATABASES["default"]
    return {
        "user": db.get("USER") or "postgres",
        "password": db.get("PASSWORD") or None,
        "host": db.get("HOST") or "127.0.0.1",
        "port": db.get("PORT") or 5432,
        **extra,
    }


def _exists(name: str) -> bool:
    with psycopg2.connect(dbname="postgres", **_server()) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        return cursor.fetchone() is not None


@pytest.fixture
def fresh_name(monkeypatch):
    name = f"yj_dbcheck_{uuid.uuid4().hex[:8]}"
    s = _server()
    auth = f"{s['user']}:{s['password']}@" if s["password"] else f"{s['user']}@"
    monkeypatch.setenv("DATABASE_URL", f"postgres://{auth}{s['host']}:{s['port']}/{name}")
    yield name
    conn = psycopg2.connect(dbname="postgres", **_server())
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    conn.close()


def test_create_makes_the_missing_database_once(fresh_name, capsys):
    assert dbcheck.main([]) == 0
    assert not _exists(fresh_name)  # without --create only the server is checked
    assert dbcheck.main(["--create"]) == 0
    assert _exists(fresh_name)
    assert f"已创建数据库 {fresh_name}" in capsys.readouterr().out
    assert dbcheck.main(["--create"]) == 0  # there already: nothing to do
    assert "已创建" not in capsys.readouterr().out


def test_a_server_that_does_not_answer_is_named_in_chinese(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/yunjian")
    assert dbcheck.main(["--create"]) == 2
    assert "无法连接 PostgreSQL" in capsys.readouterr().err
