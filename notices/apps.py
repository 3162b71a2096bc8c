from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "消息中心"

    def ready(self) -> None:
        from notices.services import on_record_decided
        from review.hooks import record_decided

        # A return or a final approval tells the enterer, in the decision's own transaction: the message
        # and its email job commit with the decision or not at all; the worker sends after the commit.
        record_decided.connect(on_record_decided, dispatch_uid="notices.on_record_decided")
