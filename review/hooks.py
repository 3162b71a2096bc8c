"""Hooks the review layer announces, for the layers above it (sync) to act on in the same transaction.

The review layer does not import the sync layer (docs/architecture.md); sync subscribes in its
AppConfig.ready(). Receivers run synchronously inside the approval's transaction: an exception
in one rolls the approval back, and what they write commits with it (the transactional outbox).
"""

from django.dispatch import Signal

# A record's final approval (record=, actor=): sync writes the outbox rows it makes due.
record_approved = Signal()

# A record's approval revoked (撤销认定; record=, revocation=, actor=): sync queues the revocation of what
# the platform holds of it, in the same transaction.
record_revoked = Signal()

# A record's 数据等级 raised after verification (提级; record=, actor=): sync queues the record's next
# version, carrying the new level, in the same transaction.
level_raised = Signal()

# 更正 approved (record=, correction=, actor=): the corrected record's next version; sync queues it as
# the next version of the record's rows the platform has, in the same transaction.
record_corrected = Signal()

# A correction's return or final approval (record=, correction=, actor=, approved=, reason=), after it
# is saved: the message centre tells whoever asked for the correction, in the same transaction.
correction_decided = Signal()

# Every decision, after the record and its task are saved (record=, actor=, approved=, reason=): the
# message centre (notices) writes the enterer's message and defers its email in the same transaction.
record_decided = Signal()

# Open steps newly found with nobody to perform them (无人审核; task_ids=), in the transaction that found
# them (a submission, a step opening, a roster change): the message centre tells the prefecture's
# liaisons and the province administrators (review.routing).
tasks_unroutable = Signal()

# Open steps pinned to a reviewer by a reassignment (assignee=, task_ids=, actor=): the message centre
# tells the new reviewer.
tasks_assigned = Signal()
