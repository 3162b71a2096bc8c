from django.contrib.auth import get_user_model
from django.contrib.auth.backends import BaseBackend, ModelBackend

UserModel = get_user_model()


class OrganizationModelBackend(ModelBackend):
    """Load the user with their organization: every page's header shows it, so one query, not two."""

    def get_user(self, user_id):
        user = UserModel._default_manager.select_related("organization").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None


class RolePermissionBackend(BaseBackend):
    """Model permissions follow the role, not a superuser flag: the system administrator may view and
    change the data-maintenance models (yunjian.core.admin_site) and nothing else. Object permissions
    (obj given) are django-guardian's, never granted here."""

    def has_perm(self, user_obj, perm, obj=None):
        from yunjian.core.admin_site import DATA_MAINTENANCE_MODELS
        from yunjian.core.models import Role

        if obj is not None or not user_obj.is_active or not user_obj.has_role(Role.PROVINCE_ADMIN):
            return False
        app_label, _, codename = perm.partition(".")
        if app_label not in DATA_MAINTENANCE_MODELS:
            return False
        models = DATA_MAINTENANCE_MODELS[app_label]
        if models is None:
            return True
        _action, _, model_name = codename.partition("_")
        return model_name in models

    def has_module_perms(self, user_obj, app_label):
        from yunjian.core.admin_site import DATA_MAINTENANCE_MODELS
        from yunjian.core.models import Role

        return (
            user_obj.is_active
            and user_obj.has_role(Role.PROVINCE_ADMIN)
            and app_label in DATA_MAINTENANCE_MODELS
        )
