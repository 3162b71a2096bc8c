"""Test settings: the base settings with faster hashing and a fixed secret.

The suite runs on PostgreSQL: DATABASE_URL, else the local server on 127.0.0.1:5432.
"""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/yunjian")

from yunjian.settings import *  # noqa: E402, F403
from yunjian.settings import VAR_DIR  # noqa: E402

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
MEDIA_ROOT = VAR_DIR / "test-media"
SYNC_DEMO_RECEIVER_DB = str(VAR_DIR / "test-receiver.sqlite3")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The test database is created and migrated by the test user; the two roles are tested on a scratch
# database of their own (tests/core/test_db_roles.py).
MIGRATION_DATABASE_URL = ""
