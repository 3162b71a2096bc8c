"""Recover a locked-out security administrator from the server's shell (audited).

    python manage.py break_glass security --reason "手机丢失，备用码用完（工单 2026-118）"

Lifts the account's login locks, removes its second factor and prints a temporary password that
must be changed at the next sign-in. Refuses any account that is not a security administrator: the
others are the security administrator's to reset in the app.
"""

from __future__ import annotations

import getpass
import os
import socket

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from yunjian.core import accounts


class Command(BaseCommand):
    help = "应急恢复被锁定的安全管理员账号（记入审计日志）"

    def add_arguments(self, parser):
        parser.add_argument("username", help="安全管理员的用户名")
        parser.add_argument("--reason", required=True, help="原因（记入审计日志）")

    def handle(self, *args, username: str, reason: str, **options):
        operator = f"{_os_user()}@{socket.gethostname()}"
        try:
            user, password = accounts.break_glass(username=username, reason=reason, operator=operator)
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.stdout.write(f"已恢复安全管理员账号 {user.username}：登录锁定已解除，动态口令已重置。")
        self.stdout.write(f"临时密码（只显示这一次，登录后须立即修改并重新绑定动态口令）：{password}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")
