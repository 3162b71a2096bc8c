from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "projects"
    verbose_name = "工程项目数据"

    def ready(self) -> None:
        from projects import checks  # noqa: F401  (registers the registry check)
