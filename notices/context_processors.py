"""The unread count in the header: one bounded query on the partial index notices_msg_unread (no
COUNT: the list pages' tests forbid it), shown as "99+" beyond 99; made only by a page that shows it
(base.html), not by the admin site's pages."""

from django.utils.functional import cached_property

from notices.models import Message

UNREAD_CAP = 99


class Unread:
    def __init__(self, user):
        self.user = user

    @cached_property
    def count(self) -> int:
        rows = Message.objects.filter(recipient=self.user, read_at__isnull=True).values_list("id", flat=True)
        return len(rows[: UNREAD_CAP + 1])

    @property
    def label(self) -> str:
        return f"{UNREAD_CAP}+" if self.count > UNREAD_CAP else str(self.count)


def unread(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread": Unread(user)}
