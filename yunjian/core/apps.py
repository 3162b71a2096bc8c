from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class CoreConfig(AppConfig):
    name = "yunjian.core"
    label = "core"
    verbose_name = "基础信息与账号"

    def ready(self) -> None:
        from yunjian.core import checks, lookups, signals  # noqa: F401  (connects the audit receivers, the checks)

        lookups.register()  # field__any=values (yunjian.core.lookups)


class YunjianAdminConfig(admin_apps.AdminConfig):
    """Django's admin with yunjian's site: the system administrator's data-maintenance models only."""

    default = False  # CoreConfig is this module's default; this one is named in INSTALLED_APPS
    default_site = "yunjian.core.admin_site.YunjianAdminSite"
