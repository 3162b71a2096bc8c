"""One-time activation links for accounts created by a roster import.

A new account has no usable password. The province admin hands its owner a link (Django's
password-reset token with its own salt, so a reset token is no activation token and back); the
owner sets a password that passes the validators, which changes the password hash the token was
made from: the link then no longer works. A link is valid for PASSWORD_RESET_TIMEOUT (3 days by
default); a fresh one can be generated from the list of accounts waiting for activation.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from yunjian.core import spreadsheets
from yunjian.core.models import Role, User


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "yunjian.review.roster.ActivationTokenGenerator"


activation_token = ActivationTokenGenerator()


def pending_accounts() -> QuerySet[User]:
    """Reviewer accounts that have never had a password: created by an import, not yet activated."""
    return User.objects.filter(
        roles__contains=f"|{Role.REVIEWER}|",
        password__startswith=UNUSABLE_PASSWORD_PREFIX,
        last_login__isnull=True,
    )


def is_pending(user: User) -> bool:
    return user.has_role(Role.REVIEWER) and not user.has_usable_password() and user.last_login is None


def activation_path(user: User) -> str:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    return reverse("roster:activate", kwargs={"uidb64": uid, "token": activation_token.make_token(user)})


def expires_at() -> datetime:
    return timezone.localtime() + timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


@dataclass(frozen=True)
class ActivationLine:
    username: str
    full_name: str
    organization: str
    phone: str
    link: str


def activation_lines(users, absolute) -> list[ActivationLine]:
    """`absolute` turns a path into a full URL (request.build_absolute_uri, or a base URL)."""
    return [
        ActivationLine(
            username=user.username,
            full_name=user.full_name,
            organization=user.organization.name if user.organization_id else "",
            phone=user.phone,
            link=absolute(activation_path(user)),
        )
        for user in users
        if is_pending(user)
    ]


def activation_workbook(lines: list[ActivationLine]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "账号激活"
    until = expires_at()
    sheet.append(
        [f"审核人员账号激活清单（链接{until:%Y-%m-%d %H:%M}前有效，每个链接只能使用一次，请单独发给本人）"]
    )
    sheet.append(["序号", "姓名", "用户名", "单位", "联系电话", "激活链接"])
    for number, line in enumerate(lines, 1):
        sheet.append([number, line.full_name, line.username, line.organization, line.phone, line.link])
    sheet["A1"].font = Font(bold=True)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for column, width in zip("ABCDEF", (6, 10, 16, 30, 16, 90), strict=True):
        sheet.column_dimensions[column].width = width
    for row in sheet.iter_rows(min_row=3):
        for cell in row:
            cell.alignment = Alignment(vertical="center")
            cell.number_format = "@"
    return spreadsheets.save(workbook)
