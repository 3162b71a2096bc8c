"""Fail early, with a clear message, when the database server does not answer.

`python -m yunjian.dbcheck --create` (used by `make run`) also creates the database DATABASE_URL names
when the server answers but has no such database yet, as on a fresh machine.
"""

import os
import sys

import dj_database_url
import psycopg2
from psycopg2 import sql

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yunjian"


def ensure_database(server, name: str) -> bool:
    """Create database `name` on the open server connection when it is not there; True if created."""
    server.autocommit = True
    with server.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is not None:
            return False
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return True


def ensure_bench_database(url: str) -> None:
    """For the benchmarks in bench/: refuse a database whose name lacks "bench" (they delete what they
    made), and create it when missing."""
    config = dj_database_url.parse(url)
    if "bench" not in config["NAME"]:
        raise SystemExit(f"refusing to run on database {config['NAME']!r}: its name must contain 'bench'")
    server = psycopg2.connect(
        dbname="postgres",
        user=config["USER"],
        password=config["PASSWORD"],
        host=config["HOST"],
        port=config["PORT"] or 5432,
    )
    try:
        ensure_database(server, config["NAME"])
    finally:
        server.close()


def main(argv: list[str] | None = None) -> int:
    create = "--create" in (sys.argv[1:] if argv is None else argv)
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        print(f"测试须在 PostgreSQL 上运行，DATABASE_URL 当前为 {config['ENGINE']}。", file=sys.stderr)
        return 2
    try:
        server = psycopg2.connect(
            dbname="postgres",
            user=config.get("USER") or "postgres",
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or "127.0.0.1",
            port=config.get("PORT") or 5432,
            connect_timeout=5,
        )
    except psycopg2.OperationalError as exc:
        print(
            "无法连接 PostgreSQL（cannot reach PostgreSQL）："
            f"{config.get('HOST')}:{config.get('PORT')} — {str(exc).strip()}\n"
            "请设置 DATABASE_URL=postgres://用户:密码@主机:端口/库名，或在本机 127.0.0.1:5432 启动 PostgreSQL，"
            "例如：sudo apt-get install postgresql && sudo pg_ctlcluster 15 main start\n"
            "(set DATABASE_URL, or start a local server on 127.0.0.1:5432 that accepts user postgres)",
            file=sys.stderr,
        )
        return 2
    try:
        name = config.get("NAME") or ""
        if create and name and ensure_database(server, name):
            print(f"已创建数据库 {name}（created database {name}）")
    except psycopg2.Error as exc:
        print(f"无法创建数据库 {name}（cannot create database {name}）：{str(exc).strip()}", file=sys.stderr)
        return 2
    finally:
        server.close()
    print(f"PostgreSQL OK: {config.get('HOST')}:{config.get('PORT')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
