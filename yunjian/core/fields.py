"""Model fields for personal data."""

from __future__ import annotations

from django.db import models

from yunjian.core import crypto


class EncryptedIDNumberField(models.TextField):
    """A 身份证号码: plain text in Python, encrypted at rest (yunjian.core.crypto), masked on pages.

    Lookups by value do not work (every encryption differs); nothing needs them. Pages and round
    snapshots show it masked (projects.snapshots.display_value); only the exchange sends it whole.
    """

    def from_db_value(self, value, expression, connection):
        return crypto.decrypt(value) if value else ""

    def to_python(self, value):
        return "" if value is None else str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return crypto.encrypt(value) if value else ""

    def formfield(self, **kwargs):
        # A one-line text box, not the text area of a TextField.
        return models.Field.formfield(self, **{"max_length": 30, **kwargs})
