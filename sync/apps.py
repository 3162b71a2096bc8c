from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "数据同步"

    def ready(self) -> None:
        from projects.hooks import submission_check
        from review.hooks import record_approved
        from sync.preflight import check_submission
        from sync.services import enqueue_on_approval

        # The transactional outbox: a final approval writes its outbox rows in its own transaction.
        record_approved.connect(enqueue_on_approval, dispatch_uid="sync.enqueue_on_approval")
        # The pre-flight: a record the platform would refuse is stopped at submission.
        submission_check.connect(check_submission, dispatch_uid="sync.check_submission")
