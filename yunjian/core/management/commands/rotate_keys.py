"""Re-encrypt every stored ID number under the newest FIELD_ENCRYPTION_KEY and recompute its digest."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from yunjian.core import audit, crypto
from yunjian.core.models import AuditEntry, User

BATCH = 500


class Command(BaseCommand):
    help = (
        "轮换身份证号码加密密钥：把新密钥放在 FIELD_ENCRYPTION_KEY 的最前面（逗号分隔，旧密钥保留在后），"
        "运行本命令后即可删除旧密钥。可重复执行。"
    )

    def handle(self, *args, **options):
        last_pk = 0
        rotated = 0
        while True:
            with transaction.atomic():
                users = list(
                    User.objects.select_for_update()
                    .filter(pk__gt=last_pk)
                    .exclude(id_number_encrypted="")
                    .order_by("pk")
                    .only("pk", "id_number_encrypted", "id_number_digest")[:BATCH]
                )
                if not users:
                    break
                for user in users:
                    try:
                        plain = crypto.decrypt(user.id_number_encrypted)
                        user.id_number_encrypted = crypto.rotate(user.id_number_encrypted)
                    except crypto.DecryptionError as exc:
                        raise CommandError(f"用户 #{user.pk}：{exc}") from None
                    user.id_number_digest = crypto.digest(plain)
                User.objects.bulk_update(users, ["id_number_encrypted", "id_number_digest"])
                rotated += len(users)
                last_pk = users[-1].pk
        audit.record(
            action=AuditEntry.Action.UPDATE,
            object_type="field_encryption",
            object_id="rotate_keys",
            reason=f"轮换身份证号码加密密钥：重新加密 {rotated} 条",
            data={"rotated": rotated},
        )
        self.stdout.write(f"已用最新密钥重新加密 {rotated} 个身份证号码。")
