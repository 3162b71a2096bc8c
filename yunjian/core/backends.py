from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class OrganizationModelBackend(ModelBackend):
    """Load the user with their organization: every page's header shows it, so one query, not two."""

    def get_user(self, user_id):
        user = UserModel._default_manager.select_related("organization").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
