"""Create one of the three administrators' accounts (三员分立) from the server's shell, audited.

    python manage.py create_admin admin --role province_admin --full-name 林管理 --organization 11530000016683070X

There is no superuser (createsuperuser is refused): a new deployment creates its system, security and
audit administrators with this command. Each gets a temporary password, printed once, to be changed
at the first sign-in, where the second factor is enrolled too.
"""

from __future__ import annotations

import getpass
import os
import socket

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yunjian.core import accounts, audit
from yunjian.core.models import ADMIN_ROLES, AuditEntry, Organization, Role, User


class Command(BaseCommand):
    help = "创建系统管理员、安全管理员或审计管理员账号（三员分立；记入审计日志）"

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--role", required=True, choices=sorted(str(r) for r in ADMIN_ROLES))
        parser.add_argument("--full-name", required=True)
        parser.add_argument("--organization", default="", help="所属单位的统一社会信用代码（可选）")

    def handle(self, *args, username: str, role: str, full_name: str, organization: str, **options):
        org = None
        if organization:
            org = Organization.objects.filter(credit_code=organization.strip().upper()).first()
            if org is None:
                raise CommandError(f"统一社会信用代码为 {organization} 的单位不存在。")
        if User.objects.filter(username=username).exists():
            raise CommandError(f"账号 {username} 已存在。")
        password = accounts.temporary_password()
        user = User(
            username=username,
            full_name=full_name,
            organization=org,
            roles=User.encode_roles([role]),
            is_staff=role == Role.PROVINCE_ADMIN,
            must_change_password=True,
        )
        try:
            with transaction.atomic():
                user.set_password(password)
                user.full_clean()
                user.save()
                audit.record(
                    action=AuditEntry.Action.PERMISSION,
                    obj=user,
                    reason=f"创建{Role(role).label}账号（manage.py create_admin）",
                    data={"operator": f"{_os_user()}@{socket.gethostname()}"[:150], "role": role},
                )
        except ValidationError as error:
            raise CommandError("；".join(error.messages)) from None
        self.stdout.write(f"已创建{Role(role).label}账号 {username}。")
        self.stdout.write(f"临时密码（只显示这一次，首次登录须修改并绑定动态口令）：{password}")


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return os.environ.get("USER", "unknown")
