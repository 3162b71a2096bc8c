"""Settings for yunjian, read from the environment.

Every value a deployment must decide comes from an environment variable, read
through a typed helper that fails loudly on a malformed value. The README lists
them all. Only the demo (DEBUG on, no DATABASE_URL) runs with defaults.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str | None = None) -> str:
    value = os.environ.get(name, default)
    if value is None:
        raise ImproperlyConfigured(f"环境变量 {name} 未设置 (environment variable {name} is required)")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, got {raw!r}")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, got {raw!r}") from None


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)

if DEBUG:
    # A fixed key is fine for the local demo only; production must set its own.
    SECRET_KEY = env_str("SECRET_KEY", "insecure-demo-key-only-for-debug-runs-0123456789abcdef")
else:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "guardian",
    "axes",
    "yunjian.core",
    "projects",
    "review",
    "sync",
    "loads",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "yunjian.core.middleware.RejectNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yunjian.core.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yunjian.urls"
WSGI_APPLICATION = "yunjian.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "yunjian.core.context_processors.navigation",
            ],
        },
    },
]

# PostgreSQL is the production database and the one the tests run on. Without
# DATABASE_URL the demo falls back to an SQLite file under var/ so `make run`
# works on any machine.
VAR_DIR = Path(env_str("YUNJIAN_VAR_DIR", str(BASE_DIR / "var")))
_default_db = f"sqlite:///{VAR_DIR / 'yunjian.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "yunjian.core.backends.OrganizationModelBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "yunjian.core.passwords.ComplexityValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

# 等保 2.0: lockout after 5 failures for 15 minutes, idle timeout 30 minutes.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
# By account, not by IP: an office behind one NAT address must not lock out all its staff.
AXES_LOCKOUT_PARAMETERS = ["username"]
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
IDLE_TIMEOUT_SECONDS = env_int("IDLE_TIMEOUT_SECONDS", 30 * 60)
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True

GUARDIAN_RAISE_403 = False
ANONYMOUS_USER_NAME = None

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "var" / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("STORAGE_ROOT", str(VAR_DIR / "media")))
MEDIA_URL = "/media-not-served/"  # attachments are served only through access-checked views

# Uploads: attachments up to 20 MB, rosters up to 10 MB; anything larger streams to disk.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
ATTACHMENT_MAX_BYTES = 20 * 1024 * 1024
ROSTER_MAX_BYTES = 10 * 1024 * 1024
ROSTER_MAX_ROWS = 20_000

# Loads of the existing systems' exports (python manage.py load_records, /loads/; issue 13).
LOAD_MAX_BYTES = env_int("LOAD_MAX_BYTES", 500 * 1024 * 1024)  # CSV and JSON lines are streamed
LOAD_MAX_ROWS = env_int("LOAD_MAX_ROWS", 2_000_000)
LOAD_BATCH_SIZE = env_int("LOAD_BATCH_SIZE", 5000)
LOAD_LEASE_SECONDS = env_int("LOAD_LEASE_SECONDS", 120)  # a load whose process died is resumed after this
LOAD_POLL_SECONDS = env_int("LOAD_POLL_SECONDS", 2)

# Personal data (身份证号码) is encrypted at rest with this key (Fernet, urlsafe base64, 32 bytes).
# Without it, a key derived from SECRET_KEY is used; production should set its own and keep it apart.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")

# Sync with the integrated platform (省一体化平台).
SYNC_ENDPOINT = env_str("SYNC_ENDPOINT", "http://127.0.0.1:8001/exchange/")
SYNC_SECRET = env_str("SYNC_SECRET", "demo-shared-secret" if DEBUG else None)
SYNC_INBOUND_SECRET = env_str("SYNC_INBOUND_SECRET", SYNC_SECRET)
SYNC_BATCH_SIZE = env_int("SYNC_BATCH_SIZE", 200)
SYNC_MAX_ATTEMPTS = env_int("SYNC_MAX_ATTEMPTS", 8)
SYNC_TIMEOUT_SECONDS = env_int("SYNC_TIMEOUT_SECONDS", 10)
# A claimed batch belongs to its worker for this long; a killed worker's rows are re-sent after it.
SYNC_LEASE_SECONDS = env_int("SYNC_LEASE_SECONDS", max(60, 3 * SYNC_TIMEOUT_SECONDS))
if SYNC_LEASE_SECONDS <= SYNC_TIMEOUT_SECONDS:
    raise ImproperlyConfigured("SYNC_LEASE_SECONDS must be longer than SYNC_TIMEOUT_SECONDS")
# Retries: exponential backoff from the base, with jitter, capped; dead-lettered after SYNC_MAX_ATTEMPTS.
SYNC_RETRY_BASE_SECONDS = env_int("SYNC_RETRY_BASE_SECONDS", 30)
SYNC_RETRY_MAX_SECONDS = env_int("SYNC_RETRY_MAX_SECONDS", 6 * 60 * 60)
SYNC_POLL_SECONDS = env_int("SYNC_POLL_SECONDS", 2)
# Inbound endpoint (platform-originated records, notice 三).
SYNC_INBOUND_MAX_BODY = env_int("SYNC_INBOUND_MAX_BODY", 5 * 1024 * 1024)
SYNC_INBOUND_MAX_ITEMS = env_int("SYNC_INBOUND_MAX_ITEMS", 1000)
SYNC_MAX_SKEW_SECONDS = env_int("SYNC_MAX_SKEW_SECONDS", 300)
# The reference receiver's database in the demo (`rundemo` serves it; `load_demo` delivers to it).
SYNC_DEMO_RECEIVER_DB = env_str("SYNC_DEMO_RECEIVER_DB", str(VAR_DIR / "receiver.sqlite3"))

SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
