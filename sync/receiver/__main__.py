"""python -m sync.receiver serve|push — run the reference receiver, or push records to yunjian."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys

from sync import protocol

from .push import load_items, push
from .server import Receiver

SECRET_ENV = "YUNJIAN_SYNC_SECRET"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sync.receiver", description="省一体化平台参考接收端")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="运行参考接收端")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8001)
    serve.add_argument("--db", default=":memory:", help="SQLite 文件路径，或 :memory:")
    serve.add_argument(
        "--max-body",
        type=int,
        default=protocol.DEFAULT_MAX_BODY,
        help="请求体上限（字节）",
    )
    sender = commands.add_parser("push", help="向云建推送平台办理的记录")
    sender.add_argument("--to", required=True, help="云建接收地址")
    sender.add_argument("--file", required=True, help="记录列表（JSON）")
    sender.add_argument("--timeout", type=float, default=10)
    sender.add_argument(
        "--db",
        default=None,
        help="参考接收端的 SQLite 文件：推送前先把这些记录记入平台自己的数据库（平台持有自己办理的记录）",
    )
    for command in (serve, sender):
        command.add_argument(
            "--secret",
            default=os.environ.get(SECRET_ENV),
            help=f"签名密钥（默认取 {SECRET_ENV}）",
        )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    if not args.secret:
        parser.error(f"须提供 --secret 或设置环境变量 {SECRET_ENV}")
    if args.command == "serve":
        return _serve(args)
    return _push(args)


def _serve(args: argparse.Namespace) -> int:
    receiver = Receiver(
        secret=args.secret,
        db_path=args.db,
        host=args.host,
        port=args.port,
        max_body=args.max_body,
    )
    try:
        receiver.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        receiver.stop()
    return 0


def _push(args: argparse.Namespace) -> int:
    try:
        items = load_items(args.file)
        if args.db:
            _hold(args.db, items)
        status, payload = push(args.to, args.secret, items, timeout=args.timeout)
    except (OSError, ValueError, TypeError) as error:
        print(f"推送失败：{error}", file=sys.stderr)
        return 1
    print(json.dumps(payload, ensure_ascii=False, indent=2))
    return 0 if 200 <= status < 300 else 1


def _hold(db_path: str, items: list[protocol.Item]) -> None:
    """Record platform-originated items in the platform's own store, as if handled there."""
    from .store import Store

    store = Store(db_path)
    try:
        refused = [r for r in store.apply_batch(items) if r["status"] == protocol.REJECTED]
    finally:
        store.close()
    if refused:
        raise ValueError(f"平台自己的数据库拒收 {len(refused)} 条记录：{refused[0]['errors']}")


if __name__ == "__main__":
    sys.exit(main())
