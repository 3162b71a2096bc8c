from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yunjian.core"
    label = "core"
    verbose_name = "基础信息与账号"

    def ready(self) -> None:
        from yunjian.core import signals  # noqa: F401  (connects the login audit receivers)
