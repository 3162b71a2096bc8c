"""Hooks the records layer announces, for the layers above it to act on in the same transaction.

The records layer (projects) does not import the review or sync layers (docs/architecture.md);
they subscribe here in their AppConfig.ready(). Receivers run synchronously inside the caller's
transaction, and an exception in a receiver rolls the whole change back.
"""

from django.dispatch import Signal

# A record was submitted (record=, actor=): the review layer opens the first step's inbox row.
record_submitted = Signal()

# A record is about to be submitted (record=): receivers raise ValidationError keyed by the record's
# fields to refuse it. The sync layer checks it against the exchange's rules (sync.preflight), so a
# record that the platform would refuse is stopped before any reviewer sees it.
submission_check = Signal()

# 更正 (issue 18): a correction of an approved record was submitted (correction=, record=, actor=): the
# review layer opens the inbox row of its current step, marked as a correction, in this transaction.
correction_submitted = Signal()
