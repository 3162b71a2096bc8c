from django.apps import AppConfig


class LoadsConfig(AppConfig):
    name = "loads"
    verbose_name = "存量数据导入"
