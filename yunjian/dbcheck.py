"""Fail early, with a clear message, when the test database server does not answer."""

import os
import sys

import dj_database_url
import psycopg2

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/yunjian"


def main() -> int:
    url = os.environ.get("DATABASE_URL", DEFAULT_URL)
    config = dj_database_url.parse(url)
    if config["ENGINE"] != "django.db.backends.postgresql":
        print(f"测试须在 PostgreSQL 上运行，DATABASE_URL 当前为 {config['ENGINE']}。", file=sys.stderr)
        return 2
    try:
        psycopg2.connect(
            dbname="postgres",
            user=config.get("USER") or "postgres",
            password=config.get("PASSWORD") or None,
            host=config.get("HOST") or "127.0.0.1",
            port=config.get("PORT") or 5432,
            connect_timeout=5,
        ).close()
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
    print(f"PostgreSQL OK: {config.get('HOST')}:{config.get('PORT')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
