"""Password complexity (等保 2.0): at least three of four character classes."""

import re

from django.core.exceptions import ValidationError


class ComplexityValidator:
    CLASSES = (r"[a-z]", r"[A-Z]", r"\d", r"[^A-Za-z0-9]")

    def validate(self, password: str, user=None) -> None:
        if sum(1 for pattern in self.CLASSES if re.search(pattern, password)) < 3:
            raise ValidationError(
                "密码须至少包含大写字母、小写字母、数字、特殊符号中的三类。", code="password_too_simple"
            )

    def get_help_text(self) -> str:
        return "密码须至少包含大写字母、小写字母、数字、特殊符号中的三类。"
