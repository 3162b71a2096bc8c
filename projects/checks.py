"""`manage.py check` refuses a half-registered record kind (projects.workflow.registry_problems)."""

from django.core import checks


@checks.register()
def record_kinds(app_configs, **kwargs):
    from projects.workflow import registry_problems

    return [checks.Error(problem, id="projects.E001") for problem in registry_problems()]
