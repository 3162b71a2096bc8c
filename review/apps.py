from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "review"
    verbose_name = "审核认定"

    def ready(self) -> None:
        from projects.hooks import correction_submitted, record_submitted
        from review.corrections import open_correction_task
        from review.services import open_first_task

        # A submission opens the first step's inbox row in the submission's transaction.
        record_submitted.connect(open_first_task, dispatch_uid="review.open_first_task")
        # A correction (更正) opens its first step's inbox row the same way.
        correction_submitted.connect(open_correction_task, dispatch_uid="review.open_correction_task")
