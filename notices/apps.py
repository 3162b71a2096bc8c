from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "notices"
    verbose_name = "消息中心"

    def ready(self) -> None:
        from notices.services import (
            on_correction_decided,
            on_record_decided,
            on_tasks_assigned,
            on_tasks_unroutable,
        )
        from review.hooks import correction_decided, record_decided, tasks_assigned, tasks_unroutable

        # A return or a final approval tells the enterer, in the decision's own transaction: the message
        # and its email job commit with the decision or not at all; the worker sends after the commit.
        record_decided.connect(on_record_decided, dispatch_uid="notices.on_record_decided")
        correction_decided.connect(on_correction_decided, dispatch_uid="notices.on_correction_decided")
        # 无人审核 and reassignment (review.routing): the liaisons, the province and the new reviewer are
        # told in the transaction that found or moved the steps.
        tasks_unroutable.connect(on_tasks_unroutable, dispatch_uid="notices.on_tasks_unroutable")
        tasks_assigned.connect(on_tasks_assigned, dispatch_uid="notices.on_tasks_assigned")
