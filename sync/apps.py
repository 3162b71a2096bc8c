from django.apps import AppConfig


class SyncConfig(AppConfig):
    name = "sync"
    verbose_name = "数据同步"

    def ready(self) -> None:
        from projects.hooks import submission_check
        from review.hooks import level_raised, record_approved, record_corrected, record_revoked
        from sync.preflight import check_submission
        from sync.services import enqueue_new_version, enqueue_on_approval, enqueue_on_revocation

        # The transactional outbox: a final approval writes its outbox rows in its own transaction.
        record_approved.connect(enqueue_on_approval, dispatch_uid="sync.enqueue_on_approval")
        # A revocation queues the platform's withdrawal of the record the same way.
        record_revoked.connect(enqueue_on_revocation, dispatch_uid="sync.enqueue_on_revocation")
        # A raised level goes out as the record's next version.
        level_raised.connect(enqueue_new_version, dispatch_uid="sync.enqueue_new_version")
        # An approved correction (更正) goes out the same way: same record keys, next version.
        record_corrected.connect(enqueue_new_version, dispatch_uid="sync.enqueue_corrected_version")
        # The pre-flight: a record the platform would refuse is stopped at submission.
        submission_check.connect(check_submission, dispatch_uid="sync.check_submission")
