"""Audit entries name the review step by its key (projects.workflow.CHAINS), not its position.

The audit table is append-only (a trigger refuses UPDATE and DELETE); this one conversion of the
column's type and values runs with the trigger disabled, as the table's owner, and nothing else.
"""

from django.db import migrations, models

# The chains as they stood when steps were positions: kind → keys in order. A drawing review's
# chain depends on its path (pms: institution, then design division; platform: the roster).
KEYS = {
    "drawing_review:pms": ["institution_confirm", "division_verify"],
    "drawing_review:platform": ["local_drawing_review"],
    "addition_request": ["division_approve"],
    "permit": ["issuing_review"],
    "tender_contract": ["tender_review"],
    "completion": ["completion_review"],
    "specialty_info": ["specialty_review"],
}


def to_keys(apps, schema_editor):
    AuditEntry = apps.get_model("core", "AuditEntry")
    DrawingReview = apps.get_model("projects", "DrawingReview")
    rows = AuditEntry.objects.exclude(old_step=None)
    if not rows.exists():
        return
    paths = dict(DrawingReview.objects.values_list("id", "path"))
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:
        schema_editor.execute("ALTER TABLE core_auditentry DISABLE TRIGGER core_auditentry_no_update_delete")
    for entry in rows.iterator():
        chain = entry.object_type
        if chain == "drawing_review":
            path = paths.get(int(entry.object_id)) if entry.object_id.isdigit() else None
            chain = f"drawing_review:{path or 'pms'}"
        keys = KEYS.get(chain, [])
        key = keys[entry.old_step] if entry.old_step < len(keys) else str(entry.old_step)
        AuditEntry.objects.filter(pk=entry.pk).update(step=key)
    if postgres:
        schema_editor.execute("ALTER TABLE core_auditentry ENABLE TRIGGER core_auditentry_no_update_delete")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_divisions_zone_audit_guard"),
        ("projects", "0004_step_keys"),
    ]

    operations = [
        migrations.RenameField("auditentry", "step", "old_step"),
        migrations.AddField(
            model_name="auditentry",
            name="step",
            field=models.CharField(blank=True, default="", max_length=40, verbose_name="审核步骤"),
            preserve_default=False,
        ),
        migrations.RunPython(to_keys, migrations.RunPython.noop),
        migrations.RemoveField("auditentry", "old_step"),
    ]
