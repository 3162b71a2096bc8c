"""Password rules (等保 2.0), every message in Chinese: length, similarity, common and numeric
passwords, complexity, and the last PASSWORD_HISTORY_COUNT passwords that cannot be reused.

Django's own validators are subclassed only for their messages: its Chinese catalogue lags behind
its English wording (the length message came out in English).
"""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib.auth import password_validation as pv
from django.contrib.auth.hashers import check_password
from django.core.exceptions import ValidationError
from django.utils import timezone


class MinimumLengthValidator(pv.MinimumLengthValidator):
    def get_error_message(self) -> str:
        return f"密码太短：至少需要{self.min_length}个字符。"

    def get_help_text(self) -> str:
        return f"密码至少{self.min_length}个字符。"


class UserAttributeSimilarityValidator(pv.UserAttributeSimilarityValidator):
    def get_error_message(self) -> str:
        return "密码与账号的%(verbose_name)s过于相似。"

    def get_help_text(self) -> str:
        return "密码不能与用户名、姓名等个人信息相似。"


class CommonPasswordValidator(pv.CommonPasswordValidator):
    def get_error_message(self) -> str:
        return "该密码过于常见，容易被猜到。"

    def get_help_text(self) -> str:
        return "不能使用常见密码。"


class NumericPasswordValidator(pv.NumericPasswordValidator):
    def get_error_message(self) -> str:
        return "密码不能全部是数字。"

    def get_help_text(self) -> str:
        return "密码不能全部是数字。"


class ComplexityValidator:
    CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")

    def validate(self, password: str, user=None) -> None:
        if sum(1 for pattern in self.CLASSES if re.search(pattern, password)) < 3:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、特殊符号中的三类。", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return "密码须至少包含大写字母、小写字母、数字、特殊符号中的三类。"


class HistoryValidator:
    """The new password must differ from the account's last PASSWORD_HISTORY_COUNT passwords (the
    current one included); `password_changed` records each new one and forgets the older ones."""

    def _recent_hashes(self, user) -> list[str]:
        from yunjian.core.models import PasswordHistory

        count = settings.PASSWORD_HISTORY_COUNT
        hashes = list(
            PasswordHistory.objects.filter(user_id=user.pk)
            .order_by("-created_at", "-id")
            .values_list("password", flat=True)[:count]
        )
        return hashes

    def validate(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        from yunjian.core.models import User

        current = User.objects.filter(pk=user.pk).values_list("password", flat=True).first()
        for encoded in [current, *self._recent_hashes(user)]:
            if encoded and check_password(password, encoded):
                raise ValidationError(
                    f"不能使用最近{settings.PASSWORD_HISTORY_COUNT}次用过的密码，请换一个新密码。",
                    code="password_reused",
                )

    def password_changed(self, password: str, user=None) -> None:
        if user is None or user.pk is None:
            return
        from yunjian.core.models import PasswordHistory, User

        now = timezone.now()
        PasswordHistory.objects.create(user_id=user.pk, password=user.password, created_at=now)
        keep = PasswordHistory.objects.filter(user_id=user.pk).order_by("-created_at", "-id")
        stale = list(keep.values_list("pk", flat=True)[settings.PASSWORD_HISTORY_COUNT :])
        if stale:
            PasswordHistory.objects.filter(pk__in=stale).delete()
        User.objects.filter(pk=user.pk).update(password_changed_at=now)
        user.password_changed_at = now

    def get_help_text(self) -> str:
        return f"不能使用最近{settings.PASSWORD_HISTORY_COUNT}次用过的密码。"
