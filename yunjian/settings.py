"""Settings for yunjian, read from the environment.

Every value a deployment must decide comes from an environment variable, read
through a typed helper that fails loudly on a malformed value. The README lists
them all. Only the demo (DEBUG on, no DATABASE_URL) runs with defaults.
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from yunjian.secretcheck import secret_problem

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
    if _problem := secret_problem("SECRET_KEY", SECRET_KEY, min_length=50):
        raise ImproperlyConfigured(_problem)

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    # The admin site is the system administrator's data-maintenance console only (三员分立):
    # yunjian.core.admin_site.YunjianAdminSite.
    "yunjian.core.apps.YunjianAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.forms",  # the built-in widget templates, for FORM_RENDERER below
    "django_htmx",
    "csp",
    "guardian",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    # The job queue (docs/architecture.md: 作业队列): before the apps whose tasks.py it discovers.
    "procrastinate.contrib.django",
    "yunjian.core",
    "projects",
    "review",
    "sync",
    "loads",
    "bulk",
    "notices",
    "enterprises",
    "boards",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "yunjian.core.middleware.RejectNulCharactersMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "yunjian.core.certificates.ClientCertificateMiddleware",
    "yunjian.core.middleware.IdleTimeoutMiddleware",
    "yunjian.core.middleware.SignInPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "yunjian.core.middleware.SecurityHeadersMiddleware",
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
                "yunjian.core.context_processors.session",
                "notices.context_processors.unread",
            ],
        },
    },
]

# Widgets render through the project's templates too (templates/projects/widgets/).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# PostgreSQL is the production database, the demo's (`make run` passes DATABASE_URL, else the local
# server) and the one the tests run on. Without DATABASE_URL, manage.py falls back to an SQLite file
# under var/ for quick checks; the job queue needs PostgreSQL (rundemo refuses SQLite).
VAR_DIR = Path(env_str("YUNJIAN_VAR_DIR", str(BASE_DIR / "var")))
_default_db = f"sqlite:///{VAR_DIR / 'yunjian.sqlite3'}"
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", _default_db),
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# Migrations run as the owner role (PostgreSQL); the application's DATABASE_URL role owns nothing
# (yunjian.core.dbroles; `manage.py db_roles` creates both). Empty: migrate as DATABASE_URL's user.
MIGRATION_DATABASE_URL = os.environ.get("MIGRATION_DATABASE_URL", "")
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


# The cache every server process shares (yunjian.core.cache): the per-address request limits and the
# public query's results. Default: a table in the project's database (migration core 0009). CACHE_URL
# overrides: "db://" (the default), "locmem://" (one process only: counts are per worker), or
# "redis://host:6379/0" (Django's Redis backend; needs the redis package installed).
def _caches(url: str) -> dict:
    if url in ("", "db://"):
        return {
            "BACKEND": "yunjian.core.cache.LockingDatabaseCache",
            "LOCATION": "yunjian_cache",
            # Culling deletes a third of the rows past MAX_ENTRIES: keep it far above the live request
            # counters so an address's count is never dropped mid-window.
            "OPTIONS": {"MAX_ENTRIES": 200_000},
        }
    if url.startswith("locmem://"):
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    if url.startswith(("redis://", "rediss://")):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    raise ImproperlyConfigured(f"CACHE_URL 无法识别（应为 db://、locmem:// 或 redis://…）: {url!r}")


CACHES = {"default": _caches(env_str("CACHE_URL", ""))}

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "yunjian.core.backends.OrganizationModelBackend",
    "yunjian.core.backends.RolePermissionBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "yunjian.core.passwords.UserAttributeSimilarityValidator"},
    {"NAME": "yunjian.core.passwords.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "yunjian.core.passwords.CommonPasswordValidator"},
    {"NAME": "yunjian.core.passwords.NumericPasswordValidator"},
    {"NAME": "yunjian.core.passwords.ComplexityValidator"},
    {"NAME": "yunjian.core.passwords.HistoryValidator"},
]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

# 等保 2.0 sign-in (yunjian.core.throttle, README): a (username, client address) pair is locked for
# 15 minutes after 5 failures; one address is refused after LOGIN_IP_FAILURE_LIMIT failures in the
# window whatever the usernames; one username after LOGIN_USERNAME_FAILURE_LIMIT failures from all
# addresses, except from an address the account has signed in from before, so nobody can lock an
# administrator out from elsewhere.
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# Attempts made while locked neither extend the lock nor count again (one audit entry per lock).
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_CLIENT_IP_CALLABLE = "yunjian.core.audit.client_ip"
AXES_LOCKOUT_TEMPLATE = "core/locked_out.html"
AXES_VERBOSE = False
# Locks are the security administrator's: not in the system administrator's admin site.
AXES_ENABLE_ADMIN = False
LOGIN_THROTTLE_WINDOW_SECONDS = env_int("LOGIN_THROTTLE_WINDOW_SECONDS", 15 * 60)
LOGIN_IP_FAILURE_LIMIT = env_int("LOGIN_IP_FAILURE_LIMIT", 30)
LOGIN_USERNAME_FAILURE_LIMIT = env_int("LOGIN_USERNAME_FAILURE_LIMIT", 20)
LOGIN_KNOWN_ADDRESS_DAYS = env_int("LOGIN_KNOWN_ADDRESS_DAYS", 90)
# Proxies in front of the app that append to X-Forwarded-For (0: the client is REMOTE_ADDR). The
# client address is taken that many hops from the right, so a client cannot forge it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# CA digital-certificate sign-in (deploy/nginx/): the reverse proxy verifies the client certificate and
# passes it in X-SSL-Client-* headers with this shared secret; the app believes those headers only when
# the secret matches (and, if CA_TRUSTED_PROXIES lists addresses, only from them). Empty: CA sign-in is
# off and the headers are always ignored (yunjian.core.certificates).
CA_PROXY_SECRET = env_str("CA_PROXY_SECRET", "")
CA_TRUSTED_PROXIES = env_list("CA_TRUSTED_PROXIES", "")
if (
    CA_PROXY_SECRET
    and not DEBUG
    and (_problem := secret_problem("CA_PROXY_SECRET", CA_PROXY_SECRET, min_length=32))
):
    raise ImproperlyConfigured(_problem)

# Two factors (TOTP, django-otp) for the three administrators and every reviewing role; enterprise
# users may opt in. On by default and in production; only the one-command demo turns it off.
OTP_REQUIRED = env_bool("OTP_REQUIRED", True)
OTP_TOTP_ISSUER = "yunjian"
OTP_BACKUP_CODE_COUNT = 10

# Password lifecycle: expiry, a warning before it, and the passwords that cannot be reused.
PASSWORD_MAX_AGE_DAYS = env_int("PASSWORD_MAX_AGE_DAYS", 90)
PASSWORD_EXPIRY_WARNING_DAYS = env_int("PASSWORD_EXPIRY_WARNING_DAYS", 14)
PASSWORD_HISTORY_COUNT = 5
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
# Per record and round (one draft): how many attachments, and how many bytes in all.
ATTACHMENT_MAX_FILES = env_int("ATTACHMENT_MAX_FILES", 20)
ATTACHMENT_MAX_TOTAL_BYTES = env_int("ATTACHMENT_MAX_TOTAL_MB", 100) * 1024 * 1024
ROSTER_MAX_BYTES = 10 * 1024 * 1024
# A bulk-entry workbook (bulk.forms): the spreadsheet reader's limit.
BULK_MAX_BYTES = 10 * 1024 * 1024
ROSTER_MAX_ROWS = 20_000

# Loads of the existing systems' exports (python manage.py load_records, /loads/; issue 13).
LOAD_MAX_BYTES = env_int("LOAD_MAX_BYTES", 500 * 1024 * 1024)  # CSV and JSON lines are streamed
LOAD_MAX_ROWS = env_int("LOAD_MAX_ROWS", 2_000_000)
LOAD_BATCH_SIZE = env_int("LOAD_BATCH_SIZE", 5000)
LOAD_LEASE_SECONDS = env_int("LOAD_LEASE_SECONDS", 120)  # a load whose process died is resumed after this
LOAD_POLL_SECONDS = env_int("LOAD_POLL_SECONDS", 2)

# The job queue (procrastinate, PostgreSQL only): each app's tasks.py is discovered; the worker is
# `manage.py procrastinate worker` (README: 作业队列). Finished jobs are kept this many days.
PROCRASTINATE_AUTODISCOVER_MODULE_NAME = "tasks"
JOB_RETENTION_DAYS = env_int("JOB_RETENTION_DAYS", 30)
# procrastinate's schema is PostgreSQL functions and triggers: not migrated on the SQLite fallback.
DATABASE_ROUTERS = ["yunjian.core.routers.QueueOnPostgresRouter"]

# Email (the message centre's sends; README: 消息与邮件). SMTP when EMAIL_HOST is set, else the console.
EMAIL_HOST = os.environ.get("EMAIL_HOST", "")
EMAIL_BACKEND = (
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend"
)
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "yunjian@localhost")
# The address the links in emails and SMS start with.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
# SMS: an optional HTTP hook (notices/sms.py), off when empty.
SMS_HOOK_URL = os.environ.get("SMS_HOOK_URL", "")
SMS_HOOK_TIMEOUT_SECONDS = env_int("SMS_HOOK_TIMEOUT_SECONDS", 10)

# Personal data (身份证号码) is encrypted at rest with these keys (Fernet: urlsafe base64 of 32 bytes),
# comma-separated, newest first: the first encrypts, every one decrypts (rotation: prepend a new key,
# run `manage.py rotate_keys`, then drop the old one). Production must set it: a key derived from
# SECRET_KEY (the demo's fallback) would make every stored ID number unreadable when SECRET_KEY changes.
FIELD_ENCRYPTION_KEY = os.environ.get("FIELD_ENCRYPTION_KEY", "")
FIELD_ENCRYPTION_KEYS = [key.strip() for key in FIELD_ENCRYPTION_KEY.split(",") if key.strip()]
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "生产环境须设置 FIELD_ENCRYPTION_KEY（身份证号码加密密钥），可用 python -c "
        '"from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())" 生成'
    )
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_key.encode())) != 32:
            raise ValueError
    except ValueError:
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY 中有无效的密钥：每个密钥应为 32 字节的 urlsafe base64（Fernet.generate_key()）"
        ) from None

# Sync with the integrated platform (省一体化平台).
SYNC_ENDPOINT = env_str("SYNC_ENDPOINT", "http://127.0.0.1:8001/exchange/")
SYNC_SECRET = env_str("SYNC_SECRET", "demo-shared-secret" if DEBUG else None)
SYNC_INBOUND_SECRET = env_str("SYNC_INBOUND_SECRET", SYNC_SECRET)
if not DEBUG:
    for _name, _value in (("SYNC_SECRET", SYNC_SECRET), ("SYNC_INBOUND_SECRET", SYNC_INBOUND_SECRET)):
        if _problem := secret_problem(_name, _value, min_length=32):
            raise ImproperlyConfigured(_problem)
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

# Content-Security-Policy (django-csp): scripts and styles from our own static files only, no inline
# script or event handler anywhere; images may be data: URIs (server-drawn QR codes).
SELF = "'self'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": ["'none'"],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": ["'none'"],
    }
}
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
    "filters": {
        "denials": {"()": "yunjian.core.logging.DenialFilter"},
        "redact": {"()": "yunjian.core.logging.RedactSecretsFilter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["redact"]}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "axes": {"level": "WARNING"},
        # 403s at INFO without a traceback (yunjian.core.logging.DenialFilter).
        "django.request": {"filters": ["denials", "redact"]},
        "django.server": {"filters": ["redact"]},
    },
}
